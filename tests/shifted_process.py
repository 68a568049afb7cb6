"""Runs one `casetrail` command — `serve`, `worker`, `verify` … — in this (new) process on a running clock moved by
a number of seconds, as the console script would:

    python -m tests.shifted_process 41873.25 -- worker --interval 5

Every process a test starts with the same shift agrees on the time, and the time runs: the model's timers, whose
due moments fall on day boundaries (engine/rules/deadlines.py), come due while the processes run, at a moment
the test chose."""

from __future__ import annotations

import datetime as dt
import sys

from engine.values import Clock, system_clock
from tests.integration.cli_process import run_casetrail


def shifted_clock(seconds: float) -> Clock:
    shift = dt.timedelta(seconds=seconds)
    return lambda: system_clock() + shift


def main(argv: list[str]) -> int:
    return run_casetrail(argv[1:], shifted_clock(float(argv[0])))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
