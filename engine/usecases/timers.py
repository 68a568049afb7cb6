"""Firing due timers (statutory deadlines, 督办). Each case is its own transaction, fired exactly once.

Several workers may run at once, in several processes on several hosts. Each takes the next due case and locks
it in the transaction that fires it (PostgreSQL: `SELECT … ORDER BY next_timer_at LIMIT 1 FOR UPDATE SKIP
LOCKED`): a case one worker holds is skipped by the others, which take the next one instead of queueing behind
it, so the due cases are shared out rather than walked by every worker in the same order. What the lock returns
is the row as last committed: a case another worker fired meanwhile is no longer due and is not taken. Firing,
the task rows, the event and the new `next_timer_at` commit together; a worker killed before its commit leaves
the case as it was, locked by nobody, for the next worker. On SQLite writers queue on the database lock and the
same query takes the case no one has fired yet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from engine.agencies import case_settings
from engine.db.session import Work
from engine.db.tables import CaseEventRow, CaseRow
from engine.enums import CaseEventKind
from engine.services import Services
from engine.usecases.tasksync import sync_tasks
from engine.values import Clock


@dataclass(frozen=True)
class FiredTimers:
    case_number: str
    timers: tuple[str, ...]
    due_at: dt.datetime  # the moment the case's first timer came due
    fired_at: dt.datetime  # when this worker fired it (the event's time): lateness = fired_at - due_at


def run_timers(svc: Services, *, clock: Clock, batch: int = 100) -> list[FiredTimers]:
    """Fire the timers of up to `batch` due cases, one transaction each; [] when none is due (or every due
    case is held by someone else: a completion's write, another worker)."""
    results: list[FiredTimers] = []
    tried: set[int] = set()  # a case whose due timer fired nothing is not taken again in this round
    while len(tried) < batch:
        with svc.uow() as work:
            case = _next_due_case(work, clock(), tried)
            if case is None:
                break
            tried.add(case.id)
            fired = _fire(svc, work, case, clock)
            work.commit()
        if fired is not None:
            results.append(fired)
    return results


def next_timer_due(svc: Services) -> dt.datetime | None:
    """The earliest moment a waiting timer of any case comes due (None: no timer waits): when a worker wakes."""
    with svc.uow.read() as session:
        return session.scalar(select(func.min(CaseRow.next_timer_at)))


def prepare_to_fire(svc: Services) -> list[int]:
    """Parse, before any timer comes due, the models that the cases with a waiting timer run on; their ids.
    A process parses a model the first time it needs it (~0.3 s, more when several workers start on two cores at
    once): without this a new worker paid that inside the lateness of the first timer it fired."""
    with svc.uow.read() as session:
        ids = list(session.scalars(select(CaseRow.definition_id).where(CaseRow.next_timer_at.is_not(None))
                                   .distinct().order_by(CaseRow.definition_id)))
        for definition_id in ids:
            svc.definition(session, definition_id)
    return ids


def _next_due_case(work: Work, now: dt.datetime, tried: set[int]) -> CaseRow | None:
    query = select(CaseRow).where(CaseRow.next_timer_at.is_not(None), CaseRow.next_timer_at <= now)
    if tried:
        query = query.where(CaseRow.id.not_in(tried))
    return work.session.scalar(
        query.order_by(CaseRow.next_timer_at).limit(1).with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)  # the row as committed now, not as this session saw it
    )


def _fire(svc: Services, work: Work, case: CaseRow, clock: Clock) -> FiredTimers | None:
    from engine.spiff.instance import ProcessInstance

    session = work.session
    due_at = case.next_timer_at
    assert due_at is not None  # the query took a due case
    definition = svc.definition(session, case.definition_id)
    # The case's agency's settings, as its steps run with (engine/usecases/completion.py).
    instance = ProcessInstance.restore(definition, case.state, clock=clock,
                                       settings=case_settings(session, svc.settings, case.agency_code),
                                       calendar=svc.calendar)
    fired = instance.fire_due_timers()
    sync_tasks(session, case, instance, definition, clock)
    case.state = instance.serialize()
    if not fired:
        return None
    now = clock()
    session.add(CaseEventRow(case_id=case.id, kind=CaseEventKind.TIMER, task_id=None, spec_id=None, actor=None,
                             at=now, detail={"timers": list(fired), "due_at": due_at.isoformat()}))
    return FiredTimers(case.number, tuple(fired), due_at, now)
