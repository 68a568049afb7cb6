"""Officers' keys are wrapped under a key-encryption key held outside the database, so a copied database (or a
backup of it) yields no key and nothing to guess PINs against offline (issue 13, item 9)."""

from __future__ import annotations

import base64
import os
import shutil
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import create_engine, select, text, update

from engine import journal
from engine.db.tables import UserKeyRow
from engine.demo_users import DEMO_PIN
from engine.errors import ConfigurationError, SigningError, WrongSigningPin
from engine.keystore import OFFICER_KEK_ENV, PRODUCTION_KDF_COST, EnvironmentOfficerKek
from engine.officer_keys import rewrap_officer_keys
from engine.rules.settings import load_settings
from engine.services import Services
from engine.startup import build_services
from engine.usecases.signing_pins import signing_pin
from engine.usecases.users import add_user
from engine.values import AddUser, fixed_clock
from signatures.errors import KeyWrapError, SignatureError
from signatures.keys import EncryptedKey, ScryptCost
from signatures.keywrap import AesGcmKek, is_wrapped, unwrap_key
from tests.conftest import TEST_KDF_COST, at

NOW = at("2026-09-20 10:00")


@pytest.fixture
def officers(svc):
    for user_id, name in (("officer1", "王承办"), ("officer2", "赵承办")):
        add_user(AddUser(user_id=user_id, name=name, password="pw-lantern-2026", roles=["officer"],
                         pin=DEMO_PIN), svc=svc, clock=fixed_clock(at("2026-09-01 08:00")))
    return svc


def _sign(svc: Services, user_id: str = "officer1", pin: str = DEMO_PIN):
    with svc.uow.read() as session:
        return journal.unlock_signer(svc, session, user_id, pin, NOW)


