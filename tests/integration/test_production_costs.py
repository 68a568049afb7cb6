"""Tests hash passwords and encrypt officers' keys at a low cost (tests/dbtemplates.py); production must not."""

from __future__ import annotations

import argon2
from asn1crypto import keys, pem
from sqlalchemy import select

from engine.db.tables import UserKeyRow, UserRow
from engine.startup import build_services
from engine.usecases.logins import log_in
from engine.usecases.users import add_user
from engine.values import AddUser, LogIn, fixed_clock
from signatures.keywrap import is_wrapped, unwrap_key
from tests.conftest import at


def test_services_built_without_arguments_hash_and_encrypt_at_the_production_costs(monkeypatch, tmp_path):
    monkeypatch.setenv("CASETRAIL_DATA_DIR", str(tmp_path))  # the database and the agency keys
    monkeypatch.delenv("CASETRAIL_DATABASE_URL", raising=False)
    clock = fixed_clock(at("2026-09-01 08:00"))
    svc = build_services()
    try:
        add_user(AddUser(user_id="clerk", name="李受理", password="correct-horse-2026", roles=["intake"],
                         pin="135790"), svc=svc, clock=clock)
        assert log_in(LogIn(user_id="clerk", password="correct-horse-2026", source="127.0.0.1"),
                      svc=svc, clock=clock).user.id == "clerk"
        with svc.uow.read() as session:
            password_hash = session.scalar(select(UserRow.password_hash).where(UserRow.id == "clerk"))
            key = session.scalar(select(UserKeyRow).where(UserKeyRow.user_id == "clerk"))
            assert is_wrapped(key.encrypted_pem)  # under the key-encryption key held outside the database
            encrypted = unwrap_key(svc.officer_kek.key(), key.encrypted_pem, user_id="clerk",
                                   fingerprint=key.fingerprint)
    finally:
        svc.engine.dispose()
    # argon2id, t=3, 64 MiB, p=4: RFC 9106's second recommendation, argon2-cffi's default
    assert argon2.extract_parameters(password_hash) == argon2.profiles.RFC_9106_LOW_MEMORY
    assert password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    # scrypt N=2**13, r=8, p=1 (engine.keystore.PRODUCTION_KDF_COST, docs/signatures.md) in the PBES2 parameters
    _, _, der = pem.unarmor(encrypted)
    pbes2 = keys.EncryptedPrivateKeyInfo.load(der)["encryption_algorithm"]["parameters"]
    kdf = pbes2["key_derivation_func"]
    assert kdf["algorithm"].dotted == "1.3.6.1.4.1.11591.4.11"  # id-scrypt (RFC 7914)
    salt, n, r, p, length = kdf["parameters"].native.values()
    assert (n, r, p, length, len(salt)) == (2**13, 8, 1, 32, 16)
