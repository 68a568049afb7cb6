"""What a long-running process (`casetrail serve` before its fork, `casetrail worker`) built at start is out of the
cyclic collector's way afterwards, and the collector still runs for what comes later."""

from __future__ import annotations

import gc

from engine.startup import settle_heap


def test_settling_freezes_what_was_built_and_leaves_the_collector_on() -> None:
    built = [{"kept": i} for i in range(1000)]  # long-lived: tracked by the collector until frozen
    try:
        settle_heap()
        assert gc.get_freeze_count() >= len(built)
        assert gc.isenabled()
        cycle: list = []
        cycle.append(cycle)
        assert gc.is_tracked(cycle)  # new objects are still the collector's
    finally:
        gc.unfreeze()
