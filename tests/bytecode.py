"""The product's modules compiled once per run, before any test starts a process.

The tests start hundreds of `casetrail` and helper processes (the README's lines, cross-process steps, served
workers). Where PYTHONDONTWRITEBYTECODE is set (as on the shared development machines), no process writes the
bytecode it compiles, so each one compiled the ~100 modules of the checkout it imports again: ~0.2 s of CPU a
process. Python still reads bytecode that exists, so compiling once here removes that; where the variable is not
set, the first process would have written the same files.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "web", "documents", "signatures", "workflows", "tests")


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # pytest-xdist's workers: the controller did it before starting them
        return
    for package in PACKAGES:
        if (REPO / package).is_dir():
            compileall.compile_dir(REPO / package, quiet=1, workers=1)
