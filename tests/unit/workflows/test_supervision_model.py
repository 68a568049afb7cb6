"""挂牌督办 in the model, without a database: the supervised path plays and replays; the 结案审批 is refused while the
supervision runs; a case restored in a fresh process (the parsed model dropped) ends its supervision."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.rules.deadlines import calendar_for
from engine.rules.settings import load_settings
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
