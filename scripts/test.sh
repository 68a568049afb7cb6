#!/usr/bin/env bash
# Sets up this machine (scripts/setup.sh) and runs every check: ruff, import contracts, the test suite.
# Engine tests run on SQLite, and on PostgreSQL too when CASETRAIL_TEST_POSTGRES_URL is set.
# The suite runs on every core (pytest-xdist; a file's tests stay on one worker, where its session-built
# database templates are), the slowest files first (tests/scheduling.py; `--no-loadscope-reorder` keeps that
# order instead of xdist's most-tests-first), and lists its 25 slowest steps; arguments go to pytest (`-n 0`:
# one process).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/lint-imports --config pyproject.toml
exec .venv/bin/pytest -n auto --dist loadfile --no-loadscope-reorder --durations=25 "$@"
