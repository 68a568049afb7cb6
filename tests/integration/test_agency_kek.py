"""The agency's root CA, seal and log keys are encrypted at rest under the agency's key-encryption key, which the
operator gives at start; a missing or wrong one stops every command and the server before anything is written
(issue 13, item 10)."""

from __future__ import annotations

import base64
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from engine.cli import main
from engine.demo_users import DEMO_PIN
from engine.errors import ConfigurationError
from engine.keystore import AGENCY_KEK_ENV, AGENCY_KEK_FILE_ENV, OFFICER_KEK_ENV
from engine.startup import build_services
from engine.usecases.users import list_users
from engine.values import fixed_clock
from signatures.errors import KeyWrapError
from signatures.keywrap import AesGcmKek, unwrap_agency_key
from signatures.pki import fingerprint, load_certificate
from tests.conftest import TEST_KDF_COST, at

NOW = at("2026-09-20 10:00")
NAMES = ("root", "seal", "log")


@pytest.fixture
def data_dir(ready_svc, tmp_path) -> Path:
    """A data directory with a copy of the test database's keys (its agency KEK beside them, as `init` made it)."""
    directory = tmp_path / "process-data"
    directory.mkdir()
    shutil.copytree(ready_svc.agency_keys.directory, directory / "keys")
    return directory


@pytest.fixture
def keys_dir(data_dir) -> Path:
    return data_dir / "keys"


@pytest.fixture
def cli(ready_svc, data_dir, monkeypatch):
    monkeypatch.setenv("CASETRAIL_DATABASE_URL", ready_svc.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CASETRAIL_DATA_DIR", str(data_dir))
    for name in (AGENCY_KEK_ENV, AGENCY_KEK_FILE_ENV, OFFICER_KEK_ENV):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False, obj={"clock": fixed_clock(NOW)})

    return run


def _files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def _kek(keys_dir: Path) -> AesGcmKek:
    return AesGcmKek((keys_dir / "agency-kek.bin").read_bytes())


