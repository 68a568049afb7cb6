"""The suite's file order (tests/scheduling.py): slowest files first, nothing dropped, each file's tests in order."""

from __future__ import annotations

from types import SimpleNamespace

from tests.scheduling import slowest_files_first


def _items(*nodeids: str) -> list:
    return [SimpleNamespace(nodeid=nodeid) for nodeid in nodeids]


def test_files_run_longest_first_and_keep_their_tests_in_order():
    items = _items("a.py::one", "b.py::one", "a.py::two", "c.py::one", "d.py::one", "c.py::two[sqlite]")
    slowest_files_first(items, {"c.py": 120.0, "b.py": 3.5, "a.py": 3.5, "x.py": 999.0})
    # c first; a and b tie and keep collection order; d (never measured) last
    assert [i.nodeid for i in items] == ["c.py::one", "c.py::two[sqlite]", "a.py::one", "a.py::two", "b.py::one",
                                         "d.py::one"]


def test_without_figures_files_keep_the_order_they_were_collected_in():
    items = _items("b.py::one", "a.py::one", "b.py::two")
    slowest_files_first(items, {})
    assert [i.nodeid for i in items] == ["b.py::one", "b.py::two", "a.py::one"]
