"""The order test files run in: the slowest first.

scripts/test.sh runs the suite on every core with `--dist loadfile`: pytest-xdist hands out whole files, by
default those with the most tests first, so a one-test file of two minutes (the plain install; also the live
upgrade and the README's sequences) started near the end and ran on alone while the other worker sat idle (the
7 Dec baseline: both workers' last ~25 minutes were those files). Sorting the files longest first (the classic longest-processing-time rule) lets the short ones
fill in around the long ones. Only the order changes: every test still runs, each file's tests in their own order.

How long a file takes comes from the last run on this checkout (pytest's cache, written by the process that saw
every report: the xdist controller or the only process), else from tests/durations.json (for a clean checkout: every
file's set-ups, calls and teardowns of one whole CI run — this cache's figures copied, seconds under that run's
load; only their order matters), else 0 (new files, after them in collection order).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

CACHE_KEY = "casetrail/file-durations"
MEASURED = Path(__file__).with_name("durations.json")

_seen: defaultdict[str, float] = defaultdict(float)


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def known_durations(config: pytest.Config) -> dict[str, float]:
    """Seconds per test file: the measured file overlaid by the last run's figures."""
    durations: dict[str, float] = json.loads(MEASURED.read_text(encoding="utf-8")) if MEASURED.exists() else {}
    cache = getattr(config, "cache", None)
    if cache is not None:
        durations.update(cache.get(CACHE_KEY, {}))
    return durations


def slowest_files_first(items: list[pytest.Item], durations: dict[str, float]) -> None:
    """Reorder `items` in place: files by decreasing duration (a stable sort: ties keep collection order)."""
    by_file: dict[str, list[pytest.Item]] = {}
    for item in items:
        by_file.setdefault(_file_of(item.nodeid), []).append(item)
    order = sorted(by_file, key=lambda name: -durations.get(name, 0.0))
    items[:] = [item for name in order for item in by_file[name]]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Every xdist worker collects for itself and must reach the same order: all read the same files here.
    slowest_files_first(items, known_durations(config))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _seen[_file_of(report.nodeid)] += report.duration  # set-up, call and teardown alike


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workerinput") or getattr(config, "cache", None) is None or not _seen:
        return  # an xdist worker: the controller has every report
    if config.option.keyword or config.option.markexpr or any("::" in arg for arg in config.args):
        return  # part of a file ran: its figure would be too small
    durations = config.cache.get(CACHE_KEY, {})
    durations.update({name: round(seconds, 2) for name, seconds in _seen.items()})
    config.cache.set(CACHE_KEY, durations)
