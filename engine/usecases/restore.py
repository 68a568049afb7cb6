"""`casetrail restore DIR` (issue 17): a backup (engine/usecases/backup.py) into an EMPTY database and data directory.

In this order, so that a refusal writes nothing and a failure half-way leaves nothing that looks restored:
1. the target database is reached (a fault is told first, as by every command) and
   every file of the backup is checked against its manifest (SHA-256 and size; nothing unlisted);
2. the target must be empty (no rows but those its migrations make, at no other migration) and must not hold
   agency keys already;
3. the evidence files go into the blob store (content-addressed: a file put twice is stored once, and one no row
   names is collected later like any other);
4. the key files are written beside the key directory under a temporary name;
5. the schema is migrated to the backup's migration, and every row is inserted in dependency order in ONE
   transaction, with PostgreSQL's id sequences moved past the restored ids before it commits;
6. the key files are moved into place.
The next start migrates the restored database on to this release's newest migration, as it would any other.
The KEKs are not in the backup: the operator puts them back from where they are kept (docs/operations.md).
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from engine.blobs import BlobStore
from engine.db.dump import known_revision, load_rows, refuse_unless_empty, reset_counters
from engine.db.faults import database_faults
from engine.db.session import make_engine, migrate
from engine.errors import BackupRefused
from engine.usecases.backup import CheckedBackup, check_backup, read_rows

__all__ = ["RestoreSummary", "restore_backup"]


@dataclass(frozen=True)
class RestoreSummary:
    revision: str
    rows: dict[str, int]
    key_files: int
    blobs: int

    def to_json(self) -> dict[str, Any]:
        return {"revision": self.revision, "rows": self.rows, "key_files": self.key_files, "blobs": self.blobs}


def restore_backup(source: Path, *, url: str, keys_dir: Path, blobs: BlobStore) -> RestoreSummary:
    """Restore the backup in `source` into the empty database at `url`, the agency key directory `keys_dir` and the
    evidence store `blobs`. BackupRefused (nothing written) for a backup that does not check out or a target that
    is not empty."""
    engine = make_engine(url)
    staging = keys_dir.parent / f".{keys_dir.name}.restoring-{uuid.uuid4().hex[:8]}"
    try:
        at = refuse_unless_empty(engine)  # first: a target that cannot be used is told before the backup is read
        backup = _checked(source)
        if at is not None and at != backup.revision:
            raise BackupRefused(f"目标数据库的版本与备份不同 (the target database is at migration {at}, the backup at "
                                f"{backup.revision}): restore into a new, empty database")
        taken = [name for name, _ in backup.key_members() if (keys_dir / name).exists()]
        if taken:
            raise BackupRefused(f"目标密钥目录已有机构密钥，未写入任何内容 (the key directory already holds "
                                f"{', '.join(taken)}; nothing was written): restore into a new data directory")
        for path in backup.blob_files():
            blobs.put(path)
        _stage_keys(backup, staging)
        migrate(engine, backup.revision)
        rows = _load(engine, backup)
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for staged in sorted(staging.iterdir()):
            os.replace(staged, keys_dir / staged.name)
        return RestoreSummary(revision=backup.revision, rows=rows, key_files=len(backup.key_files()),
                              blobs=len(backup.blob_files()))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        engine.dispose()


def _checked(source: Path) -> CheckedBackup:
    if not source.is_dir():
        raise BackupRefused(f"备份目录不存在或无法读取 (no readable backup directory {source.name})")
    backup = check_backup(source)
    if not known_revision(backup.revision):
        raise BackupRefused(f"备份来自更新的版本 (the backup is at migration {backup.revision}, which this release "
                            "does not know): restore it with the release that made it, or a newer one")
    return backup


def _stage_keys(backup: CheckedBackup, staging: Path) -> None:
    staging.mkdir(mode=0o700, parents=True)
    for name, path in backup.key_members():
        target = staging / name
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # an agency's seal: agencies/<code>/
        shutil.copyfile(path, target)
        # Private keys readable by the service account only, as FileAgencyKeys writes them.
        target.chmod(0o600 if ".key." in path.name else 0o644)


def _load(engine: Engine, backup: CheckedBackup) -> dict[str, int]:
    """Every table's rows in dependency order, in one transaction; the counts must be the manifest's."""
    expected = {t["name"]: t["rows"] for t in backup.manifest["database"]["tables"]}
    rows = {}
    with database_faults(engine.url), engine.begin() as conn:
        for spec, path in backup.tables():
            rows[spec[0]] = load_rows(conn, spec, read_rows(path))
        if rows != expected:
            raise BackupRefused("备份的行数与清单不符 (the rows restored are not the counts the manifest names): "
                                "nothing was restored")
        reset_counters(conn)
    return rows
