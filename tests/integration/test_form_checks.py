"""The form checks through the use cases: a past event dated in the future is refused against the use case's own
clock (the one injected), nothing written; the same data is taken once the clock has reached it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from engine.db.tables import CaseRow
from engine.demo_users import DEMO_PIN
from engine.errors import ValidationError
from engine.spiff.driving import intake_data, sample_form_data
from engine.usecases.cases import open_case
from engine.usecases.tasks import complete_task, show_task
from engine.values import CompleteTask, OpenCase, fixed_clock
from tests.conftest import at
from tests.integration.conftest import task_at

NOW = at("2026-09-14 09:00")
FUTURE = "不能晚于当前时间（所记录的事已经发生） (Cannot be later than now: it records something that has happened)"


def _cases(svc) -> int:
    with svc.uow.read() as session:
        return session.scalar(select(func.count()).select_from(CaseRow))


def _register(svc, received_at: str, now: dt.datetime):
    data = intake_data({"received_at": received_at}, now=NOW)
    return open_case(OpenCase(user_id="clerk", data=data, pin=DEMO_PIN), svc=svc, clock=fixed_clock(now))


def test_a_registration_time_after_the_clock_is_refused_and_nothing_is_written(ready_svc):
    before = _cases(ready_svc)
    for received_at in ("2030-01-01T09:00:00+08:00", "2026-09-15T09:00:00+08:00"):
        with pytest.raises(ValidationError) as err:
            _register(ready_svc, received_at, NOW)
        assert err.value.errors == {"received_at": FUTURE}
    assert _cases(ready_svc) == before
    # the same registration time once the use case's clock has reached it
    case = _register(ready_svc, "2026-09-15T09:00:00+08:00", at("2026-09-15 09:00"))
    assert case.number and _cases(ready_svc) == before + 1


def test_the_tolerance_of_settings_json_is_the_limit(ready_svc):
    tolerance = ready_svc.settings.form_clock_tolerance
    assert tolerance == dt.timedelta(minutes=5)  # workflows/settings.json forms.clock_tolerance_minutes
    local = NOW.astimezone(ready_svc.settings.zone)
    _register(ready_svc, (local + tolerance).isoformat(), NOW)
    with pytest.raises(ValidationError):
        _register(ready_svc, (local + tolerance + dt.timedelta(seconds=1)).isoformat(), NOW)


def test_a_step_dated_in_the_future_is_refused_and_the_task_stays_open(ready_svc):
    _case, task = task_at(ready_svc, "penalty_waiver", "onsite_inspection", start=NOW)
    moment = at("2026-09-20 10:00")
    tomorrow = (moment + dt.timedelta(days=1)).astimezone(ready_svc.settings.zone).isoformat()
    data = sample_form_data(task.form_schema, {"inspected_at": tomorrow}, now=moment)
    with pytest.raises(ValidationError) as err:
        complete_task(CompleteTask(task_id=task.id, user_id=task.assignee or "officer1", data=data, pin=DEMO_PIN),
                      svc=ready_svc, clock=fixed_clock(moment))
    assert err.value.errors["inspected_at"] == FUTURE  # (its end, sampled before it, is refused too)
    assert show_task(ready_svc, task.id).status == "ready"
