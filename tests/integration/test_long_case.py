"""A long case through the whole stack (issue 17): 法制审核 sends it back for 补正 round after round, every step
signed and recorded; the state the case row stores stays the size of a fresh case's (engine/spiff/history.py),
and `verify` replays the whole path as valid. (Hundreds of steps are in tests/unit/spiff/test_long_case.py, in
memory: here each step renders and signs its 文书.)"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from engine.db.tables import CaseRow
from engine.demo import play
from engine.spiff.scenarios import correction_rounds
from engine.usecases.audit import verify_cases
from engine.values import fixed_clock
from tests.integration.conftest import PLAY_START

ROUNDS = 4


def test_a_case_sent_back_for_correction_again_and_again_stays_small_and_verifies(ready_svc):
    scenario, decision = correction_rounds(ROUNDS)
    sizes: list[int] = []

    def state_size(number, step, clock) -> None:
        if step.spec_id == scenario.steps[decision - 1].spec_id:  # each 法制审核, the approval last
            with ready_svc.uow.read() as session:
                sizes.append(len(session.scalar(select(CaseRow.state).where(CaseRow.number == number))))

    played = play(ready_svc, scenario, start=PLAY_START, stop_before=decision + 1, before_step=state_size)
    assert played.steps == decision + 1 and len(sizes) == ROUNDS + 1
    # the rounds behind a case add nothing to its state (they added ~300 stored bytes each)
    assert max(sizes[1:]) - min(sizes[1:]) < 0.05 * min(sizes[1:]), sizes
    report, = verify_cases(ready_svc, [played.case.number], clock=fixed_clock(PLAY_START + dt.timedelta(days=400)))
    assert report.ok, report.first_failure
