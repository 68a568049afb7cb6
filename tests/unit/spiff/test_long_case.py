"""Long cases (issue 17): the model's loops make a case of any length, and its state grows linearly with it."""

from __future__ import annotations

import datetime as dt
import zlib

from engine.rules.settings import Settings
from engine.rules.workdays import WorkingCalendar
from engine.spiff.definitions import LoadedDefinition
from engine.spiff.scenarios import SCENARIOS, long_case, run_scenario
from engine.spiff.serialization import COMPRESSED


def _state_json(definition: LoadedDefinition, steps: int, start: dt.datetime, settings: Settings,
                calendar: WorkingCalendar) -> tuple[int, list[str]]:
    scenario, index = long_case(steps)
    instance, _ = run_scenario(definition, scenario, start=start, settings=settings, calendar=calendar,
                               stop_before=index)
    state = instance.serialize()
    return len(zlib.decompress(state[len(COMPRESSED):])), [t.spec_id for t in instance.ready_user_tasks()]


def test_long_case_has_the_steps_asked_for_and_waits_at_the_decision(definition, settings, calendar, start):
    scenario, index = long_case(60)
    assert index == 60
    fresh = SCENARIOS["penalty_waiver"]
    decision = [s.spec_id for s in fresh.steps].index(scenario.steps[index].spec_id)
    assert scenario.steps[index:] == fresh.steps[decision:]  # the same way on from the decision
    _, ready = _state_json(definition, 60, start, settings, calendar)
    assert ready == [scenario.steps[index].spec_id]


def test_state_grows_linearly_with_the_steps(definition, settings, calendar, start):
    """Each further step adds about as many bytes as the ones before it (no history copied per step)."""
    small, _ = _state_json(definition, 40, start, settings, calendar)
    middle, _ = _state_json(definition, 80, start, settings, calendar)
    large, _ = _state_json(definition, 160, start, settings, calendar)
    first, second = (middle - small) / 40, (large - middle) / 80
    assert second <= first * 1.25, (small, middle, large)
