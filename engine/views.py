"""Row → view conversions shared by the use cases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import CaseRow, TaskRow, TaskUserRow
from engine.values import TaskView


def task_view(session: Session, task: TaskRow, case: CaseRow, *, with_users: bool = True) -> TaskView:
    candidates: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    if with_users:
        users = session.execute(select(TaskUserRow.user_id, TaskUserRow.kind).where(TaskUserRow.task_id == task.id)).all()
        candidates = tuple(sorted(u for u, k in users if k == "candidate"))
        excluded = tuple(sorted(u for u, k in users if k == "excluded"))
    return TaskView(
        id=task.id, case_id=case.id, case_number=case.number, spec_id=task.spec_id, name=task.name,
        role=task.role, stage=task.stage, status=task.status, assignee=task.assignee, due_at=task.due_at,
        created_at=task.created_at, supervision=task.supervision, respondent=case.respondent,
        document=task.document, completed_by=task.completed_by, completed_at=task.completed_at,
        candidates=candidates, excluded=excluded, form_data=task.form_data,
    )
