"""The agency's own keys — root CA, electronic seal (电子印章) and log key — behind a small interface.

Officers' keys are not here: they live in the database, encrypted under each officer's PIN (see
engine/journal.py and signatures.keys). The agency's three keys cannot wait for a PIN (the worker signs
tree heads unattended), so `FileAgencyKeys` keeps them as PEM files readable only by the service account
(mode 0600) in `$CASETRAIL_DATA_DIR/keys/`, outside the database: a stolen database backup then holds
no agency private key. `AgencyKeys` is a Protocol so an HSM (PKCS#11) can replace the files later; the
engine only ever asks for an `Authority` to issue certificates and CRLs, and `Signer`s for seal and log.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from engine.errors import ConfigurationError
from signatures.algorithms import generate_private_key
from signatures.keys import KeySigner, ScryptCost
from signatures.pki import (
    Authority,
    certificate_pem,
    issue_log_certificate,
    issue_seal_certificate,
    load_certificate,
    make_root_ca,
)

__all__ = ["PRODUCTION_KDF_COST", "AgencyKeys", "FileAgencyKeys", "ScryptCost"]

# scrypt N=2**14, r=8, p=1: 16 MiB and ~30-70 ms per unlock on one server core (docs/signatures.md has
# the measurement). Every signed step pays it once; a thief of the database pays it per PIN guess, so a
# 6-digit PIN costs ~10^6 x 16 MiB-scrypt ≈ one core-day per key. The library default (p=8, ~0.3 s)
# would make every task completion wait a third of a second.
PRODUCTION_KDF_COST = ScryptCost(n=2**14, r=8, p=1)

ROOT_VALIDITY = dt.timedelta(days=20 * 365)
AGENCY_VALIDITY = dt.timedelta(days=10 * 365)
_NAMES = ("root", "seal", "log")


class AgencyKeys(Protocol):
    """Where the agency's root CA, seal and log keys live (files today, an HSM later)."""

    def exists(self) -> bool: ...

    def create(self, organization: str, seal_name: str, *, now: dt.datetime) -> None: ...

    def replace(self, organization: str, seal_name: str, *, now: dt.datetime,
                register: Callable[[dict[str, x509.Certificate]], None]) -> None:
        """New keys in place of the existing ones: `register` (the database's part) runs with the new
        certificates before they are put in place, and nothing changes if it raises."""
        ...

    def authority(self) -> Authority: ...

    def seal_signer(self) -> KeySigner: ...

    def log_signer(self) -> KeySigner: ...

    def certificates(self) -> dict[str, x509.Certificate]: ...


class FileAgencyKeys:
    """The three agency keys as PEM files (private keys mode 0600) with their certificates beside them."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._cache: dict[str, tuple[object, x509.Certificate]] = {}

    def _paths(self, name: str) -> tuple[Path, Path]:
        return _key_paths(self.directory, name)

    def exists(self) -> bool:
        return all(p.exists() for name in _NAMES for p in self._paths(name))

    def create(self, organization: str, seal_name: str, *, now: dt.datetime) -> None:
        """Make the root CA, the seal and the log key (refuses to overwrite existing keys)."""
        if any(p.exists() for name in _NAMES for p in self._paths(name)):
            raise ConfigurationError(f"机构密钥已存在，不会覆盖 (agency keys already exist in {self.directory})")
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        _write_new_keys(self.directory, organization, seal_name, now)

    def replace(self, organization: str, seal_name: str, *, now: dt.datetime,
                register: Callable[[dict[str, x509.Certificate]], None]) -> None:
        """New keys written beside the old directory, registered, then swapped in by two renames: a failed
        `register` leaves the old keys as they were; a crash between the renames leaves `<dir>.replaced`."""
        if not self.exists():
            raise ConfigurationError(f"机构密钥不存在，无从替换 (no agency keys to replace in {self.directory})")
        staging = Path(tempfile.mkdtemp(prefix=f".{self.directory.name}-new-", dir=self.directory.parent))
        try:
            certificates = _write_new_keys(staging, organization, seal_name, now)
            register(certificates)
            replaced = self.directory.with_name(f"{self.directory.name}.replaced")
            shutil.rmtree(replaced, ignore_errors=True)
            self.directory.rename(replaced)
            staging.rename(self.directory)
            # The old keys signed nothing the new ones do not replace: they are not kept.
            shutil.rmtree(replaced)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            self._cache.clear()

    def _load(self, name: str) -> tuple[object, x509.Certificate]:
        hit = self._cache.get(name)
        if hit is None:
            key_path, cert_path = self._paths(name)
            try:
                key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
                cert = load_certificate(cert_path.read_bytes())
            except (OSError, ValueError) as exc:
                raise ConfigurationError(
                    f"机构密钥不可用，请先运行 casetrail init (agency key {name!r} unavailable in "
                    f"{self.directory}: {exc})") from exc
            hit = self._cache[name] = (key, cert)
        return hit

    def authority(self) -> Authority:
        key, cert = self._load("root")
        return Authority(cert, key)

    def seal_signer(self) -> KeySigner:
        key, cert = self._load("seal")
        return KeySigner(key, cert)

    def log_signer(self) -> KeySigner:
        key, cert = self._load("log")
        return KeySigner(key, cert)

    def certificates(self) -> dict[str, x509.Certificate]:
        return {name: self._load(name)[1] for name in _NAMES}


def _key_paths(directory: Path, name: str) -> tuple[Path, Path]:
    return directory / f"{name}.key.pem", directory / f"{name}.cert.pem"


def _write_new_keys(directory: Path, organization: str, seal_name: str, now: dt.datetime) -> dict[str, x509.Certificate]:
    """A new root CA, seal and log key valid from `now`, written into `directory`; their certificates by name."""
    ca = make_root_ca(organization, now=now, valid_for=ROOT_VALIDITY)
    seal_key, log_key = generate_private_key(), generate_private_key()
    seal = issue_seal_certificate(ca, seal_name=seal_name, public_key=seal_key.public_key(), now=now,
                                  valid_for=AGENCY_VALIDITY)
    log = issue_log_certificate(ca, public_key=log_key.public_key(), now=now, valid_for=AGENCY_VALIDITY,
                                name=f"{organization} 案件日志")
    os.chmod(directory, 0o700)
    for name, key, cert in (("root", ca.private_key, ca.certificate), ("seal", seal_key, seal), ("log", log_key, log)):
        key_path, cert_path = _key_paths(directory, name)
        _write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
        cert_path.write_bytes(certificate_pem(cert))
    return {"root": ca.certificate, "seal": seal, "log": log}


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
