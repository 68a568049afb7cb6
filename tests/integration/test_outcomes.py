"""Case numbers through the engine's use cases. (Every outcome end to end, task by task, each step in a fresh
process: tests/integration/test_cross_process.py.)"""

from __future__ import annotations

from engine.demo import SCENARIOS, play
from tests.conftest import at


def test_case_numbers_count_up_per_year(ready_svc):
    first = play(ready_svc, SCENARIOS["not_accepted"], start=at("2026-09-14 09:00")).case
    second = play(ready_svc, SCENARIOS["transferred"], start=at("2026-09-15 09:00")).case
    assert first.number == "呈卫投〔2026〕0001号"
    assert second.number == "呈卫投〔2026〕0002号"
