"""挂牌督办 in the model, without a database: the supervised path plays and replays; the 结案审批 is refused while the
supervision runs; a case restored in a fresh process (the parsed model dropped) ends its supervision."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from engine.rules.deadlines import calendar_for
from engine.rules.settings import load_settings
from engine.spiff.clocks import MutableClock
from engine.spiff.definitions import forget_parsed_definitions, load_default_definition
from engine.spiff.driving import Scenario
from engine.spiff.instance import ProcessInstance, TaskNotReady
from engine.spiff.replay import replay_path
from engine.spiff.scenarios import SUPERVISED, play_step, run_scenario

START = dt.datetime(2026, 9, 14, 1, 0, tzinfo=dt.UTC)
SETTINGS = load_settings()
CALENDAR = calendar_for(SETTINGS)
IDS = [s.spec_id for s in SUPERVISED.steps]


def test_the_supervised_path_plays_to_its_outcome_and_replays() -> None:
    definition = load_default_definition()
    record: list[tuple[str, dict]] = []
    instance, _ = run_scenario(definition, SUPERVISED, start=START, settings=SETTINGS, calendar=CALENDAR, record=record)
    assert instance.completed and instance.outcome == SUPERVISED.outcome
    assert [spec for spec, _ in record].count("report_supervision") == 2 and "remind_supervision_report" in IDS
    assert replay_path(definition, record, settings=SETTINGS, calendar=CALENDAR).ok
    # The flag moved elsewhere in the path — here after the case ended — is not a path the model allows.
    moved = [step for step in record if step[0] != "supervision_flagged"] + [
        next(step for step in record if step[0] == "supervision_flagged")]
    replayed = replay_path(definition, moved, settings=SETTINGS, calendar=CALENDAR)
    assert not replayed.ok


def test_closing_is_refused_while_the_supervision_runs() -> None:
    definition = load_default_definition()
    without_closing = Scenario("unclosed", "open", tuple(
        s for s in SUPERVISED.steps if s.spec_id != "close_supervision"
        and not (s.spec_id == "report_supervision" and s.overrides.get("supervision_final_report"))))
    at = [s.spec_id for s in without_closing.steps].index("closing_approval")
    instance, clock = run_scenario(definition, without_closing, start=START, settings=SETTINGS, calendar=CALENDAR,
                                   stop_before=at)
    with pytest.raises(AssertionError, match="销号"):
        play_step(instance, without_closing.steps[at], clock, SETTINGS, CALENDAR)


def test_a_fresh_process_ends_the_supervision_it_did_not_start() -> None:
    at = IDS.index("close_supervision")
    instance, clock = run_scenario(load_default_definition(), SUPERVISED, start=START, settings=SETTINGS,
                                   calendar=CALENDAR, stop_before=at)
    state = instance.serialize()
    forget_parsed_definitions()  # as a new process: the spec as parsed, never touched by a flag
    fresh = ProcessInstance.restore(load_default_definition(), state, clock=clock, settings=SETTINGS,
                                    calendar=CALENDAR)
    play_step(fresh, SUPERVISED.steps[at], clock, SETTINGS, CALENDAR)
    assert "supervision_open" not in fresh.data or fresh.data["supervision_open"] is False
    assert not [t for t in fresh.ready_user_tasks() if t.spec_id in ("report_supervision", "close_supervision")]
    with pytest.raises(TaskNotReady):
        ProcessInstance.restore(load_default_definition(), fresh.serialize(), clock=clock, settings=SETTINGS,
                                calendar=CALENDAR).receive("no_such_start", {})


def _flagged(due_date: str) -> tuple[list[tuple[str, dict]], ProcessInstance, MutableClock]:
    """The supervised path up to its first report, flagged with the 办结期限 `due_date`."""
    at = IDS.index("report_supervision")
    steps = tuple(replace(s, overrides={**s.overrides, "supervision_due_date": due_date})
                  if s.spec_id == "supervision_flagged" else s for s in SUPERVISED.steps)
    record: list[tuple[str, dict]] = []
    instance, clock = run_scenario(load_default_definition(), replace(SUPERVISED, steps=steps), start=START,
                                   settings=SETTINGS, calendar=CALENDAR, stop_before=at, record=record)
    return record, instance, clock


def _ready(instance: ProcessInstance) -> list[str]:
    return sorted(t.spec_id for t in instance.ready_user_tasks())


def test_the_deadline_passing_unclosed_raises_the_supervisors_escalation_and_replays() -> None:
    record, instance, clock = _flagged("2026-09-18")
    deadline = CALENDAR.end_of_day(dt.date(2026, 9, 18))
    # The flag's date, read by the model: the timer fires at the end of that day, not before.
    clock.advance_to(deadline - dt.timedelta(seconds=1))
    assert "supervision_deadline_passed" not in instance.fire_due_timers()
    assert "escalate_supervision" not in _ready(instance)
    clock.advance_to(deadline + dt.timedelta(seconds=1))
    assert instance.fire_due_timers() == ["supervision_deadline_passed"]
    [escalation] = [t for t in instance.ready_user_tasks() if t.spec_id == "escalate_supervision"]
    assert (escalation.role, escalation.assignee_hint) == ("supervisor", "supervisor")
    done = {"supervision_overdue_measure": "interview", "supervision_overdue_opinion": "约谈承办机关负责人。",
            "_actor": "supervisor"}
    instance.complete(escalation.id, dict(done))
    record.append(("escalate_supervision", done))
    # The reports go on after it: the supervision is still open, and the escalation is not raised twice.
    assert "report_supervision" in _ready(instance) and instance.data["supervision_open"] is True
    assert replay_path(load_default_definition(), record, settings=SETTINGS, calendar=CALENDAR).ok


def test_a_supervision_closed_before_its_deadline_leaves_no_timer_for_it() -> None:
    _, instance, clock = _flagged("2026-12-31")
    deadline = CALENDAR.end_of_day(dt.date(2026, 12, 31))
    for spec_id, data in (("report_supervision", {"supervision_progress": "已办结。", "supervision_final_report": True}),
                          ("close_supervision", {"supervision_closed": True, "supervision_opinion": "同意销号。"})):
        clock.advance_to(clock() + dt.timedelta(hours=1))
        [task] = [t for t in instance.ready_user_tasks() if t.spec_id == spec_id]
        instance.complete(task.id, {**data, "_actor": task.assignee_hint or "officer1"})
    # The 销号 ends the sub-process and cancels its timers: nothing fires at the deadline.
    assert instance.data.get("supervision_open", False) is False and not instance.completed
    clock.advance_to(deadline + dt.timedelta(days=1))
    assert "supervision_deadline_passed" not in instance.fire_due_timers()
    assert "escalate_supervision" not in _ready(instance)