def _make_plain(keys_dir: Path) -> None:
    """The key directory as releases before this one wrote it: plain PEM keys, no agency KEK."""
    kek = _kek(keys_dir)
    for name in NAMES:
        cert = load_certificate((keys_dir / f"{name}.cert.pem").read_bytes())
        der = unwrap_agency_key(kek, (keys_dir / f"{name}.key.wrapped").read_bytes(), name=name,
                                fingerprint=fingerprint(cert))
        key = serialization.load_der_private_key(der, password=None)
        (keys_dir / f"{name}.key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        (keys_dir / f"{name}.key.wrapped").unlink()
    (keys_dir / "agency-kek.bin").unlink()


def _add_officer(cli, user_id: str = "officer9"):
    """Issuing an officer's certificate: the root CA key signs."""
    return cli("user", "add", user_id, "--name", "钱承办", "--role", "officer", "--password", "pw-lantern-2026",
               "--pin", DEMO_PIN)


def _user_ids(svc) -> set[str]:
    return {user.id for user in list_users(svc)}


def test_the_agency_private_keys_at_rest_are_no_key_an_attacker_can_read(ready_svc, keys_dir):
    for name in NAMES:
        stored = (keys_dir / f"{name}.key.wrapped").read_bytes()
        assert b"BEGIN" not in stored and b"PRIVATE KEY" not in stored
        for loader in (serialization.load_pem_private_key, serialization.load_der_private_key):
            with pytest.raises(ValueError):
                loader(stored, password=None)
        assert stat.S_IMODE((keys_dir / f"{name}.key.wrapped").stat().st_mode) == 0o600
        assert not (keys_dir / f"{name}.key.pem").exists()
    # Each envelope is bound to its name and certificate: the root key put in the seal's place does not open.
    seal = load_certificate((keys_dir / "seal.cert.pem").read_bytes())
    with pytest.raises(KeyWrapError, match="does not open"):
        unwrap_agency_key(_kek(keys_dir), (keys_dir / "root.key.wrapped").read_bytes(), name="seal",
                          fingerprint=fingerprint(seal))
    # …and a KEK of a thief's own making opens nothing.
    with pytest.raises(KeyWrapError, match="another key-encryption key"):
        unwrap_agency_key(AesGcmKek.generate(), (keys_dir / "seal.key.wrapped").read_bytes(), name="seal",
                          fingerprint=fingerprint(seal))


def test_a_missing_agency_kek_is_refused_at_start_with_nothing_written(ready_svc, cli, keys_dir, tmp_path):
    (keys_dir / "agency-kek.bin").rename(tmp_path / "kept-elsewhere.bin")
    before = _files(keys_dir)
    for args in (("keys", "status"), ("init",), ("keys", "encrypt")):
        refused = cli(*args)
        assert refused.exit_code == 2, args
        assert refused.stderr.count("\n") == 1 and "keys/agency-kek.bin" in refused.stderr
        assert AGENCY_KEK_ENV in refused.stderr and "missing" in refused.stderr
    refused = _add_officer(cli)
    assert refused.exit_code == 2 and "agency's key-encryption key is missing" in refused.stderr
    assert _files(keys_dir) == before  # no new KEK made in place of the missing one, nothing re-encrypted
    assert "officer9" not in _user_ids(ready_svc)


def test_a_wrong_agency_kek_is_refused_by_every_command_and_by_the_server(ready_svc, cli, keys_dir, monkeypatch):
    before = _files(keys_dir)
    monkeypatch.setenv(AGENCY_KEK_ENV, base64.b64encode(os.urandom(32)).decode())
    refused = _add_officer(cli)
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1
    assert f"environment variable {AGENCY_KEK_ENV} does not open the root key" in refused.stderr
    assert "officer9" not in _user_ids(ready_svc)
    from web.app import create_app

    with pytest.raises(ConfigurationError, match="does not open"):
        create_app()  # the server refuses to start: never a server that cannot sign
    monkeypatch.setenv(AGENCY_KEK_ENV, "not base64!")
    assert "is not base64" in cli("keys", "status").stderr
    assert _files(keys_dir) == before


def test_signing_works_after_a_restart_with_the_kek_given_by_the_operator(ready_svc, cli, keys_dir, tmp_path,
                                                                          monkeypatch):
    # Production: the KEK is taken away from the keys and given at start.
    secret = (keys_dir / "agency-kek.bin").read_bytes()
    (keys_dir / "agency-kek.bin").rename(tmp_path / "agency-kek.bin")
    monkeypatch.setenv(AGENCY_KEK_FILE_ENV, str(tmp_path / "agency-kek.bin"))
    assert _add_officer(cli, "officer8").exit_code == 0
    monkeypatch.delenv(AGENCY_KEK_FILE_ENV)
    monkeypatch.setenv(AGENCY_KEK_ENV, base64.b64encode(secret).decode())
    added = _add_officer(cli, "officer9")
    assert added.exit_code == 0 and added.stderr == ""
    assert {"officer8", "officer9"} <= _user_ids(ready_svc)
    restarted = build_services(ready_svc.engine.url.render_as_string(hide_password=False), keys_dir=keys_dir,
                               kdf_cost=TEST_KDF_COST)
    try:
        for signer in (restarted.agency_keys.seal_signer(), restarted.agency_keys.log_signer()):
            signature = signer.sign(b"tree head")
            signer.certificate.public_key().verify(signature, b"tree head", ec.ECDSA(hashes.SHA256()))
    finally:
        restarted.engine.dispose()
    assert not (keys_dir / "agency-kek.bin").exists()  # given by the operator: nothing made beside the keys


def test_rotating_the_agency_kek_rewraps_the_keys_and_the_old_kek_is_then_refused(ready_svc, cli, keys_dir,
                                                                                  tmp_path):
    new = tmp_path / "new-agency-kek.bin"
    new.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")  # base64, as `head -c 32 … | base64` gives
    old_files = _files(keys_dir)
    rotated = cli("keys", "rewrap", "--new-kek-file", str(new), "--json")
    assert rotated.exit_code == 0, rotated.output
    assert all(_files(keys_dir)[f"{name}.key.wrapped"] != old_files[f"{name}.key.wrapped"] for name in NAMES)
    assert _files(keys_dir)["root.cert.pem"] == old_files["root.cert.pem"]  # same keys, same certificates
    refused = cli("keys", "status")  # the old KEK is still installed: refused until the new one is
    assert refused.exit_code == 2 and "another key-encryption key" in refused.stderr
    shutil.copyfile(new, keys_dir / "agency-kek.bin")
    shown = cli("keys", "status", "--json")
    assert shown.exit_code == 0 and '"plain": []' in shown.output
    assert _add_officer(cli).exit_code == 0


def test_plain_keys_keep_working_with_a_warning_until_keys_encrypt(ready_svc, cli, keys_dir):
    _make_plain(keys_dir)
    used = _add_officer(cli)
    assert used.exit_code == 0
    assert "stored unencrypted" in used.stderr and "casetrail keys encrypt" in used.stderr
    encrypted = cli("keys", "encrypt")
    assert encrypted.exit_code == 0 and "root, seal, log encrypted under file keys/agency-kek.bin" in encrypted.stdout
    assert "beside the keys" in encrypted.stderr and "production" in encrypted.stderr  # a demo's place, said so
    assert not any((keys_dir / f"{name}.key.pem").exists() for name in NAMES)
    assert not any(path.name.endswith(".replaced") for path in keys_dir.parent.iterdir())  # no plain copy left
    quiet = cli("keys", "status")
    assert quiet.exit_code == 0 and quiet.stderr == "" and "unencrypted none" in quiet.stdout
    assert cli("keys", "encrypt").stdout.startswith("agency keys already encrypted")


def test_init_encrypts_plain_keys_under_the_operators_kek(ready_svc, cli, keys_dir, monkeypatch):
    _make_plain(keys_dir)
    secret = os.urandom(32)
    monkeypatch.setenv(AGENCY_KEK_ENV, base64.b64encode(secret).decode())
    done = cli("init")
    assert done.exit_code == 0 and f"now encrypted under environment variable {AGENCY_KEK_ENV}" in done.stdout
    assert not (keys_dir / "agency-kek.bin").exists()
    cert = load_certificate((keys_dir / "root.cert.pem").read_bytes())
    assert unwrap_agency_key(AesGcmKek(secret), (keys_dir / "root.key.wrapped").read_bytes(), name="root",
                             fingerprint=fingerprint(cert))
    assert _add_officer(cli).exit_code == 0
