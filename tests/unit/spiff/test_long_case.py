"""Long cases (issue 17): the model's loops make a case of any length; its task tree, state and the work of each
step stay those of a fresh case (engine/spiff/history.py prunes the finished history), so a replay is linear."""

from __future__ import annotations

import datetime as dt
import zlib

import pytest
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator

import engine.spiff.instance as instance_module
from engine.rules.settings import Settings
from engine.rules.workdays import WorkingCalendar
from engine.spiff.definitions import LoadedDefinition
from engine.spiff.instance import ProcessInstance
from engine.spiff.replay import replay_path
from engine.spiff.scenarios import SCENARIOS, correction_rounds, long_case, play_step, run_scenario
from engine.spiff.serialization import COMPRESSED


def _played(definition: LoadedDefinition, steps: int, start: dt.datetime, settings: Settings,
            calendar: WorkingCalendar, record: list | None = None) -> ProcessInstance:
    scenario, index = long_case(steps)
    instance, _ = run_scenario(definition, scenario, start=start, settings=settings, calendar=calendar,
                               stop_before=index, record=record)
    return instance


def _json_size(instance: ProcessInstance) -> int:
    return len(zlib.decompress(instance.serialize()[len(COMPRESSED):]))


def _depth(instance: ProcessInstance) -> int:
    return max(t.depth for t in instance.workflow.tasks.values())


def test_long_case_has_the_steps_asked_for_and_waits_at_the_decision(definition, settings, calendar, start):
    scenario, index = long_case(60)
    assert index == 60
    fresh = SCENARIOS["penalty_waiver"]
    decision = [s.spec_id for s in fresh.steps].index(scenario.steps[index].spec_id)
    assert scenario.steps[index:] == fresh.steps[decision:]  # the same way on from the decision
    instance = _played(definition, 60, start, settings, calendar)
    assert [t.spec_id for t in instance.ready_user_tasks()] == [scenario.steps[index].spec_id]


def test_the_tree_and_the_state_do_not_grow_with_the_history(definition, settings, calendar, start):
    """At 40 and at 160 steps the case holds the same tasks and about the same state: the rounds behind it are
    the signed step records' to keep, not the tree's (it held ~3.4 tasks more per step, ~1.1 KB of JSON)."""
    short, long = (_played(definition, n, start, settings, calendar) for n in (40, 160))
    assert len(long.workflow.tasks) == len(short.workflow.tasks)
    assert _depth(long) == _depth(short)
    assert abs(_json_size(long) - _json_size(short)) < 0.05 * _json_size(short)


def _visits(definition, steps, start, settings, calendar, monkeypatch) -> tuple[int, bool]:
    """The tree nodes SpiffWorkflow's walks (and ours, through them) visit while replaying a case of `steps`."""
    record: list = []
    _played(definition, steps, start, settings, calendar, record)
    count = [0]
    for cls in (TaskIterator, BpmnTaskIterator):
        original = cls.__dict__["_next"]

        def counted(self, _original=original):
            count[0] += 1
            return _original(self)

        monkeypatch.setattr(cls, "_next", counted)
    result = replay_path(definition, record, settings=settings, calendar=calendar)
    monkeypatch.undo()
    return count[0], result.ok


def test_replay_work_is_linear_in_the_steps(definition, settings, calendar, start, monkeypatch):
    """Twice the steps, about twice the nodes visited (the whole-tree walks per step made it ~3.6x before)."""
    (small, small_ok), (large, large_ok) = (_visits(definition, n, start, settings, calendar, monkeypatch)
                                            for n in (60, 120))
    assert small_ok and large_ok
    assert large <= 2.2 * small, (small, large)


def test_a_case_past_the_old_recursion_depth_replays_valid(definition, settings, calendar, start):
    """600 steps: the unpruned tree was ~2,000 tasks deep — past Python's recursion limit for SpiffWorkflow's
    ancestor checks and past the depth at which its TaskIterator stops looking (1,000)."""
    record: list = []
    instance = _played(definition, 600, start, settings, calendar, record)
    assert _depth(instance) < 20
    assert [t.spec_id for t in instance.ready_user_tasks()] == ["make_decision"]
    result = replay_path(definition, record, settings=settings, calendar=calendar)
    assert result.ok, result.reason


def test_the_path_keeps_every_round_the_tree_dropped(definition, settings, calendar, start):
    scenario, decision = correction_rounds(12)
    instance, _ = run_scenario(definition, scenario, start=start, settings=settings, calendar=calendar)
    assert instance.completed and instance.outcome == scenario.outcome
    path = instance.completed_path()
    assert path.count("correct_case") == 12
    assert path.count("legal_review") == 13  # the approval after the last round


def test_a_deep_state_from_before_the_pruning_restores_pruned_and_runs_on(definition, settings, calendar, start,
                                                                         monkeypatch):
    """A case stored by a release that kept the whole tree: restored, it is pruned, and steps on as it would have."""
    scenario, index = long_case(150)
    with monkeypatch.context() as before:
        before.setattr(instance_module, "prune", lambda workflow: [])
        deep, clock = run_scenario(definition, scenario, start=start, settings=settings, calendar=calendar,
                                   stop_before=index)
        assert _depth(deep) > 400
        state = deep.serialize()
        ready_deep = [(t.spec_id, t.due) for t in deep.ready_user_tasks()]
    restored = ProcessInstance.restore(definition, state, clock=clock, settings=settings, calendar=calendar)
    assert _depth(restored) < 20
    assert [(t.spec_id, t.due) for t in restored.ready_user_tasks()] == ready_deep
    assert len(restored.serialize()) < len(state) / 3
    for step in scenario.steps[index:]:
        clock.advance_to(clock() + dt.timedelta(hours=1))
        play_step(restored, step, clock, settings, calendar)
    assert restored.completed and restored.outcome == scenario.outcome


@pytest.mark.parametrize("rounds", [1, 5])
def test_correction_rounds_waits_at_the_decision(rounds, definition, settings, calendar, start):
    scenario, decision = correction_rounds(rounds)
    instance, _ = run_scenario(definition, scenario, start=start, settings=settings, calendar=calendar,
                               stop_before=decision)
    assert [t.spec_id for t in instance.ready_user_tasks()] == ["make_decision"]
