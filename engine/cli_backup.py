"""`casetrail backup --out DIR`, `casetrail restore DIR` and `casetrail migrate` (issue 17): the database, the agency keys and the evidence
files, consistent with each other (engine/usecases/backup.py, engine/usecases/restore.py; docs/operations.md).

`restore` runs before there is anything to start services on: it reads the same configuration they would
(CASETRAIL_DATABASE_URL, CASETRAIL_DATA_DIR, CASETRAIL_BLOB_STORE) and writes only into an empty target. A refused
backup or target is one line on stderr, exit 2, nothing written.
"""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli_support import current_clock, emit, handle_errors, services


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="a new (or empty) directory for the backup")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def backup(out: Path, as_json: bool) -> None:
    """Back up the database, the agency keys (encrypted, as stored) and every evidence file the rows name.

    The key-encryption keys are NOT in the backup: keep them apart."""
    from engine.usecases.backup import KEK_NOTE, make_backup

    summary = make_backup(services(), out, clock=current_clock())
    counts = summary.counts

    def text() -> None:
        click.echo(f"backup written to {out}: {counts['cases']} cases, {counts['step_records']} step records, "
                   f"{summary.blobs} evidence files, {len(summary.key_files)} key files "
                   f"({summary.dialect}, migration {summary.revision})")
        click.echo(KEK_NOTE)

    emit(summary.to_json(), as_json, text)


@click.command("restore")
@click.argument("source", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def restore(source: Path, as_json: bool) -> None:
    """Restore the backup in SOURCE into an EMPTY database (CASETRAIL_DATABASE_URL) and data directory."""
    from engine.db.session import data_dir, database_url
    from engine.startup import configured_blob_store
    from engine.usecases.backup import KEK_NOTE
    from engine.usecases.restore import restore_backup

    directory = data_dir()
    summary = restore_backup(source, url=database_url(), keys_dir=directory / "keys",
                             blobs=configured_blob_store(directory))

    def text() -> None:
        click.echo(f"restored {summary.rows.get('cases', 0)} cases, {sum(summary.rows.values())} rows, "
                   f"{summary.blobs} evidence files and {summary.key_files} key files (migration {summary.revision})")
        click.echo(KEK_NOTE)

    emit(summary.to_json(), as_json, text)


@click.command("migrate")
@click.option("--check", is_flag=True, help="only say whether migrations are pending (exit 1 if so); change nothing")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def migrate(check: bool, as_json: bool) -> None:
    """Bring the database (CASETRAIL_DATABASE_URL) to this release's schema, or with --check only say whether it
    is there. Every command migrates when it starts; this is the step an upgrade runs once, before it starts the
    new release's servers and workers (docs/deployment.md)."""
    from engine.db.faults import database_faults
    from engine.db.session import database_url, make_engine
    from engine.db.session import migrate as upgrade
    from engine.health import current_heads, expected_heads

    engine = make_engine(database_url())
    try:
        wanted = expected_heads()
        with database_faults(engine.url):
            before = current_heads(engine)
            if not check and before != wanted:
                upgrade(engine)
            after = before if check else current_heads(engine)
    finally:
        engine.dispose()
    pending = after != wanted
    emit({"before": sorted(before), "after": sorted(after), "wanted": sorted(wanted), "pending": pending}, as_json,
         lambda: click.echo(f"数据库迁移版本 (database migration): {', '.join(sorted(after)) or '—'}"
                            + (f"; 待执行至 (pending, wanted) {', '.join(sorted(wanted))}" if pending else "; 已是最新 (current)")))
    if pending:
        raise SystemExit(1)


def commands() -> list[click.Command]:
    return [backup, restore, migrate]


__all__ = ["backup", "commands", "migrate", "restore"]
