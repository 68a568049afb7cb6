"""`casetrail backup --out DIR` (issue 17): the database, the agency keys and the evidence files, consistent with each
other, in one directory with a manifest that vouches for every file.

    DIR/manifest.json               format, version, created_at, dialect, migration, counts, SHA-256 of each file
    DIR/database/<table>.jsonl      one JSON array per row, columns as the manifest lists them (engine/db/dump.py)
    DIR/keys/<name>.{key.wrapped,cert.pem}   the platform's root, seal and log keys, as stored (encrypted)
    DIR/keys/agencies/<code>/seal.{key.wrapped,cert.pem}   each agency's own seal, as stored (encrypted)
    DIR/blobs/ab/cd/<sha256>        every evidence file a backed-up row names

Consistency: the rows are read first, in one snapshot; then the keys and the files those rows name. Stored files are
immutable and only collected when no row names them and they are old, so a file the snapshot names is still there —
unless collected since, which fails the backup loudly rather than leaving a hole. The keys cannot change once they
have vouched for anyone (engine/journal.py `replace_agency_keys`); their certificates are checked against the
snapshot's all the same.

The key-encryption keys (CASETRAIL_AGENCY_KEK, the officers' KEK) are NOT in the backup, by design: with them, a
stolen backup would open every key. The operator keeps them apart (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cryptography import x509

from engine.blobs import CHUNK
from engine.db.dump import agency_fingerprints, blob_digests, dump_rows, head_revision, snapshot, table_specs
from engine.errors import BackupRefused, NotFound
from engine.keystore import FileAgencyKeys
from engine.services import Services
from engine.values import Clock
from signatures.pki import fingerprint

__all__ = ["FORMAT", "FORMAT_VERSION", "KEK_NOTE", "MANIFEST", "BackupSummary", "BackupTable", "CheckedBackup",
           "check_backup", "make_backup", "read_rows"]

FORMAT = "casetrail-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
KEK_NOTE = ("密钥加密密钥不在备份中，须另行保管 (the key-encryption keys — CASETRAIL_AGENCY_KEK and the officers' KEK — "
            "are NOT in this backup: keep them apart; without them the restored keys cannot be opened)")
# What a manifest may name: nothing outside the directory, nothing a restore would not know what to do with.
_MEMBER = re.compile(r"database/[a-z_]+\.jsonl|keys/[a-z]+\.(?:key\.wrapped|key\.pem|cert\.pem)"
                     r"|keys/agencies/[A-Za-z0-9][A-Za-z0-9_-]{0,31}/seal\.(?:key\.wrapped|cert\.pem)"
                     r"|blobs/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}")
# The counts the manifest shows an operator at a glance (every table's count is in `database.tables`).
_SHOWN = ("cases", "step_records", "documents", "evidence_files", "users")


@dataclass(frozen=True)
class BackupTable:
    name: str
    file: str
    rows: int
    columns: list[list[str]]  # [name, kind] as engine/db/dump.py writes them

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.file, "rows": self.rows, "columns": self.columns}


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds (its manifest without the file list)."""

    created_at: dt.datetime
    dialect: str
    revision: str
    tables: list[BackupTable]
    key_files: list[str]
    blobs: int
    blob_bytes: int

    @property
    def counts(self) -> dict[str, int]:
        rows = {t.name: t.rows for t in self.tables}
        return {name: rows.get(name, 0) for name in _SHOWN}

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": FORMAT_VERSION, "created_at": self.created_at.isoformat(),
                "database": {"dialect": self.dialect, "revision": self.revision,
                             "tables": [t.to_json() for t in self.tables]},
                "counts": self.counts,
                "keys": {"files": self.key_files, "kek_included": False, "note": KEK_NOTE},
                "blobs": {"count": self.blobs, "bytes": self.blob_bytes}}


