"""`casetrail evidence`: adding files to a case or a step, listing a case's files, collecting what no step took.

`add` stores each file (type from its content, size checked: settings.json `evidence`) staged for the step
`--task` or for the case's files that 证据登记 registers; the step's signed record lists it when the step is
completed, in this process or any other. A refused file is reported in one line (exit 2), nothing of it kept;
files named before it stay staged.
"""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli_support import current_clock, emit, handle_errors, services
from engine.values import StageEvidence


@click.group()
def evidence() -> None:
    """Evidence files (photos, recordings, scans, documents) of a case."""


@evidence.command("add")
@click.argument("case_ref")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--user", "user_id", required=True, help="who adds them (may act on the task, or handles the case)")
@click.option("--task", "task_id", default=None, help="the step they are for (its form must take evidence)")
@click.option("--note", default=None, help="a note kept with each file")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def evidence_add(case_ref: str, files: tuple[Path, ...], user_id: str, task_id: str | None, note: str | None,
                 as_json: bool) -> None:
    """Add FILES to case CASE_REF (number or id)."""
    from engine.usecases.evidence import stage_evidence

    svc = services()
    added = [stage_evidence(StageEvidence(case_ref=case_ref, user_id=user_id, name=path.name, source=path,
                                          task_id=task_id, note=note), svc=svc, clock=current_clock())
             for path in files]
    emit([v.to_json() for v in added], as_json, lambda: [click.echo(
        f"{v.id:5} {v.sha256[:16]}… {v.size:>12} {v.media_type:28} {v.name} (staged)") for v in added])


@evidence.command("list")
@click.argument("case_ref")
@click.option("--user", "user_id", default=None,
              help="as this user may see them; without: as an auditor (only files in signed records)")
@click.option("--signatures", is_flag=True,
              help="the parties' signatures drawn on its records instead (files of their steps, not evidence)")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def evidence_list(case_ref: str, user_id: str | None, signatures: bool, as_json: bool) -> None:
    """The evidence files of case CASE_REF."""
    from engine.enums import FilePurpose
    from engine.usecases.evidence import list_evidence

    svc = services()
    files = list_evidence(svc, case_ref, user_id,
                          purpose=FilePurpose.PARTY_SIGNATURE if signatures else FilePurpose.EVIDENCE)
    zone = svc.settings.zone

    def text() -> None:
        for v in files:
            where = f"record {v.seq}" if v.seq is not None else "staged"
            click.echo(f"{v.id:5} {v.sha256[:16]}… {v.size:>12} {v.media_type:28} {v.name}  "
                       f"{v.added_by} {v.added_at.astimezone(zone):%Y-%m-%d %H:%M} [{where}]")
        if not files:
            click.echo("no party signatures" if signatures else "no evidence files")

    emit([v.to_json() for v in files], as_json, text)


@evidence.command("gc")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def evidence_gc(as_json: bool) -> None:
    """Delete files staged longer than settings.json evidence.staged_max_age_days that no signed step took,
    and the stored bytes no file names (the worker does this hourly)."""
    from engine.usecases.evidence import collect_evidence

    collected = collect_evidence(services(), clock=current_clock())
    emit(collected.to_json(), as_json, lambda: click.echo(
        f"collected {collected.rows} staged files and {collected.blobs} unreferenced blobs"))


__all__ = ["evidence"]
