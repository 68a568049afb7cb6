"""Backup and restore (issue 17): a backup taken while steps are being completed restores into an empty database
and data directory as a copy that verifies, case by case the same as the original was when the backup was taken;
a tampered backup and a non-empty target are refused with nothing written."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from engine.blobs import DirectoryStore
from engine.db.dump import target_revision
from engine.db.session import make_engine, migrate
from engine.db.tables import CaseRow
from engine.demo import SCENARIOS, play, play_step
from engine.errors import BackupRefused
from engine.keystore import AGENCY_KEK_FILE, OFFICER_KEK_FILE
from engine.seed import evidence_files
from engine.services import Services
from engine.spiff.clocks import MutableClock
from engine.usecases.audit import export_case, verify_cases
from engine.usecases.backup import MANIFEST, make_backup
from engine.usecases.restore import restore_backup
from engine.values import fixed_clock
from tests.conftest import DB_BACKENDS, POSTGRES_URL, at
from tests.dbtemplates import open_services

REPO = Path(__file__).resolve().parents[2]
LOAD_START = at("2026-09-15 09:00")
LATER = at("2026-12-01 10:00")  # after every step played here: exports and verification run then
PLAYED = ("not_accepted", "transferred", "summary_penalty")
LOADED = "no_penalty_minor"  # its first steps take evidence files; the load completes the rest
LOADED_BEFORE_BACKUP = 6


# --- targets: an empty database and data directory -------------------------------------------------------------
@pytest.fixture
def empty_target(db_backend: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An empty database of the test's backend and an empty data directory (URL, data dir)."""
    with _empty_database(db_backend, tmp_path / "restored") as url:
        yield url, tmp_path / "restored"


class _empty_database:  # noqa: N801 - used as a context manager, like contextlib's
    def __init__(self, backend: str, root: Path) -> None:
        self.backend, self.root, self.schema = backend, root, f"ctr_{uuid.uuid4().hex[:16]}"
        root.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.root / 'casetrail.db'}"
        assert POSTGRES_URL
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        admin.dispose()
        sep = "&" if "?" in POSTGRES_URL else "?"
        return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{self.schema}"

    def __exit__(self, *_: object) -> None:
        if self.backend == "postgres":
            admin = create_engine(POSTGRES_URL or "")
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            admin.dispose()


def _keep_keks_apart(svc: Services, keys_dir: Path) -> None:
    """What the operator does after a restore: put back the key-encryption keys, kept apart from the backup."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    for name in (AGENCY_KEK_FILE, OFFICER_KEK_FILE):
        source = svc.agency_keys.directory / name
        if source.exists():
            shutil.copy2(source, keys_dir / name)


def _restored(svc: Services, backup: Path, url: str, data_dir: Path) -> Services:
    restore_backup(backup, url=url, keys_dir=data_dir / "keys", blobs=DirectoryStore(data_dir / "blobs"))
    _keep_keks_apart(svc, data_dir / "keys")
    return open_services(url, data_dir / "keys", upgrade=True, data_dir=data_dir)


# --- what is compared ------------------------------------------------------------------------------------------
def _case_numbers(svc: Services) -> list[str]:
    with svc.uow.read() as session:
        return list(session.scalars(select(CaseRow.number).order_by(CaseRow.id)))


def _bundle(svc: Services, number: str) -> dict[str, list]:
    """What a case's evidence bundle vouches for: its signed records, 文书 and evidence files (the bundle's own
    creation time and tree head differ from one export to the next, so not its bytes)."""
    with zipfile.ZipFile(io.BytesIO(export_case(svc, number, clock=fixed_clock(LATER)))) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
    return {"records": [(f["path"], f["sha256"]) for f in manifest["files"] if f["path"].startswith("records/")],
            "documents": manifest["documents"], "evidence": manifest["evidence"]}


def _play_rest(svc: Services, number: str, failures: list[BaseException]) -> None:
    """The load: the loaded case's remaining steps, one signed step after another, evidence files added."""
    steps = SCENARIOS[LOADED].steps
    clock = MutableClock(LOAD_START + LOADED_BEFORE_BACKUP * _GAP)
    add_files = evidence_files(svc, _load_folder(svc), 1)
    try:
        for step in steps[LOADED_BEFORE_BACKUP:]:
            clock.advance_to(clock() + _GAP)
            add_files(number, step, clock)
            play_step(svc, number, step, clock)
    except BaseException as exc:  # reported by the test, not lost with the thread
        failures.append(exc)


