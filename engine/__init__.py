"""casetrail's engine: the statutory procedure of a health-supervision case run from its BPMN model, with every
step authorised, checked against the law's gates and deadlines, signed, and committed in one transaction.

The use cases (`engine.usecases`, one function per action, the only code that commits) take a command and the
`Services` built once per process (`engine.startup.build_services`); the CLI and the web app call them and render
what they return. Where each kind of rule lives, the import rules and the completion path: docs/architecture.md.
"""
