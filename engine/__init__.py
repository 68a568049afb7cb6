"""casetrail's engine: the statutory procedure of a health-supervision case run from its BPMN model, with every
step authorised, checked against the law's gates and deadlines, signed, and committed in one transaction.

The use cases (`engine.usecases`, one function per action, the only code that commits) take a command and the
`Services` built once per process (`engine.startup.build_services`); the CLI and the web app call them and render
what they return. Where each kind of rule lives, the import rules and the completion path: docs/architecture.md.
"""

# The public surface: what the edges (web/, the CLI's commands) may use. Everything else in the package is its
# inside and may change without notice; the import contract in pyproject.toml ("The edges use the engine's
# public surface") holds web to this list.
from engine.errors import (
    CasetrailError,
    ConfigurationError,
    Conflict,
    DatabaseUnavailable,
    DefinitionInvalid,
    Forbidden,
    LegalGateRefused,
    NotFound,
    SigningError,
    ValidationError,
)
from engine.roles import all_roles
from engine.rules.duties import PANEL_ROLE
from engine.rules.redaction import public_search_term, redact_public, redact_public_text
from engine.seed import seed_demo
from engine.services import Services
from engine.startup import build_services
from engine.usecases.audit import current_tree_head, export_case, prove_log, verify_bundle_file, verify_cases
from engine.usecases.calendar import set_working_day_override, working_day_changes, working_day_overrides
from engine.usecases.cases import CASE_STATUSES, cases_page, list_cases, open_case
from engine.usecases.definitions import (
    intake_form_schema,
    list_definitions,
    store_default_definition,
    store_definition,
)
from engine.usecases.documents import get_document
from engine.usecases.dossier import build_case_dossier
from engine.usecases.logins import LoginRefused, log_in
from engine.usecases.publications import PublicationView, get_publication, list_publications
from engine.usecases.reports import dashboard
from engine.usecases.schedules import (
    calendar_coverage,
    enter_holiday_schedule,
    holiday_schedules,
    missing_schedules,
    parse_days,
)
from engine.usecases.sessions import end_session, open_sessions, resume_session
from engine.usecases.signing_pins import blocked_signing_pins, signing_pin, unblock_signing_pin
from engine.usecases.taskpage import DUE_STATES, due_state, task_page
from engine.usecases.tasks import assign_task, claim_task, complete_task, list_tasks, show_task, unclaim_task
from engine.usecases.users import (
    account_history,
    add_user,
    change_password,
    deactivate_user,
    get_user,
    list_users,
    reactivate_user,
    rekey_user,
    revoke_user_key,
    signing_certificates,
    user_names,
)
from engine.usecases.viewer import CaseForViewer, TaskForViewer, case_for_viewer, task_for_viewer
from engine.values import (
    MAX_ID,
    AssignTask,
    ClaimTask,
    Clock,
    CompleteTask,
    OpenCase,
    TaskView,
    UnclaimTask,
    UserView,
    fixed_clock,
    system_clock,
)

__all__ = [
    "account_history",
    "add_user",
    "all_roles",
    "assign_task",
    "AssignTask",
    "blocked_signing_pins",
    "build_case_dossier",
    "build_services",
    "calendar_coverage",
    "case_for_viewer",
    "CASE_STATUSES",
    "CaseForViewer",
    "cases_page",
    "CasetrailError",
    "change_password",
    "claim_task",
    "ClaimTask",
    "Clock",
    "complete_task",
    "CompleteTask",
    "ConfigurationError",
    "Conflict",
    "current_tree_head",
    "dashboard",
    "DatabaseUnavailable",
    "deactivate_user",
    "DefinitionInvalid",
    "due_state",
    "DUE_STATES",
    "end_session",
    "enter_holiday_schedule",
    "export_case",
    "fixed_clock",
    "Forbidden",
    "get_document",
    "get_publication",
    "get_user",
    "holiday_schedules",
    "intake_form_schema",
    "LegalGateRefused",
    "list_cases",
    "list_definitions",
    "list_publications",
    "list_tasks",
    "list_users",
    "log_in",
    "LoginRefused",
    "MAX_ID",
    "missing_schedules",
    "NotFound",
    "open_case",
    "open_sessions",
    "OpenCase",
    "PANEL_ROLE",
    "parse_days",
    "prove_log",
    "public_search_term",
    "PublicationView",
    "reactivate_user",
    "redact_public",
    "redact_public_text",
    "rekey_user",
    "resume_session",
    "revoke_user_key",
    "seed_demo",
    "Services",
    "set_working_day_override",
    "show_task",
    "signing_certificates",
    "signing_pin",
    "SigningError",
    "store_default_definition",
    "store_definition",
    "system_clock",
    "task_for_viewer",
    "task_page",
    "TaskForViewer",
    "TaskView",
    "unblock_signing_pin",
    "unclaim_task",
    "UnclaimTask",
    "user_names",
    "UserView",
    "ValidationError",
    "verify_bundle_file",
    "verify_cases",
    "working_day_changes",
    "working_day_overrides",
]
