"""State round trips, task errors, and the auditor's replay of a recorded path."""

from __future__ import annotations

import json
import zlib

import pytest

from engine.spiff.driving import sample_form_data
from engine.spiff.instance import ProcessInstance, TaskNotReady
from engine.spiff.replay import replay_path
from engine.spiff.scenarios import SCENARIOS, run_scenario
from engine.spiff.serialization import COMPRESSED


def _record(definition, settings, calendar, start, name):
    steps: list = []
    instance, _ = run_scenario(definition, SCENARIOS[name], start=start, settings=settings, calendar=calendar,
                               record=steps)
    return instance, steps


def test_serialize_restore_round_trip_continues_the_case(definition, settings, calendar, start):
    scenario = SCENARIOS["penalty_waiver"]
    half = len(scenario.steps) // 2
    instance, clock = run_scenario(definition, scenario, start=start, settings=settings, calendar=calendar,
                                   stop_before=half)
    state = instance.serialize()
    assert b"task_specs" not in state  # the spec is shared per definition, not stored per case
    restored = ProcessInstance.restore(definition, state, clock=clock, settings=settings, calendar=calendar)
    assert [t.id for t in restored.ready_user_tasks()] == [t.id for t in instance.ready_user_tasks()]
    assert restored.stage == instance.stage and restored.next_timer_due() == instance.next_timer_due()
    assert restored.data == instance.data
    assert restored.serialize() == state


def test_restore_refuses_state_of_another_definition(definition, settings, calendar, start):
    instance, clock = run_scenario(definition, SCENARIOS["not_accepted"], start=start, settings=settings,
                                   calendar=calendar, stop_before=0)
    state = instance.serialize()
    assert state.startswith(COMPRESSED)
    header, body = zlib.decompress(state[len(COMPRESSED):]).split(b"\n", 1)
    forged = json.dumps({**json.loads(header), "definition": "0" * 64}).encode() + b"\n" + body
    with pytest.raises(ValueError):
        ProcessInstance.restore(definition, forged, clock=clock, settings=settings, calendar=calendar)
    forged = COMPRESSED + zlib.compress(forged)
    with pytest.raises(ValueError):
        ProcessInstance.restore(definition, forged, clock=clock, settings=settings, calendar=calendar)


def test_completing_a_task_twice_raises_task_not_ready(definition, settings, calendar, start):
    instance, clock = run_scenario(definition, SCENARIOS["not_accepted"], start=start, settings=settings,
                                   calendar=calendar, stop_before=0)
    task = instance.ready_user_tasks()[0]
    data = sample_form_data(definition.form_schema(task.spec_id), {"acceptance_decision": "transfer"}, now=clock())
    instance.complete(task.id, data)
    with pytest.raises(TaskNotReady):
        instance.complete(task.id, data)
    with pytest.raises(TaskNotReady):
        instance.complete("not-a-uuid", data)


def test_state_of_a_closed_case_is_small(definition, settings, calendar, start):
    instance, _ = run_scenario(definition, SCENARIOS["penalty_hearing"], start=start, settings=settings,
                               calendar=calendar)
    assert len(instance.serialize()) < 20_000  # compressed; about 43 KB of JSON


@pytest.mark.parametrize("name", ["penalty_waiver", "penalty_window_elapsed", "penalty_hearing", "not_filed"])
def test_replay_accepts_a_real_path(definition, settings, calendar, start, name):
    instance, steps = _record(definition, settings, calendar, start, name)
    result = replay_path(definition, steps, settings=settings, calendar=calendar)
    assert result.ok, result.reason
    assert result.outcome == instance.outcome


def test_replay_rejects_a_skipped_step(definition, settings, calendar, start):
    _, steps = _record(definition, settings, calendar, start, "penalty_waiver")
    skipped = [s for s in steps if s[0] != "legal_review"]
    result = replay_path(definition, skipped, settings=settings, calendar=calendar)
    assert not result.ok
    assert result.failing_index == [s[0] for s in skipped].index("make_decision")


def test_replay_rejects_a_reordered_path(definition, settings, calendar, start):
    _, steps = _record(definition, settings, calendar, start, "penalty_waiver")
    i, j = [s[0] for s in steps].index("prior_notice"), [s[0] for s in steps].index("make_decision")
    reordered = steps[:i] + [steps[j]] + steps[i:j] + steps[j + 1:]
    result = replay_path(definition, reordered, settings=settings, calendar=calendar)
    assert not result.ok and result.failing_index == i and "make_decision" in result.reason


def test_replay_rejects_data_that_breaks_a_gate(definition, settings, calendar, start):
    _, steps = _record(definition, settings, calendar, start, "penalty_waiver")
    idx = [s[0] for s in steps].index("make_decision")
    steps[idx] = ("make_decision", {**steps[idx][1], "final_fine": 99999})
    result = replay_path(definition, steps, settings=settings, calendar=calendar)
    assert not result.ok and result.failing_index == idx and "第四十五条" in result.reason


def test_no_majority_sends_the_panel_back_to_vote(definition, settings, calendar, start):
    scenario = SCENARIOS["penalty_waiver"]
    index = [s.spec_id for s in scenario.steps].index("panel_vote")
    instance, clock = run_scenario(definition, scenario, start=start, settings=settings, calendar=calendar,
                                   stop_before=index)
    for task, vote in zip(instance.ready_user_tasks(), ["penalty", "no_penalty_minor", "referred_judicial"],
                          strict=True):
        data = sample_form_data(definition.form_schema("panel_vote"), {"vote": vote}, now=clock())
        instance.complete(task.id, {**data, "_actor": task.assignee_hint})
    again = [t for t in instance.ready_user_tasks() if t.spec_id == "panel_vote"]
    assert len(again) == 3 and instance.data["deliberation_rounds"] == 1
