#!/usr/bin/env bash
# Sets up this machine, seeds the demo (SQLite in ./instance, demo users, sample cases) and serves it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/casetrail demo "$@"
