"""A case as its page shows it — the case, every step, every 文书, the statutory clocks and the forms of the
steps done — read in one transaction.

The case page is the workbench's most requested page after the task list. Read piece by piece (show the
case, its history, its documents, its deadlines, its forms) it opened five transactions and read the case
row five times; here the case and its tasks are read once and every part is built from them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from engine.db.repositories import Cases
from engine.db.tables import CaseRow, TaskRow
from engine.enums import TaskStatus
from engine.services import Services
from engine.usecases.cases import case_view, deadlines_of, history_rows
from engine.usecases.documents import documents_of
from engine.usecases.signed import signed_history, signed_steps
from engine.values import CaseDeadline, CaseView, DocumentView, TaskView
from engine.views import task_view


@dataclass(frozen=True)
class CaseFile:
    case: CaseView
    history: tuple[TaskView, ...]  # as `case_history` orders it; the steps done as their records say
    documents: tuple[DocumentView, ...]
    deadlines: tuple[CaseDeadline, ...]  # as `case_deadlines` gives them at `now` (none without a `now`)
    form_schemas: dict[str, dict[str, Any] | None]  # by step (spec id), for every completed step with data


def case_file(svc: Services, ref: str | int, *, now: dt.datetime | None = None) -> CaseFile:
    """Everything the case page shows of case `ref` (id or number), one consistent read. NotFound if unknown.

    The steps done, the timeline and the case's list fields are read from the signed step records (one query
    for all of them), not from the copies in the task and event tables (engine/usecases/signed.py)."""
    with svc.uow.read() as session:
        return read_case_file(svc, session, ref, now=now)[0]


def read_case_file(svc: Services, session: Session, ref: str | int, *,
                   now: dt.datetime | None = None) -> tuple[CaseFile, CaseRow, list[TaskRow]]:
    """`case_file` inside the caller's read transaction, with the case's row and its task rows as read (what
    the viewer's duties read: engine/usecases/viewer.py)."""
    case = Cases(session).find(ref, with_state=False)
    definition = svc.definition(session, case.definition_id)
    rows = history_rows(session, case.id)
    steps = signed_steps(session, case.id)
    view = case_view(session, case, sha=definition.sha256, detail=True, tasks=rows, steps=steps,
                     calendar=svc.calendar)
    history = signed_history(steps, [task_view(session, t, case, with_users=False) for t in rows],
                             case_id=case.id, respondent=view.respondent)
    done = {t.spec_id for t in history if t.status == TaskStatus.COMPLETED and t.form_data}
    return CaseFile(
        case=view,
        history=history,
        documents=tuple(documents_of(session, case.id)),
        deadlines=tuple(deadlines_of(svc, session, case, history, now=now)) if now is not None else (),
        form_schemas={spec: definition.form_schema(spec) for spec in done},
    ), case, rows
