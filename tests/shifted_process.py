"""Runs one `casetrail` command — `serve`, `worker`, `verify` … — in this (new) process on a running clock moved by
a number of seconds, as the console script would:

    python -m tests.shifted_process 41873.25 -- worker --interval 5
    python -m tests.shifted_process /tmp/…/clock-shift -- worker --interval 5

Every process a test starts with the same shift agrees on the time, and the time runs: the model's timers, whose
due moments fall on day boundaries (engine/rules/deadlines.py), come due while the processes run, at a moment
the test chose. Given a file instead of a number, the shift is what the file holds, read again whenever the file
is replaced: the test moves every process's time forward at once (`move_shift`) when they are all up, however
long their start took on a loaded machine."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

from engine.values import Clock, system_clock
from tests.integration.cli_process import run_casetrail


def shifted_clock(source: float | str | Path) -> Clock:
    """The system clock moved by `source` seconds, or by what the file `source` holds (`FileShift`)."""
    if isinstance(source, str):
        try:
            source = float(source)
        except ValueError:
            source = Path(source)
    if isinstance(source, Path):
        return FileShift(source)
    shift = dt.timedelta(seconds=source)
    return lambda: system_clock() + shift


class FileShift:
    """The system clock moved by the seconds a file holds, read again each time the file is replaced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._shift = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        stat = self.path.stat()
        if (stat.st_ino, stat.st_mtime_ns) != self._seen:
            self._shift = dt.timedelta(seconds=float(self.path.read_text()))
            self._seen = (stat.st_ino, stat.st_mtime_ns)
        return system_clock() + self._shift


def move_shift(path: Path, to: dt.datetime) -> None:
    """From now on the processes reading `path` say it is `to` (and on from there): the file is replaced whole, so
    none reads half of it. Only forward: a clock that went back would fire nothing it had not fired."""
    written = path.with_name(path.name + ".new")
    written.write_text(repr((to - system_clock()).total_seconds()))
    os.replace(written, path)


def main(argv: list[str]) -> int:
    return run_casetrail(argv[1:], shifted_clock(argv[0]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
