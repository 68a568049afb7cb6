"""The demo's history predates `casetrail init`: agency keys that have signed nothing are re-created dated from
its start, certificate rows and files together; keys that have vouched for anything are never replaced."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import journal
from engine.db.tables import CertificateRow
from engine.errors import Conflict
from engine.keystore import FileAgencyKeys
from engine.usecases.users import add_user
from engine.values import AddUser, fixed_clock
from signatures.pki import fingerprint
from tests.conftest import at

INIT = at("2026-11-23 09:00")
HISTORY_START = INIT - dt.timedelta(days=120)


def _agency_rows(svc) -> dict[str, tuple[str, dt.datetime]]:
    with svc.uow.read() as session:
        return {row.fingerprint: (row.role, row.not_before) for row in session.scalars(
            select(CertificateRow).where(CertificateRow.user_id.is_(None)))}


def _files(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_keys_that_signed_nothing_are_recreated_from_an_earlier_moment_with_their_rows(svc):
    with svc.uow() as work:
        journal.ensure_agency(svc, work.session, INIT)
        work.commit()
    old = _agency_rows(svc)
    assert journal.agency_valid_since(svc) == INIT
    journal.recreate_agency_keys(svc, HISTORY_START)
    assert journal.agency_valid_since(svc) == HISTORY_START
    new = _agency_rows(svc)
    certificates = svc.agency_keys.certificates().values()
    on_file = {fingerprint(c): role for role, c in zip(("ca", "seal", "log"), certificates, strict=True)}
    assert {fp: role for fp, (role, _) in new.items()} == on_file
    assert {since for _, since in new.values()} == {HISTORY_START}
    assert not set(old) & set(new)


def test_keys_that_vouched_for_an_officer_are_never_replaced(svc, tmp_path):
    with svc.uow() as work:
        journal.ensure_agency(svc, work.session, INIT)
        work.commit()
    add_user(AddUser(user_id="officer9", name="钱承办", password="pw-lantern-2026", roles=["officer"], unit="",
                     pin="123456"), svc=svc, clock=fixed_clock(INIT))
    rows, files = _agency_rows(svc), _files(tmp_path / "agency-keys")
    with pytest.raises(Conflict, match="1 officer certificates"):
        journal.recreate_agency_keys(svc, HISTORY_START)
    assert _agency_rows(svc) == rows and _files(tmp_path / "agency-keys") == files
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".agency-keys")) == []


def test_a_failed_registration_leaves_the_old_key_files_as_they_were(tmp_path):
    keys = FileAgencyKeys(tmp_path / "keys")
    keys.create("呈州市卫生健康委员会", "呈州市卫生健康委员会行政执法专用章", now=INIT)
    before = _files(tmp_path / "keys")

    def register(certificates):
        assert certificates["root"].not_valid_before_utc == HISTORY_START
        raise Conflict("the database said no")

    with pytest.raises(Conflict):
        keys.replace("呈州市卫生健康委员会", "呈州市卫生健康委员会行政执法专用章", now=HISTORY_START, register=register)
    assert _files(tmp_path / "keys") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys"]  # no staging directory left behind
    assert keys.certificates()["root"].not_valid_before_utc == INIT
