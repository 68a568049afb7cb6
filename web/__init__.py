"""The Flask workbench (web/app.py builds it) and the `casetrail` console script (web/cli.py).

Nothing is imported here: every `casetrail` command imports this package on its way to web/cli.py, and only
`serve` and `demo` need the web stack (Flask alone costs ~0.2 s of each command's start).
"""
