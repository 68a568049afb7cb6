"""Due soon and overdue: the worker tells an open task's people once per kind, however often and however many
workers scan."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import select

from engine.db.notice_tables import NotificationRow
from engine.demo import SCENARIOS, play
from engine.services import Services
from engine.usecases.deadline_notices import notify_deadlines
from engine.usecases.tasks import list_tasks
from engine.values import fixed_clock
from tests.conftest import at

START = at("2026-09-14 09:00")


def _told(svc: Services, task_id: str) -> list[tuple[str, str]]:
    with svc.uow.read() as s:
        return [tuple(r) for r in s.execute(select(NotificationRow.kind, NotificationRow.recipient)
                                            .where(NotificationRow.task_id == task_id)
                                            .where(NotificationRow.kind.in_(["due_soon", "overdue"]))
                                            .order_by(NotificationRow.id))]


def _open_task(svc: Services) -> tuple[str, dt.datetime]:
    case = play(svc, SCENARIOS["summary_penalty"], start=START, stop_before=0).case
    task = next(t for t in list_tasks(svc, case=case.number))
    assert task.due_at is not None
    return task.id, task.due_at


def test_a_task_is_told_due_soon_then_overdue_each_once(ready_svc: Services) -> None:
    task_id, due = _open_task(ready_svc)
    horizon = ready_svc.settings.due_soon
    assert notify_deadlines(ready_svc, clock=fixed_clock(due - horizon - dt.timedelta(minutes=1))).due_soon == 0
    assert _told(ready_svc, task_id) == []
    soon = notify_deadlines(ready_svc, clock=fixed_clock(due - horizon + dt.timedelta(minutes=1)))
    assert (soon.due_soon, soon.overdue, soon.notices) == (1, 0, 2)
    assert _told(ready_svc, task_id) == [("due_soon", "head"), ("due_soon", "head2")]  # offered to the lane
    assert notify_deadlines(ready_svc, clock=fixed_clock(due - dt.timedelta(minutes=1))).notices == 0
    late = notify_deadlines(ready_svc, clock=fixed_clock(due + dt.timedelta(minutes=1)))
    assert (late.due_soon, late.overdue) == (0, 1)
    assert notify_deadlines(ready_svc, clock=fixed_clock(due + dt.timedelta(days=3))).notices == 0
    assert _told(ready_svc, task_id) == [("due_soon", "head"), ("due_soon", "head2"), ("overdue", "head"),
                                         ("overdue", "head2")]


def test_workers_scanning_at_once_tell_an_overdue_task_once(ready_svc: Services) -> None:
    task_id, due = _open_task(ready_svc)
    clock = fixed_clock(due + dt.timedelta(hours=1))
    start = threading.Barrier(4)
    results: list[int] = []

    def scan() -> None:
        start.wait()
        results.append(notify_deadlines(ready_svc, clock=clock).overdue)

    workers = [threading.Thread(target=scan) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(results) == [0, 0, 0, 1]
    assert _told(ready_svc, task_id) == [("overdue", "head"), ("overdue", "head2")]
