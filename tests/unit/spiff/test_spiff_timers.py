"""Statutory deadlines as timers on the engine's clock, around the 2026 National Day holiday."""

from __future__ import annotations

import datetime as dt

from engine.spiff.clocks import MutableClock
from engine.spiff.driving import intake_data
from engine.spiff.instance import ProcessInstance
from engine.spiff.scenarios import SCENARIOS, run_scenario

BEIJING = dt.timezone(dt.timedelta(hours=8))


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=BEIJING)


def _open(definition, settings, calendar, moment):
    clock = MutableClock(moment)
    instance = ProcessInstance.start(definition, intake_data(now=moment), clock=clock, settings=settings,
                                     calendar=calendar)
    return instance, clock


def test_supervision_task_raised_when_acceptance_is_soon_due(definition, settings, calendar):
    # Registered Mon 2026-09-28. 7 working days: 9/29, 9/30, 10/8, 10/9, 10/10 (调休 Saturday), 10/12, 10/13.
    instance, clock = _open(definition, settings, calendar, _at("2026-09-28T10:00:00"))
    review = instance.ready_user_tasks()[0]
    assert review.spec_id == "acceptance_review"
    assert review.due == _at("2026-10-13T23:59:59")
    # warn 2 working days before: the make-up Saturday 10/10
    assert instance.next_timer_due() == _at("2026-10-10T00:00:00")
    clock.advance_to(_at("2026-10-09T18:00:00"))
    assert instance.fire_due_timers() == []
    clock.advance_to(_at("2026-10-10T08:00:00"))
    assert instance.fire_due_timers() == ["warn_acceptance_review"]
    ready = {t.spec_id: t for t in instance.ready_user_tasks()}
    assert set(ready) == {"acceptance_review", "supervise_acceptance_review"}  # non-interrupting
    assert ready["supervise_acceptance_review"].role == "head"
    assert definition.task_meta("supervise_acceptance_review").supervision
    assert instance.stage == "acceptance"


def test_timers_read_the_engine_clock_not_the_wall_clock(definition, settings, calendar):
    # The wall clock may be anywhere; a case whose clock says 2026-01 must not fire a deadline in 2026-01-14.
    instance, _ = _open(definition, settings, calendar, _at("2026-01-05T09:00:00"))
    assert instance.fire_due_timers() == []
    assert [t.spec_id for t in instance.ready_user_tasks()] == ["acceptance_review"]


def test_completing_the_guarded_step_cancels_its_warning(definition, settings, calendar, start):
    scenario = SCENARIOS["not_filed"]
    instance, clock = run_scenario(definition, scenario, start=start, settings=settings, calendar=calendar,
                                   stop_before=1)
    assert "warn_acceptance_review" not in [t.task_spec.bpmn_id for t in instance._waiting_timers()]
    clock.advance_to(start + dt.timedelta(days=60))
    fired = instance.fire_due_timers()
    assert "warn_acceptance_review" not in fired
    assert "warn_preliminary_check" in fired


def test_statement_window_elapses_by_interrupting_timer(definition, settings, calendar, start):
    scenario = SCENARIOS["penalty_window_elapsed"]
    index = [s.spec_id for s in scenario.steps].index("@timer")
    instance, clock = run_scenario(definition, scenario, start=start, settings=settings, calendar=calendar,
                                   stop_before=index)
    waiting = {t.spec_id: t for t in instance.ready_user_tasks()}
    assert "await_party_response" in waiting
    served = dt.datetime.fromisoformat(waiting["await_party_response"].data["notice_served_at"])
    assert waiting["await_party_response"].due == dt.datetime.combine(
        calendar.add_working_days(served.astimezone(BEIJING).date(), 5), dt.time(23, 59, 59), BEIJING)
    clock.advance_to(waiting["await_party_response"].due - dt.timedelta(minutes=1))
    assert instance.fire_due_timers() == []
    clock.advance_to(waiting["await_party_response"].due + dt.timedelta(seconds=1))
    assert "window_elapsed" in instance.fire_due_timers()
    ready = [t.spec_id for t in instance.ready_user_tasks()]
    assert "await_party_response" not in ready
    assert "legal_review" in ready
    assert instance.data["party_response"] == "elapsed"


def test_hearing_waits_for_its_date(definition, settings, calendar, start):
    scenario = SCENARIOS["penalty_hearing"]
    index = [s.spec_id for s in scenario.steps].index("@timer")
    instance, clock = run_scenario(definition, scenario, start=start, settings=settings, calendar=calendar,
                                   stop_before=index)
    assert instance.stage == "hearing"
    assert not [t for t in instance.ready_user_tasks() if t.spec_id == "hold_hearing"]
    hearing_at = dt.datetime.fromisoformat(instance.data["hearing_at"])
    assert instance.next_timer_due() == hearing_at
    clock.advance_to(hearing_at)
    assert instance.fire_due_timers() == ["wait_hearing_date"]
    chair = [t for t in instance.ready_user_tasks() if t.spec_id == "hold_hearing"][0]
    assert chair.assignee_hint == "legal"
