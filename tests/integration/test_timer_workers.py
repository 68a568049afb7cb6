"""Timers fired by several workers at once (SQLite and PostgreSQL): each due timer exactly once, whichever worker
takes it; a case held by a step being written is skipped, not waited for, and fired once it is free."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select, text

from engine.db.tables import CaseEventRow, CaseRow
from engine.demo import INTAKE_USER
from engine.demo_users import DEMO_PIN
from engine.enums import CaseEventKind
from engine.rules.deadlines import warn_at
from engine.services import Services
from engine.spiff.driving import intake_data
from engine.usecases.cases import open_case
from engine.usecases.timers import FiredTimers, next_timer_due, prepare_to_fire, run_timers
from engine.values import OpenCase, fixed_clock
from tests.conftest import at
from tests.integration.test_cross_process import fresh

OPENED = at("2026-09-14 09:00")  # a Monday


def open_cases(svc: Services, count: int) -> tuple[list[str], dt.datetime]:
    """`count` complaints received now: their 受理审查 is warned of (督办) at one moment; the cases and it."""
    numbers = [open_case(OpenCase(user_id=INTAKE_USER, data=intake_data(now=OPENED + dt.timedelta(minutes=i)),
                                  pin=DEMO_PIN), svc=svc, clock=fixed_clock(OPENED + dt.timedelta(minutes=i))).number
               for i in range(count)]
    return numbers, warn_at("acceptance_review", OPENED, svc.settings, svc.calendar)


def timer_events(svc: Services) -> dict[str, list[list[str]]]:
    """{case number: [timers fired, per TIMER event]}."""
    with svc.uow.read() as session:
        rows = session.execute(select(CaseRow.number, CaseEventRow.detail).join(CaseRow, CaseRow.id == CaseEventRow.case_id)
                               .where(CaseEventRow.kind == CaseEventKind.TIMER)).all()
    out: dict[str, list[list[str]]] = {}
    for number, detail in rows:
        out.setdefault(number, []).append(detail["timers"])
    return out


def test_three_workers_racing_fire_every_due_timer_exactly_once(ready_svc):
    numbers, due = open_cases(ready_svc, 6)
    assert next_timer_due(ready_svc) == due
    assert run_timers(ready_svc, clock=fixed_clock(due - dt.timedelta(seconds=1))) == []  # not yet due
    fired: list[list[FiredTimers]] = [[] for _ in range(3)]
    start = threading.Barrier(3)

    def work(index: int) -> None:
        svc = fresh(ready_svc)  # a process of its own: its own connections
        start.wait()
        fired[index].extend(run_timers(svc, clock=fixed_clock(due + dt.timedelta(seconds=1)), batch=2))
        fired[index].extend(run_timers(svc, clock=fixed_clock(due + dt.timedelta(seconds=2))))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    taken = [f.case_number for worker in fired for f in worker]
    assert sorted(taken) == sorted(numbers)  # every case once, by one worker or another
    assert all(f.due_at == due and f.fired_at > due for worker in fired for f in worker)
    events = timer_events(ready_svc)
    assert {n: len(e) for n, e in events.items()} == dict.fromkeys(numbers, 1)
    assert {tuple(e[0]) for e in events.values()} == {("warn_acceptance_review",)}
    assert run_timers(ready_svc, clock=fixed_clock(due + dt.timedelta(seconds=3))) == []  # nothing fires twice
    assert next_timer_due(ready_svc) is None or next_timer_due(ready_svc) > due


def test_a_case_held_by_a_write_is_skipped_and_fired_once_free(ready_svc, db_backend):
    if db_backend != "postgres":
        pytest.skip("row locks: SQLite has one lock for the whole database")
    numbers, due = open_cases(ready_svc, 3)
    later = fixed_clock(due + dt.timedelta(seconds=1))
    holder = fresh(ready_svc).engine.connect()
    try:
        holder.execute(text("SELECT id FROM cases WHERE number = :n FOR UPDATE"), {"n": numbers[0]})
        first = run_timers(ready_svc, clock=later)  # returns at once: it does not queue behind the lock
        assert sorted(f.case_number for f in first) == sorted(numbers[1:])
    finally:
        holder.rollback()
        holder.close()
    assert [f.case_number for f in run_timers(ready_svc, clock=later)] == [numbers[0]]
    assert {n: len(e) for n, e in timer_events(ready_svc).items()} == dict.fromkeys(numbers, 1)


def test_a_worker_parses_the_models_of_waiting_timers_before_they_come_due(ready_svc):
    numbers, due = open_cases(ready_svc, 2)
    worker = fresh(ready_svc)  # a new `casetrail worker` process: nothing parsed yet
    assert worker._definitions == {}
    with worker.uow.read() as session:
        waiting = set(session.scalars(select(CaseRow.definition_id).where(CaseRow.number.in_(numbers))))
    assert prepare_to_fire(worker) == sorted(waiting)
    assert set(worker._definitions) == waiting
    assert run_timers(worker, clock=fixed_clock(due - dt.timedelta(seconds=1))) == []  # and nothing fired by it
