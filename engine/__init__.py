"""casetrail's engine: the statutory procedure of a health-supervision case run from its BPMN model, with every
step authorised, checked against the law's gates and deadlines, signed, and committed in one transaction.

The use cases (`engine.usecases`, one function per action, each owning its transaction) take a command and the
`Services` built once per process (`engine.startup.build_services`); the CLI and the web app call them and render
what they return. Where each kind of rule lives, the import rules and the completion path: docs/architecture.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The public surface: what the edges (web/, the CLI's commands) may use. Everything else in the package is its
# inside and may change without notice; the import contract in pyproject.toml ("web uses the engine's public
# surface only") holds web to this list.
# Each name is imported when first used (PEP 562), so a command that needs only part of the engine does not pay
# for loading all of it (the signing and PDF libraries take seconds to import); the imports below state the
# surface for type checkers and the import-graph tools.
if TYPE_CHECKING:
    from engine.errors import (
        CasetrailError,
        ConfigurationError,
        Conflict,
        DatabaseUnavailable,
        DefinitionInvalid,
        EvidenceDamaged,
        EvidenceRefused,
        Forbidden,
        LegalGateRefused,
        NotFound,
        SigningError,
        ValidationError,
    )
    from engine.roles import all_roles
    from engine.rules.duties import DOCUMENT_WITHHELD, DOSSIER_WITHHELD, PANEL_ROLE
    from engine.rules.redaction import public_search_term, redact_public, redact_public_text
    from engine.seed import seed_demo
    from engine.services import Services
    from engine.startup import build_services
    from engine.usecases.audit import (
        current_tree_head,
        export_case,
        export_case_to,
        prove_log,
        verify_bundle_file,
        verify_cases,
    )
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
    from engine.usecases.evidence import (
        EvidenceCollected,
        collect_evidence,
        evidence_file,
        list_evidence,
        open_evidence,
        stage_evidence,
    )
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
    from engine.usecases.tasks import (
        assign_task,
        claim_task,
        complete_task,
        list_tasks,
        show_task,
        unclaim_task,
    )
    from engine.usecases.users import (
        account_history,
        add_user,
        change_password,
        deactivate_user,
        end_all_sessions,
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
        EvidenceFileView,
        OpenCase,
        StageEvidence,
        TaskView,
        UnclaimTask,
        UserView,
        fixed_clock,
        system_clock,
    )

_WHERE = {
    "account_history": "engine.usecases.users",
    "add_user": "engine.usecases.users",
    "AddUser": "engine.values",
    "all_roles": "engine.roles",
    "assign_task": "engine.usecases.tasks",
    "AssignTask": "engine.values",
    "blocked_signing_pins": "engine.usecases.signing_pins",
    "build_case_dossier": "engine.usecases.dossier",
    "build_services": "engine.startup",
    "calendar_coverage": "engine.usecases.schedules",
    "case_for_viewer": "engine.usecases.viewer",
    "CASE_STATUSES": "engine.usecases.cases",
    "CaseForViewer": "engine.usecases.viewer",
    "cases_page": "engine.usecases.cases",
    "CasetrailError": "engine.errors",
    "change_password": "engine.usecases.users",
    "ChangeAccount": "engine.values",
    "claim_task": "engine.usecases.tasks",
    "ClaimTask": "engine.values",
    "Clock": "engine.values",
    "collect_evidence": "engine.usecases.evidence",
    "complete_task": "engine.usecases.tasks",
    "CompleteTask": "engine.values",
    "ConfigurationError": "engine.errors",
    "Conflict": "engine.errors",
    "current_tree_head": "engine.usecases.audit",
    "dashboard": "engine.usecases.reports",
    "DatabaseUnavailable": "engine.errors",
    "deactivate_user": "engine.usecases.users",
    "DefinitionInvalid": "engine.errors",
    "DOCUMENT_WITHHELD": "engine.rules.duties",
    "DOSSIER_WITHHELD": "engine.rules.duties",
    "due_state": "engine.usecases.taskpage",
    "DUE_STATES": "engine.usecases.taskpage",
    "end_all_sessions": "engine.usecases.users",
    "end_session": "engine.usecases.sessions",
    "enter_holiday_schedule": "engine.usecases.schedules",
    "evidence_file": "engine.usecases.evidence",
    "EvidenceCollected": "engine.usecases.evidence",
    "EvidenceFileView": "engine.values",
    "EvidenceDamaged": "engine.errors",
    "EvidenceRefused": "engine.errors",
    "export_case": "engine.usecases.audit",
    "export_case_to": "engine.usecases.audit",
    "fixed_clock": "engine.values",
    "Forbidden": "engine.errors",
    "get_document": "engine.usecases.documents",
    "get_publication": "engine.usecases.publications",
    "get_user": "engine.usecases.users",
    "holiday_schedules": "engine.usecases.schedules",
    "intake_form_schema": "engine.usecases.definitions",
    "LegalGateRefused": "engine.errors",
    "list_cases": "engine.usecases.cases",
    "list_definitions": "engine.usecases.definitions",
    "list_evidence": "engine.usecases.evidence",
    "list_publications": "engine.usecases.publications",
    "list_tasks": "engine.usecases.tasks",
    "list_users": "engine.usecases.users",
    "log_in": "engine.usecases.logins",
    "LoginRefused": "engine.usecases.logins",
    "MAX_ID": "engine.values",
    "missing_schedules": "engine.usecases.schedules",
    "NotFound": "engine.errors",
    "open_case": "engine.usecases.cases",
    "open_evidence": "engine.usecases.evidence",
    "open_sessions": "engine.usecases.sessions",
    "OpenCase": "engine.values",
    "PANEL_ROLE": "engine.rules.duties",
    "parse_days": "engine.usecases.schedules",
    "prove_log": "engine.usecases.audit",
    "public_search_term": "engine.rules.redaction",
    "PublicationView": "engine.usecases.publications",
    "reactivate_user": "engine.usecases.users",
    "redact_public": "engine.rules.redaction",
    "redact_public_text": "engine.rules.redaction",
    "rekey_user": "engine.usecases.users",
    "RekeyUser": "engine.values",
    "resume_session": "engine.usecases.sessions",
    "revoke_user_key": "engine.usecases.users",
    "RevokeUserKey": "engine.values",
    "seed_demo": "engine.seed",
    "Services": "engine.services",
    "set_working_day_override": "engine.usecases.calendar",
    "show_task": "engine.usecases.tasks",
    "signing_certificates": "engine.usecases.users",
    "signing_pin": "engine.usecases.signing_pins",
    "SigningError": "engine.errors",
    "stage_evidence": "engine.usecases.evidence",
    "StageEvidence": "engine.values",
    "store_default_definition": "engine.usecases.definitions",
    "store_definition": "engine.usecases.definitions",
    "system_clock": "engine.values",
    "task_for_viewer": "engine.usecases.viewer",
    "task_page": "engine.usecases.taskpage",
    "TaskForViewer": "engine.usecases.viewer",
    "TaskView": "engine.values",
    "unblock_signing_pin": "engine.usecases.signing_pins",
    "unclaim_task": "engine.usecases.tasks",
    "UnclaimTask": "engine.values",
    "user_names": "engine.usecases.users",
    "UserView": "engine.values",
    "ValidationError": "engine.errors",
    "verify_bundle_file": "engine.usecases.audit",
    "verify_cases": "engine.usecases.audit",
    "working_day_changes": "engine.usecases.calendar",
    "working_day_overrides": "engine.usecases.calendar",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once: later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "account_history",
    "add_user",
    "AddUser",
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
    "ChangeAccount",
    "claim_task",
    "ClaimTask",
    "Clock",
    "collect_evidence",
    "complete_task",
    "CompleteTask",
    "ConfigurationError",
    "Conflict",
    "current_tree_head",
    "dashboard",
    "DatabaseUnavailable",
    "deactivate_user",
    "DefinitionInvalid",
    "DOCUMENT_WITHHELD",
    "DOSSIER_WITHHELD",
    "due_state",
    "DUE_STATES",
    "end_all_sessions",
    "end_session",
    "enter_holiday_schedule",
    "evidence_file",
    "EvidenceCollected",
    "EvidenceFileView",
    "EvidenceDamaged",
    "EvidenceRefused",
    "export_case",
    "export_case_to",
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
    "list_evidence",
    "list_publications",
    "list_tasks",
    "list_users",
    "log_in",
    "LoginRefused",
    "MAX_ID",
    "missing_schedules",
    "NotFound",
    "open_case",
    "open_evidence",
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
    "RekeyUser",
    "resume_session",
    "revoke_user_key",
    "RevokeUserKey",
    "seed_demo",
    "Services",
    "set_working_day_override",
    "show_task",
    "signing_certificates",
    "signing_pin",
    "SigningError",
    "stage_evidence",
    "StageEvidence",
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
