"""Every outcome end to end through the engine's use cases (task by task), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from engine.demo import SCENARIOS, play
from tests.conftest import at


@pytest.mark.parametrize("name, played", [(n, n) for n in sorted(SCENARIOS)], indirect=["played"],
                         ids=sorted(SCENARIOS))
def test_scenario_reaches_its_outcome_through_the_engine(name, played):
    # `played`: the scenario played through the engine's use cases on a session template, which other tests
    # start from too (tests/integration/conftest.py)
    scenario = SCENARIOS[name]
    assert played.outcome == scenario.outcome
    assert played.status == "closed"
    assert not played.open_tasks
    completed = [e for e in played.events if e.kind == "completed"]
    assert len(completed) == sum(1 for s in scenario.steps if not s.spec_id.startswith("@"))


def test_case_numbers_count_up_per_year(ready_svc):
    first = play(ready_svc, SCENARIOS["not_accepted"], start=at("2026-09-14 09:00")).case
    second = play(ready_svc, SCENARIOS["transferred"], start=at("2026-09-15 09:00")).case
    assert first.number == "呈卫投〔2026〕0001号"
    assert second.number == "呈卫投〔2026〕0002号"