_GAP = LOAD_START - at("2026-09-15 08:00")  # play()'s default step gap: one hour


def _load_folder(svc: Services) -> Path:
    folder = svc.data_dir / f"load-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    return folder


# --- the round trip --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("played", [PLAYED], indirect=True)
def test_a_backup_taken_under_load_restores_into_an_empty_database_as_a_verified_copy(played, ready_svc, empty_target,
                                                                                     tmp_path):
    svc = ready_svc
    loaded = play(svc, SCENARIOS[LOADED], start=LOAD_START, stop_before=LOADED_BEFORE_BACKUP,
                  before_step=evidence_files(svc, _load_folder(svc), 0)).case
    failures: list[BaseException] = []
    load = threading.Thread(target=_play_rest, args=(svc, loaded.number, failures))
    load.start()
    try:
        summary = make_backup(svc, tmp_path / "backup", clock=fixed_clock(LATER))
    finally:
        load.join()
    assert not failures, failures
    manifest = json.loads((tmp_path / "backup" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["keys"]["kek_included"] is False and summary.blobs > 0 and len(summary.key_files) == 6
    assert not [p for p in (tmp_path / "backup").rglob("*") if "kek" in p.name]  # the KEKs are kept apart

    url, data_dir = empty_target
    restored = _restored(svc, tmp_path / "backup", url, data_dir)
    try:
        reports = verify_cases(restored, None, clock=fixed_clock(LATER), rehash=True)
        assert len(reports) == summary.counts["cases"] == len(PLAYED) + 1
        assert all(r.ok for r in reports), [r.to_text() for r in reports if not r.ok]
        numbers = _case_numbers(restored)
        assert numbers == _case_numbers(svc)
        for number in numbers:
            before, after = _bundle(svc, number), _bundle(restored, number)
            if number == loaded.number:  # the snapshot caught the loaded case part-way: its records so far
                assert after["records"] == before["records"][:len(after["records"])]
                assert len(after["records"]) >= LOADED_BEFORE_BACKUP
            else:
                assert after == before
        # The restored copy goes on: new rows take ids after the restored ones (PostgreSQL's sequences moved).
        more = play(restored, SCENARIOS["not_accepted"], start=at("2026-11-02 09:00")).case
        [report] = verify_cases(restored, [more.number], clock=fixed_clock(LATER))
        assert report.ok, report.to_text()
    finally:
        restored.engine.dispose()


@pytest.mark.skipif(not POSTGRES_URL, reason="needs CASETRAIL_TEST_POSTGRES_URL")
@pytest.mark.parametrize("played", ["summary_penalty"], indirect=True)
def test_a_backup_restores_into_the_other_database_dialect(played, ready_svc, db_backend, tmp_path):
    other = next(b for b in DB_BACKENDS if b != db_backend)
    make_backup(ready_svc, tmp_path / "backup", clock=fixed_clock(LATER))
    with _empty_database(other, tmp_path / "other") as url:
        restored = _restored(ready_svc, tmp_path / "backup", url, tmp_path / "other")
        try:
            [report] = verify_cases(restored, None, clock=fixed_clock(LATER), rehash=True)
            assert report.ok, report.to_text()
            assert _bundle(restored, played.number) == _bundle(ready_svc, played.number)
        finally:
            restored.engine.dispose()


# --- refusals: nothing written ---------------------------------------------------------------------------------
def _nothing_restored(url: str, data_dir: Path) -> bool:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            unmigrated = target_revision(conn) is None
    finally:
        engine.dispose()
    return unmigrated and not (data_dir / "keys").exists() and not (data_dir / "blobs").exists()


@pytest.mark.parametrize("played", ["not_accepted"], indirect=True)
def test_a_tampered_or_padded_backup_is_refused_before_anything_is_written(played, ready_svc, empty_target, tmp_path):
    backup = tmp_path / "backup"
    make_backup(ready_svc, backup, clock=fixed_clock(LATER))
    url, data_dir = empty_target
    cases = backup / "database" / "cases.jsonl"
    original = cases.read_bytes()
    cases.write_bytes(original.replace(played.number.encode(), "呈卫投〔2026〕9999号".encode()))
    with pytest.raises(BackupRefused, match="database/cases.jsonl"):
        restore_backup(backup, url=url, keys_dir=data_dir / "keys", blobs=DirectoryStore(data_dir / "blobs"))
    assert _nothing_restored(url, data_dir)

    cases.write_bytes(original)
    (backup / "keys" / "extra.key.wrapped").write_bytes(b"not from the backup")
    with pytest.raises(BackupRefused, match="keys/extra.key.wrapped"):
        restore_backup(backup, url=url, keys_dir=data_dir / "keys", blobs=DirectoryStore(data_dir / "blobs"))
    assert _nothing_restored(url, data_dir)


@pytest.mark.parametrize("played", ["not_accepted"], indirect=True)
def test_a_target_that_holds_rows_or_keys_is_refused_with_nothing_written(played, ready_svc, empty_target, tmp_path):
    backup = tmp_path / "backup"
    make_backup(ready_svc, backup, clock=fixed_clock(LATER))
    url = ready_svc.engine.url.render_as_string(hide_password=False)
    before = _case_numbers(ready_svc)
    with pytest.raises(BackupRefused, match="not empty"):
        restore_backup(backup, url=url, keys_dir=tmp_path / "new" / "keys", blobs=DirectoryStore(tmp_path / "new"))
    assert _case_numbers(ready_svc) == before and not (tmp_path / "new").exists()

    empty_url, data_dir = empty_target  # an empty database, but a key directory holding the agency's keys
    keys = ready_svc.agency_keys.directory
    held = {p.name: p.read_bytes() for p in keys.iterdir()}
    with pytest.raises(BackupRefused, match="already holds"):
        restore_backup(backup, url=empty_url, keys_dir=keys, blobs=DirectoryStore(data_dir / "blobs"))
    assert _nothing_restored(empty_url, data_dir) and {p.name: p.read_bytes() for p in keys.iterdir()} == held


# --- through the command, in processes of their own ------------------------------------------------------------
def _casetrail(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tests.integration.cli_process", LATER.isoformat(), "--", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def _environment(url: str, data_dir: Path, blobs: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "CASETRAIL_DATABASE_URL": url, "CASETRAIL_DATA_DIR": str(data_dir), "PYTHONWARNINGS": "ignore"}
    env.pop("CASETRAIL_BLOB_STORE", None)
    if blobs is not None:
        env["CASETRAIL_BLOB_STORE"] = str(blobs)
    return env


@pytest.mark.parametrize("played", ["summary_penalty"], indirect=True)
def test_backup_and_restore_commands_round_trip_and_refuse_in_one_line(played, ready_svc, empty_target, tmp_path):
    source_dir = tmp_path / "source-data"
    source_dir.mkdir()
    (source_dir / "keys").symlink_to(ready_svc.agency_keys.directory)
    assert isinstance(ready_svc.blobs, DirectoryStore)
    source = _environment(ready_svc.engine.url.render_as_string(hide_password=False), source_dir, ready_svc.blobs.root)
    made = _casetrail(source, "backup", "--out", str(tmp_path / "backup"))
    assert made.returncode == 0, made.stderr
    assert "1 cases" in made.stdout and "NOT in this backup" in made.stdout

    url, data_dir = empty_target
    engine = make_engine(url)  # a target an earlier start already migrated is still empty
    migrate(engine)
    engine.dispose()
    target = _environment(url, data_dir)
    done = _casetrail(target, "restore", str(tmp_path / "backup"), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"]["cases"] == 1
    _keep_keks_apart(ready_svc, data_dir / "keys")
    verified = _casetrail(target, "verify", "--all")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    again = _casetrail(target, "restore", str(tmp_path / "backup"))
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "not empty" in again.stderr
    fresh = _environment(f"sqlite:///{tmp_path / 'fresh' / 'casetrail.db'}", tmp_path / "fresh")
    missing = _casetrail(fresh, "restore", str(tmp_path / "no-such-backup"))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "no-such-backup" in missing.stderr
    with (tmp_path / "backup" / "database" / "users.jsonl").open("a", encoding="utf-8") as users:
        users.write('["intruder","入侵者"]\n')
    tampered = _casetrail(fresh, "restore", str(tmp_path / "backup"))
    assert tampered.returncode == 2 and tampered.stderr.count("\n") == 1
    assert "database/users.jsonl" in tampered.stderr and not (tmp_path / "fresh" / "keys").exists()