def _stored(db_url: str, user_id: str = "officer1") -> tuple[str, bytes]:
    """What a thief reads from the database with plain SQL: the key's fingerprint and stored bytes."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT fingerprint, encrypted_pem FROM user_keys WHERE user_id = :u"),
                                     {"u": user_id}).one()
            return row[0], bytes(row[1])
    finally:
        engine.dispose()


def _start(db_url: str, keys_dir, **kwargs) -> Services:
    return build_services(db_url, settings=load_settings(), keys_dir=keys_dir, kdf_cost=TEST_KDF_COST, **kwargs)


def test_a_copied_database_without_the_kek_yields_no_key(officers, db_url, tmp_path):
    fingerprint, stolen = _stored(db_url)
    # Not a PEM, not a PKCS#8 at all: nothing to run a PIN guesser against.
    assert is_wrapped(stolen) and b"BEGIN" not in stolen and b"PRIVATE KEY" not in stolen
    for loader in (serialization.load_pem_private_key, serialization.load_der_private_key):
        with pytest.raises(ValueError):
            loader(stolen, password=DEMO_PIN.encode())
    cert = _sign(officers).certificate
    with pytest.raises(SignatureError, match="cannot be read"):
        EncryptedKey(stolen, cert).unlock(DEMO_PIN)  # the right PIN, even, opens nothing
    # A KEK of the thief's own making does not open it.
    with pytest.raises(KeyWrapError, match="another key-encryption key"):
        unwrap_key(AesGcmKek.generate(), stolen, user_id="officer1", fingerprint=fingerprint)
    # Started elsewhere without the key directory: refused, and no new KEK is made in its place.
    elsewhere = tmp_path / "thief-keys"
    with pytest.raises(ConfigurationError, match="missing") as refused:
        _start(db_url, elsewhere)
    assert "restore" in refused.value.message and "2 officer keys" in refused.value.message
    assert not (elsewhere / "officer-kek.bin").exists()


def test_a_wrong_kek_is_a_configuration_error_at_start_and_never_a_wrong_pin(officers, db_url, tmp_path,
                                                                             monkeypatch):
    monkeypatch.setenv(OFFICER_KEK_ENV, base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(ConfigurationError, match="is not the one 2 of 2 stored officer keys are wrapped under"):
        _start(db_url, tmp_path / "agency-keys")
    # A worker started without the check (or before a restore went wrong) refuses at unlock, uncounted.
    unchecked = _start(db_url, tmp_path / "agency-keys", upgrade=False)
    try:
        with pytest.raises(ConfigurationError, match="key-encryption key"):
            _sign(unchecked)
    finally:
        unchecked.engine.dispose()
    assert signing_pin(officers, "officer1").failures == 0
    monkeypatch.setenv(OFFICER_KEK_ENV, "not base64!")
    with pytest.raises(ConfigurationError, match="base64"):
        _start(db_url, tmp_path / "agency-keys")


def test_a_key_moved_onto_another_officer_does_not_open_and_is_not_counted_as_a_wrong_pin(officers):
    svc = officers
    with svc.uow() as work:
        session = work.session
        theirs = session.scalar(select(UserKeyRow.encrypted_pem).where(UserKeyRow.user_id == "officer2"))
        session.execute(update(UserKeyRow).where(UserKeyRow.user_id == "officer1").values(encrypted_pem=theirs))
        work.commit()
    with pytest.raises(SigningError, match="does not open") as refused:
        _sign(svc)  # both use the same PIN: only the binding to officer and certificate stops it
    assert not isinstance(refused.value, WrongSigningPin)
    assert signing_pin(svc, "officer1").failures == 0


def test_keys_stored_before_wrapping_keep_working_and_are_wrapped_at_the_next_start(officers, db_url, tmp_path):
    svc = officers
    kek = svc.officer_kek.key()
    with svc.uow() as work:  # as the database was before this release: PIN-encrypted PEMs only
        for row in work.session.scalars(select(UserKeyRow)):
            row.encrypted_pem = unwrap_key(kek, row.encrypted_pem, user_id=row.user_id, fingerprint=row.fingerprint)
        work.commit()
    assert _stored(db_url)[1].startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert _sign(svc).certificate  # still signs
    with pytest.raises(WrongSigningPin):
        _sign(svc, pin="000000")  # and still counts
    (tmp_path / "agency-keys" / "officer-kek.bin").unlink()  # an install that never had a KEK
    restarted = _start(db_url, tmp_path / "agency-keys")
    try:
        assert all(is_wrapped(_stored(db_url, user)[1]) for user in ("officer1", "officer2"))
        assert (tmp_path / "agency-keys" / "officer-kek.bin").exists()
        assert _sign(restarted).certificate and _sign(restarted, "officer2").certificate
        assert signing_pin(restarted, "officer1").failures == 0  # the right PIN reset the count
    finally:
        restarted.engine.dispose()


def test_the_kek_file_is_made_with_the_agency_keys_readable_by_the_service_account_only(svc, tmp_path):
    path = tmp_path / "agency-keys" / "officer-kek.bin"
    with svc.uow() as work:  # what `casetrail init` does
        journal.ensure_agency(svc, work.session, NOW)
        work.commit()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(path.read_bytes()) == 32
    # Replacing the agency keys (demo --seed-only, before anything is signed) keeps the officers' KEK.
    before = path.read_bytes()
    journal.recreate_agency_keys(svc, at("2026-01-01 08:00"))
    assert path.read_bytes() == before and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_kek_from_the_environment_takes_precedence_over_the_file(svc, db_url, tmp_path, monkeypatch):
    secret = os.urandom(32)
    monkeypatch.setenv(OFFICER_KEK_ENV, base64.b64encode(secret).decode())
    operator = _start(db_url, tmp_path / "operator-keys")
    try:
        assert isinstance(operator.officer_kek, EnvironmentOfficerKek)
        add_user(AddUser(user_id="officer3", name="孙承办", password="pw-lantern-2026", roles=["officer"],
                         pin=DEMO_PIN), svc=operator, clock=fixed_clock(at("2026-09-01 08:00")))
        assert not (tmp_path / "operator-keys" / "officer-kek.bin").exists()
        fingerprint, stored = _stored(db_url, "officer3")
        assert unwrap_key(AesGcmKek(secret), stored, user_id="officer3", fingerprint=fingerprint)
        assert _sign(operator, "officer3").certificate
    finally:
        operator.engine.dispose()


def test_rotating_the_kek_rewraps_every_key_and_the_old_kek_is_then_refused(officers, db_url, tmp_path,
                                                                            monkeypatch):
    new = os.urandom(32)
    assert rewrap_officer_keys(officers, AesGcmKek(new)) == 2
    with pytest.raises(ConfigurationError, match="is not the one"):
        _start(db_url, tmp_path / "agency-keys")  # the old file: refused until the new KEK is installed
    monkeypatch.setenv(OFFICER_KEK_ENV, base64.b64encode(new).decode())
    rotated = _start(db_url, tmp_path / "agency-keys")
    try:
        assert _sign(rotated).certificate and _sign(rotated, "officer2").certificate
    finally:
        rotated.engine.dispose()


def test_build_services_without_arguments_uses_the_production_costs(tmp_path, monkeypatch):
    monkeypatch.setenv("CASETRAIL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CASETRAIL_DATABASE_URL", raising=False)
    monkeypatch.delenv(OFFICER_KEK_ENV, raising=False)
    svc = build_services()
    try:
        assert svc.kdf_cost == PRODUCTION_KDF_COST == ScryptCost(n=2**13, r=8, p=1)  # docs/signatures.md
        assert svc.officer_kek.description == "file keys/officer-kek.bin"
    finally:
        svc.engine.dispose()
    shutil.rmtree(tmp_path / "data")
