"""The agency's own keys — root CA, electronic seal (电子印章) and log key — behind a small interface.

Officers' keys are not here: they live in the database, encrypted under each officer's PIN (see
engine/journal.py and signatures.keys) and wrapped under the officers' key-encryption key (KEK), which is
here: `OfficerKek` gives it from `$CASETRAIL_DATA_DIR/keys/officer-kek.bin` or from the operator's
environment (CASETRAIL_OFFICER_KEK), so the database alone opens no officer's key (signatures.keywrap). The agency's three keys cannot wait for a PIN (the worker signs
tree heads unattended), so `FileAgencyKeys` keeps them as PEM files readable only by the service account
(mode 0600) in `$CASETRAIL_DATA_DIR/keys/`, outside the database: a stolen database backup then holds
no agency private key. `AgencyKeys` is a Protocol so an HSM (PKCS#11) can replace the files later; the
engine only ever asks for an `Authority` to issue certificates and CRLs, and `Signer`s for seal and log.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
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
from signatures.errors import KeyWrapError
from signatures.keys import KeySigner, ScryptCost
from signatures.keywrap import KEK_LENGTH, AesGcmKek, KeyEncryptionKey
from signatures.pki import (
    Authority,
    certificate_pem,
    issue_log_certificate,
    issue_seal_certificate,
    load_certificate,
    make_root_ca,
)

__all__ = ["OFFICER_KEK_ENV", "PRODUCTION_KDF_COST", "AgencyKeys", "EnvironmentOfficerKek", "FileAgencyKeys",
           "FileOfficerKek", "OfficerKek", "ScryptCost", "officer_kek_source", "read_kek_file"]

# scrypt N=2**13, r=8, p=1: 8 MiB and ~16 ms per unlock on one server core, paid by every signed step
# (docs/signatures.md has the measurement and the reasoning). It no longer carries the whole defence: a wrong PIN
# is counted and the key blocked after a few (engine/officer_keys.py), and a stolen database alone holds no key
# to guess against — each is wrapped under the officers' KEK, outside it. Only someone holding both the database
# and the KEK pays this per PIN guess: ~10^6 x 16 ms ≈ 4-5 core-hours per key. Keys issued at N=2**14 before
# keep their cost (it is written in each key).
PRODUCTION_KDF_COST = ScryptCost(n=2**13, r=8, p=1)

ROOT_VALIDITY = dt.timedelta(days=20 * 365)
AGENCY_VALIDITY = dt.timedelta(days=10 * 365)
_NAMES = ("root", "seal", "log")
_AGENCY_FILES = {f"{name}.{kind}.pem" for name in _NAMES for kind in ("key", "cert")}


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
            for other in self.directory.iterdir():  # the officers' KEK and the like are not the agency's to replace
                if other.is_file() and other.name not in _AGENCY_FILES:
                    shutil.copy2(other, staging / other.name)
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


# --- the officers' key-encryption key ----------------------------------------------------------------
OFFICER_KEK_ENV = "CASETRAIL_OFFICER_KEK"  # base64 of 32 bytes; when set, it is the KEK (no file is read)
OFFICER_KEK_FILE = "officer-kek.bin"


class OfficerKek(Protocol):
    """Where the officers' key-encryption key comes from (a file, the operator's environment, a PKCS#11 token)."""

    @property
    def description(self) -> str:
        """Where it is, for messages to the operator (never the key)."""
        ...

    def exists(self) -> bool: ...

    def create(self) -> None:
        """A new random KEK, where there is none (never replaces one)."""
        ...

    def key(self) -> KeyEncryptionKey: ...


class FileOfficerKek:
    """The KEK as 32 random bytes in a file readable only by the service account (mode 0600), outside the database."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._key: KeyEncryptionKey | None = None

    @property
    def description(self) -> str:
        return f"file {self.path.parent.name}/{self.path.name}"

    def exists(self) -> bool:
        return self.path.exists()

    def create(self) -> None:
        # Written whole and synced under a temporary name, then linked in place: no process ever reads a part
        # of it, and a crash cannot leave keys wrapped under a KEK that never reached the disk.
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, staging = tempfile.mkstemp(prefix=".officer-kek-", dir=self.path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(os.urandom(KEK_LENGTH))
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):  # another process made it first: theirs is the one
                os.link(staging, self.path)
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        finally:
            os.unlink(staging)

    def key(self) -> KeyEncryptionKey:
        if self._key is None:
            try:
                secret = self.path.read_bytes()
            except OSError as exc:
                raise ConfigurationError(
                    f"找不到签名密钥的加密密钥，请从备份恢复 (the officers' key-encryption key cannot be read from "
                    f"{self.path}: {exc.strerror or exc}; restore it from its backup)") from exc
            self._key = _kek(secret, self.description)
        return self._key


class EnvironmentOfficerKek:
    """The KEK given by the operator at start, base64 in CASETRAIL_OFFICER_KEK (e.g. from a secrets manager)."""

    def __init__(self, value: str) -> None:
        self._value = value
        self._key: KeyEncryptionKey | None = None

    @property
    def description(self) -> str:
        return f"environment variable {OFFICER_KEK_ENV}"

    def exists(self) -> bool:
        return True

    def create(self) -> None:
        pass  # the operator's: it exists whenever it is set

    def key(self) -> KeyEncryptionKey:
        if self._key is None:
            try:
                secret = base64.b64decode(self._value.strip(), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ConfigurationError(f"{OFFICER_KEK_ENV} 不是 base64 (is not base64: {exc})") from exc
            self._key = _kek(secret, self.description)
        return self._key


def _kek(secret: bytes, where: str) -> KeyEncryptionKey:
    try:
        return AesGcmKek(secret)
    except KeyWrapError as exc:
        raise ConfigurationError(f"签名密钥的加密密钥无效 (the officers' key-encryption key in {where} is unusable: "
                                 f"{exc})") from exc


def read_kek_file(path: Path) -> KeyEncryptionKey:
    """A KEK from a file: 32 raw bytes, or their base64 (a new KEK for `casetrail user rewrap-keys`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"无法读取密钥文件 (cannot read the key file {path}: {exc.strerror or exc})") from exc
    if len(data) != KEK_LENGTH:
        try:
            data = base64.b64decode(data.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ConfigurationError(f"密钥文件应为 32 字节或其 base64 (the key file must hold {KEK_LENGTH} bytes "
                                     "or their base64)") from exc
    return _kek(data, f"file {Path(path).name}")


def officer_kek_source(keys_dir: Path, environ: dict[str, str] | None = None) -> OfficerKek:
    """CASETRAIL_OFFICER_KEK when the operator sets it, else `<keys_dir>/officer-kek.bin`."""
    value = (os.environ if environ is None else environ).get(OFFICER_KEK_ENV)
    if value is not None:
        if not value.strip():
            raise ConfigurationError(f"{OFFICER_KEK_ENV} 已设置但为空 (is set but empty)")
        return EnvironmentOfficerKek(value)
    return FileOfficerKek(Path(keys_dir) / OFFICER_KEK_FILE)