class _Files:
    """The files written into the backup directory, each hashed on the way: the manifest's `files`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.listed: dict[str, dict[str, Any]] = {}

    def write(self, member: str, fill: Callable[[IO[bytes]], None]) -> dict[str, Any]:
        target = self.root / member
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as raw:
            sink = _HashingSink(raw)
            fill(sink)  # type: ignore[arg-type]
            raw.flush()
            os.fsync(raw.fileno())
        self.listed[member] = {"path": member, "sha256": sink.digest.hexdigest(), "size": sink.size}
        return self.listed[member]


class _HashingSink:
    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.raw.write(data)


def make_backup(svc: Services, out: Path, *, clock: Clock) -> BackupSummary:
    """Write a backup of `svc`'s database, agency keys and evidence files to the new directory `out` (which must not
    exist, or be empty). Written beside it under a temporary name and renamed into place at the end: a failed
    backup leaves nothing that looks like one."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupRefused(f"备份目录已存在且不为空 (the backup directory {out.name} exists and is not empty)")
    staging = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        summary = _write_backup(svc, _Files(staging), clock)
        if out.exists():
            out.rmdir()
        staging.replace(out)
        return summary
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_backup(svc: Services, files: _Files, clock: Clock) -> BackupSummary:
    created_at = clock()
    engine = svc.uow.engine
    tables = []
    with snapshot(engine) as conn:
        revision = head_revision()  # snapshot() refuses a database at any other
        for name, columns in table_specs():
            member = f"database/{name}.jsonl"
            count = [0]

            def fill(sink: IO[bytes], spec: tuple[str, list[tuple[str, str]]] = (name, columns),
                     count: list[int] = count) -> None:
                for row in dump_rows(conn, spec):
                    sink.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
                    count[0] += 1

            files.write(member, fill)
            tables.append(BackupTable(name, member, count[0], [list(c) for c in columns]))
        digests = blob_digests(conn)
        agency = agency_fingerprints(conn)
    key_files = _copy_keys(svc, files, agency)
    blob_bytes = sum(_copy_blob(svc, files, digest) for digest in digests)
    summary = BackupSummary(created_at=created_at, dialect=engine.dialect.name, revision=revision, tables=tables,
                            key_files=key_files, blobs=len(digests), blob_bytes=blob_bytes)
    manifest = {**summary.to_json(), "files": [files.listed[m] for m in sorted(files.listed)]}
    with (files.root / MANIFEST).open("w", encoding="utf-8") as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    return summary


def _copy_keys(svc: Services, files: _Files, agency: set[str]) -> list[str]:
    """The agency key files as stored. Where keys are not files (an HSM), there is nothing to copy: the manifest
    lists none. Their certificates must be the ones the snapshot's rows hold, once any are held."""
    keys = svc.agency_keys
    if not isinstance(keys, FileAgencyKeys):
        return []
    members = []
    for path in keys.stored_files():
        data = path.read_bytes()
        if path.name.endswith(".cert.pem") and agency and fingerprint(x509.load_pem_x509_certificate(data)) not in agency:
            raise BackupRefused(f"机构密钥在备份期间被更换，请重新备份 (the agency key {path.name} is not the one the "
                                "database's certificates name: the keys changed during the backup; run it again)")
        member = f"keys/{path.relative_to(keys.directory).as_posix()}"  # an agency's seal: keys/agencies/<code>/…
        files.write(member, lambda sink, data=data: sink.write(data))  # type: ignore[misc]
        members.append(member)
    return members


def _copy_blob(svc: Services, files: _Files, digest: str) -> int:
    """Stream one stored file into the backup, hashing on the way; its size. A missing or damaged one fails."""
    member = f"blobs/{digest[:2]}/{digest[2:4]}/{digest}"

    def fill(sink: IO[bytes]) -> None:
        try:
            source = svc.blobs.open(digest)
        except NotFound:
            raise BackupRefused(f"证据文件缺失，备份未完成 (the evidence file {digest} that the database names is "
                                "missing from the store: nothing was backed up; `casetrail verify --all` names the "
                                "cases it belongs to)") from None
        with source:
            while chunk := source.read(CHUNK):
                sink.write(chunk)

    entry = files.write(member, fill)
    if entry["sha256"] != digest:
        raise BackupRefused(f"证据文件已损坏，备份未完成 (the stored evidence file {digest} does not give its digest: "
                            "the store holds a damaged copy; nothing was backed up)")
    return int(entry["size"])


