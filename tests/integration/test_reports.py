"""The heads' dashboard against a known set of cases, computed by the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from engine.demo import SCENARIOS, Played, play
from engine.errors import ValidationError
from engine.services import Services
from engine.usecases.reports import dashboard
from engine.usecases.tasks import list_tasks
from engine.values import FinesInMonth
from tests.conftest import at
from tests.dbtemplates import Template, starting_point
from tests.integration.conftest import READY


def _play_cases(svc: Services) -> dict[str, Played]:
    waiver = SCENARIOS["penalty_waiver"]
    steps = [s.spec_id for s in waiver.steps]
    clinic = dataclasses.replace(waiver, intake={"violation_type": "medical_unlicensed_practice"})
    return {
        # 20:00 on 30 September in Beijing: September by the agency's calendar and by UTC
        "refused": play(svc, SCENARIOS["not_accepted"], start=at("2026-09-30 20:00")),
        # 07:00 on 1 October in Beijing is still 30 September in UTC: October here; fined 200 on the spot
        "summary": play(svc, SCENARIOS["summary_penalty"], start=at("2026-10-01 07:00")),
        "waiting": play(svc, clinic, start=at("2026-10-02 09:00"), stop_before=0),
        # decided (fine 3000) and waiting to be served
        "decided": play(svc, waiver, start=at("2026-10-08 09:00"), stop_before=steps.index("serve_decision")),
    }


CASES = READY.then("four cases for the dashboard", _play_cases)  # played once per session, copied per test


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, cases=CASES)


@pytest.fixture
def cases(ready_svc, template_result) -> dict[str, Played]:
    return template_result


def test_the_dashboard_counts_cases_by_stage_violation_month_and_outcome(ready_svc, cases):
    data = dashboard(ready_svc, now=at("2026-10-08 09:30"))
    assert data.total_cases == 4
    assert data.open_cases == 2
    assert dict(data.open_by_stage) == {"acceptance": 1, cases["decided"].case.stage: 1}
    assert data.by_violation == (("public_place_unlicensed", 3), ("medical_unlicensed_practice", 1))
    assert data.by_month == (("2026-09", 1), ("2026-10", 3))
    assert data.by_outcome == (("open", 2), ("not_accepted", 1), ("summary_penalty", 1))
    assert data.fines_by_month == (FinesInMonth("2026-10", 2, 3200.0),)


def test_overdue_steps_are_the_open_ones_past_their_deadline_most_overdue_first(ready_svc, cases):
    open_tasks = list_tasks(ready_svc, limit=1000)
    with_deadline = sorted((t for t in open_tasks if t.due_at is not None), key=lambda t: t.due_at)
    assert len(with_deadline) >= 2
    before = dashboard(ready_svc, now=with_deadline[0].due_at - dt.timedelta(seconds=1))
    assert before.overdue_total == 0 and before.overdue == ()
    between = dashboard(ready_svc, now=with_deadline[0].due_at + dt.timedelta(seconds=1))
    assert [t.id for t in between.overdue] == [with_deadline[0].id]
    assert between.overdue_total == 1
    late = with_deadline[-1].due_at + dt.timedelta(days=1)
    every = dashboard(ready_svc, now=late)
    assert [t.id for t in every.overdue] == [t.id for t in with_deadline]
    capped = dashboard(ready_svc, now=late, overdue_shown=1)
    assert [t.id for t in capped.overdue] == [with_deadline[0].id]
    assert capped.overdue_total == len(with_deadline)


def test_an_empty_database_has_an_empty_dashboard(ready_svc):
    data = dashboard(ready_svc, now=at("2026-10-08 09:30"))
    assert (data.total_cases, data.open_cases, data.overdue_total) == (0, 0, 0)
    assert data.open_by_stage == data.by_violation == data.by_month == data.by_outcome == data.fines_by_month == ()


def test_a_clock_without_a_zone_is_refused(ready_svc):
    with pytest.raises(ValidationError):
        dashboard(ready_svc, now=dt.datetime(2026, 10, 8, 9, 30))
