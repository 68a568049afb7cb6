"""Due soon and overdue (issue 15): the worker tells each open task's people once per kind.

A task is due soon within settings.json `notifications.due_soon_hours` of its deadline, overdue past it. Each
(task, kind) is told once whatever the number of workers or restarts: the notice's mark is inserted with the
notices in one transaction, and the mark's primary key refuses a second (engine/db/notice_tables.claim_marks).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, select

from engine.db.notice_tables import NoticeMarkRow, claim_marks
from engine.db.tables import TaskRow, TaskUserRow
from engine.enums import NoticeKind, TaskStatus
from engine.services import Services
from engine.usecases.notifications import Notice, deliver
from engine.values import Clock


@dataclass(frozen=True)
class DeadlineNotices:
    """How many tasks were told they are due soon, and overdue, in one scan; `notices`: inbox rows written."""

    due_soon: int
    overdue: int
    notices: int


def notify_deadlines(svc: Services, *, clock: Clock, batch: int = 500) -> DeadlineNotices:
    """Tell the people of open tasks whose deadline is near or past, once per task and kind: the holder, else
    those it is offered to (named, or the lane), never those separation of duties bars. One transaction."""
    now = clock()
    horizon = now + svc.settings.due_soon
    with svc.uow() as work:
        s = work.session
        found = [*_untold(s, NoticeKind.OVERDUE, TaskRow.sort_due <= now, batch),
                 *_untold(s, NoticeKind.DUE_SOON, and_(TaskRow.sort_due > now, TaskRow.sort_due <= horizon), batch)]
        claimed = claim_marks(s, [(row.id, kind.value) for kind, row in found], now)
        mine = [(kind, row) for kind, row in found if (row.id, kind.value) in claimed]
        named: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        if mine:
            for task_id, user_id, how in s.execute(select(TaskUserRow.task_id, TaskUserRow.user_id, TaskUserRow.kind)
                                                   .where(TaskUserRow.task_id.in_(sorted({r.id for _k, r in mine})))):
                named[task_id][how].add(user_id)
        notices = []
        for kind, row in mine:
            people = named[row.id]
            users = {row.assignee} if row.assignee else people["candidate"]
            notices.append(Notice(kind=kind, case_id=row.case_id, task_id=row.id, by=None, users=frozenset(users),
                                  roles=frozenset() if users else frozenset({row.role}),
                                  excluded=frozenset(people["excluded"]), agency=row.agency_code))
        written = deliver(s, notices, clock=clock)
        work.commit()
    return DeadlineNotices(due_soon=sum(1 for k, _r in mine if k is NoticeKind.DUE_SOON),
                           overdue=sum(1 for k, _r in mine if k is NoticeKind.OVERDUE), notices=written)


def _untold(s: Any, kind: NoticeKind, when: Any, batch: int) -> list[tuple[NoticeKind, Any]]:
    """Open tasks matching `when` without a `kind` mark yet, soonest deadline first (ix_tasks_open_due)."""
    told = exists().where(NoticeMarkRow.task_id == TaskRow.id, NoticeMarkRow.kind == kind.value)
    rows = s.execute(select(TaskRow.id, TaskRow.case_id, TaskRow.role, TaskRow.assignee, TaskRow.agency_code)
                     .where(TaskRow.status == TaskStatus.READY, when, ~told)
                     .order_by(TaskRow.sort_due, TaskRow.id).limit(batch)).all()
    return [(kind, row) for row in rows]


__all__ = ["DeadlineNotices", "notify_deadlines"]
