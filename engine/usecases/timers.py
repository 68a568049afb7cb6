"""Firing due timers (statutory deadlines, 督办). Each case is its own transaction.

Several workers may run at once: on PostgreSQL a case being handled by one is skipped by the others
(SELECT … FOR UPDATE SKIP LOCKED); on SQLite writers queue on the database lock.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from engine.db.tables import CaseEventRow, CaseRow
from engine.enums import CaseEventKind
from engine.services import Services
from engine.usecases.tasksync import sync_tasks
from engine.values import Clock


@dataclass(frozen=True)
class FiredTimers:
    case_number: str
    timers: tuple[str, ...]


def run_timers(svc: Services, *, clock: Clock, batch: int = 100) -> list[FiredTimers]:
    from engine.spiff.instance import ProcessInstance

    now = clock()
    with svc.uow.read() as session:
        due_ids = list(session.scalars(
            select(CaseRow.id).where(CaseRow.next_timer_at.is_not(None), CaseRow.next_timer_at <= now)
            .order_by(CaseRow.next_timer_at).limit(batch)
        ))
    results: list[FiredTimers] = []
    for case_id in due_ids:
        with svc.uow() as work:
            session = work.session
            case = session.scalar(
                select(CaseRow).where(CaseRow.id == case_id).with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            )
            if case is None or case.next_timer_at is None or case.next_timer_at > now:
                continue  # another worker took it, or it moved on
            definition = svc.definition(session, case.definition_id)
            instance = ProcessInstance.restore(definition, case.state, clock=clock, settings=svc.settings,
                                               calendar=svc.calendar)
            fired = instance.fire_due_timers()
            sync_tasks(session, case, instance, definition, clock)
            case.state = instance.serialize()
            if fired:
                session.add(CaseEventRow(case_id=case.id, kind=CaseEventKind.TIMER, task_id=None, spec_id=None, actor=None,
                                         at=now, detail={"timers": list(fired)}))
                results.append(FiredTimers(case.number, tuple(fired)))
            work.commit()
    return results