# --- reading a backup back -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckedBackup:
    """A backup directory whose every file was found and gave the SHA-256 and size its manifest names."""

    root: Path
    manifest: dict[str, Any]
    members: list[str] = field(default_factory=list)

    @property
    def revision(self) -> str:
        return str(self.manifest["database"]["revision"])

    def tables(self) -> list[tuple[tuple[str, list[tuple[str, str]]], Path]]:
        return [((t["name"], [(c, k) for c, k in t["columns"]]), self.root / t["file"])
                for t in self.manifest["database"]["tables"]]

    def blob_files(self) -> list[Path]:
        return [self.root / m for m in self.members if m.startswith("blobs/")]

    def key_files(self) -> list[Path]:
        return [self.root / m for m in self.members if m.startswith("keys/")]

    def key_members(self) -> list[tuple[str, Path]]:
        """Each key file with its path inside the key directory (`seal.cert.pem`, `agencies/<code>/seal.cert.pem`)."""
        return [(m.removeprefix("keys/"), self.root / m) for m in self.members if m.startswith("keys/")]


def read_rows(path: Path) -> Iterator[list[Any]]:
    with path.open("rb") as handle:
        for line in handle:
            yield json.loads(line)


def check_backup(root: Path) -> CheckedBackup:
    """Read the manifest and check every file against it before anything is restored: a file missing, changed,
    added or named outside the backup's layout refuses the whole backup (BackupRefused)."""
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupRefused(f"无法读取备份清单 (cannot read the backup's {MANIFEST} in {root.name}: "
                            f"{getattr(exc, 'strerror', None) or exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(f"不是 casetrail 备份 ({root.name} is not a casetrail backup)")
    if manifest.get("version") != FORMAT_VERSION:
        raise BackupRefused(f"不支持的备份格式版本 (backup format version {manifest.get('version')!r}; this release "
                            f"reads version {FORMAT_VERSION})")
    try:
        listed = {e["path"]: e for e in manifest["files"]}
        named = {t["file"] for t in manifest["database"]["tables"]} | set(manifest["keys"]["files"])
    except (KeyError, TypeError):
        raise BackupRefused(f"备份清单格式错误 (the backup's {MANIFEST} is malformed)") from None
    strays = [str(p) for p in listed if not isinstance(p, str) or not _MEMBER.fullmatch(p)]
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {MANIFEST}
    strays += sorted(present - set(listed))
    if strays:
        raise BackupRefused(f"备份含清单以外的文件 (the backup holds files its manifest does not vouch for: "
                            f"{', '.join(strays[:3])})")
    for member, entry in sorted(listed.items()):
        _check_member(root, member, entry)
    if not named <= set(listed):
        raise BackupRefused(f"备份清单不完整 (the manifest names files it does not list: "
                            f"{', '.join(sorted(str(n) for n in named - set(listed)))[:200]})")
    return CheckedBackup(root, manifest, sorted(listed))


def _check_member(root: Path, member: str, entry: dict[str, Any]) -> None:
    digest, size = hashlib.sha256(), 0
    try:
        with (root / member).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise BackupRefused(f"无法读取备份文件 (cannot read {member} of the backup: {exc.strerror or exc})") from None
    if (digest.hexdigest(), size) != (entry.get("sha256"), entry.get("size")):
        raise BackupRefused(f"备份文件与清单不符，可能已被篡改 (the backup's {member} does not give the SHA-256 and size "
                            "its manifest names: damaged or altered; nothing was restored)")

