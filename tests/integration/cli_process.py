"""Runs one `casetrail` command in this (new) process, as the console script would, at a given time.

    python -m tests.integration.cli_process 2026-09-20T10:00:00+08:00 [--spiff-as-released] -- task complete …

`--spiff-as-released` runs the engine as releases before the fix did: SpiffWorkflow 3.2 as released connects a
multi-instance task's merges only when a process creates its instances (engine/spiff/definitions.py,
wire_instance_merges), and nothing looked for instances left unmerged. Tests use it to write the stuck cases
that older releases wrote, and to show that dropping caches within one process reproduces what separate
processes do.
"""

from __future__ import annotations

import datetime as dt
import sys

from engine.values import Clock, fixed_clock


def as_released() -> None:
    import engine.spiff.definitions as definitions
    from engine.spiff.instance import ProcessInstance

    definitions.wire_instance_merges = lambda _spec: None
    ProcessInstance.unmerged_instances = lambda _self: []


def main(argv: list[str]) -> int:
    moment = dt.datetime.fromisoformat(argv[0])
    rest = argv[1:]
    if rest and rest[0] == "--spiff-as-released":
        as_released()
        rest = rest[1:]
    return run_casetrail(rest, fixed_clock(moment))


def run_casetrail(argv: list[str], clock: Clock) -> int:
    """`casetrail ARGV` (after an optional `--`) on `clock`; its exit status."""
    if argv and argv[0] == "--":
        argv = argv[1:]
    from web.cli import main as casetrail

    try:
        casetrail.main(argv, obj={"clock": clock}, standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
