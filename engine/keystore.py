"""The agency's own keys — root CA, electronic seal (电子印章) and log key — behind a small interface, and the
key-encryption keys (KEKs) that keep private keys encrypted at rest.

Officers' keys are not here: they live in the database, encrypted under each officer's PIN (see
engine/journal.py and signatures.keys) and wrapped under the officers' KEK, which is here: `officer_kek_source`
gives it from `$CASETRAIL_DATA_DIR/keys/officer-kek.bin` or from the operator's environment
(CASETRAIL_OFFICER_KEK), so the database alone opens no officer's key (signatures.keywrap).

The platform's three keys cannot wait for a PIN (the worker signs tree heads unattended), so `FileAgencyKeys` keeps
them in `$CASETRAIL_DATA_DIR/keys/`, outside the database, each PKCS#8 wrapped under the agency's KEK — a second
key, which the operator gives at start (CASETRAIL_AGENCY_KEK, or a file named in CASETRAIL_AGENCY_KEK_FILE; a
demo's default is `keys/agency-kek.bin`, beside them): a copy of the key directory alone then holds no agency
private key, and a missing or wrong KEK stops the start (`check`), never a half-working server. `AgencyKeys` is
a Protocol so an HSM (PKCS#11) can replace the files; the engine only ever asks for an `Authority` to issue
certificates and CRLs, and `Signer`s for seal and log. docs/signatures.md says how to run it.

On a platform of many agencies the root CA is the platform's one trust root and each agency has a seal of its own,
issued by it (`agencies/<code>/seal.{key.wrapped,cert.pem}`, wrapped under the same KEK and re-wrapped with the
rest; engine/agency_seals.py issues them). The home agency keeps the seal beside the root (`seal.*`), which signed
everything before agencies existed, until it is replaced.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from engine.errors import ConfigurationError, Conflict
from signatures.algorithms import generate_private_key
from signatures.errors import KeyWrapError
from signatures.keys import KeySigner, ScryptCost
from signatures.keywrap import KEK_LENGTH, AesGcmKek, KeyEncryptionKey, unwrap_agency_key, wrap_agency_key
from signatures.pki import (
    Authority,
    certificate_pem,
    fingerprint,
    issue_log_certificate,
    issue_seal_certificate,
    load_certificate,
    make_root_ca,
)

__all__ = ["AGENCY_KEK", "AGENCY_KEK_ENV", "AGENCY_KEK_FILE", "AGENCY_KEK_FILE_ENV", "OFFICERS_KEK", "OFFICER_KEK_ENV",
           "PRODUCTION_KDF_COST", "AgencyKeys", "EnvironmentKek", "EnvironmentOfficerKek", "FileAgencyKeys", "FileKek",
           "FileOfficerKek", "KekPurpose", "KekSource", "OfficerKek", "ScryptCost", "agency_kek_source",
           "officer_kek_source", "read_kek_file", "warn_on_stderr"]

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
_AGENCY_FILES = {f"{name}.{kind}" for name in _NAMES for kind in ("key.pem", "key.wrapped", "cert.pem")}
AGENCY_SEALS_DIR = "agencies"  # one directory per agency code, holding that agency's seal
_SEAL_FILES = ("seal.key.wrapped", "seal.cert.pem")
# An agency code names a directory: letters, digits, '-' and '_' only (no path can be smuggled in).
AGENCY_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


class AgencyKeys(Protocol):
    """Where the agency's root CA, seal and log keys live (files today, an HSM later)."""

    def exists(self) -> bool: ...

    def check(self) -> None:
        """At start: ConfigurationError unless every key there is can be opened now (a missing or wrong KEK is
        told here, not at the first signature)."""
        ...

    def create(self, organization: str, seal_name: str, *, now: dt.datetime, agency_code: str | None = None) -> None: ...

    def replace(self, organization: str, seal_name: str, *, now: dt.datetime,
                register: Callable[[dict[str, x509.Certificate]], None], agency_code: str | None = None) -> None:
        """New keys in place of the existing ones: `register` (the database's part) runs with the new
        certificates before they are put in place, and nothing changes if it raises."""
        ...

    def authority(self) -> Authority: ...

    def seal_signer(self) -> KeySigner: ...

    def log_signer(self) -> KeySigner: ...

    def certificates(self) -> dict[str, x509.Certificate]: ...

    def agency_seal_signer(self, code: str) -> KeySigner | None:
        """The seal the platform CA issued to agency `code`, or None when it has none of its own."""
        ...

    def agency_seal_codes(self) -> list[str]: ...

    def add_agency_seal(self, code: str, organization: str, seal_name: str, *, now: dt.datetime, replace: bool,
                        register: Callable[[x509.Certificate], None]) -> x509.Certificate:
        """A new seal key for agency `code` with a certificate from the root CA; `register` (the database's part)
        runs before it is put in place, and nothing changes if it raises. Conflict when the agency has a seal
        of its own already, unless `replace`."""
        ...


def warn_on_stderr(message: str) -> None:
    """How the key store tells the operator something they must act on (the CLI's and the server's stderr)."""
    print(f"warning: {message}", file=sys.stderr)


class FileAgencyKeys:
    """The three agency keys as files (mode 0600) with their certificates beside them: each private key is PKCS#8
    wrapped under the agency's KEK (`<name>.key.wrapped`, signatures.keywrap), or — made before keys were
    encrypted — a plain PEM (`<name>.key.pem`), which still works, with a warning, until `casetrail keys encrypt`."""

    def __init__(self, directory: Path, kek: KekSource | None = None, *,
                 warn: Callable[[str], None] = warn_on_stderr) -> None:
        self.directory = Path(directory)
        self.kek = kek or agency_kek_source(self.directory)
        self._warn = warn
        self._cache: dict[str, tuple[object, x509.Certificate]] = {}

    def _stored(self, name: str) -> Path | None:
        """The file holding the private key `name` (wrapped first), or None."""
        wrapped, plain = _wrapped_path(self.directory, name), _key_paths(self.directory, name)[0]
        return wrapped if wrapped.exists() else plain if plain.exists() else None

    def exists(self) -> bool:
        return all(self._stored(name) and _key_paths(self.directory, name)[1].exists() for name in _NAMES)

    def stored_files(self) -> list[Path]:
        """The files that hold the keys and their certificates, as stored (wrapped or plain): what a backup copies.
        Never a KEK, even one kept beside them (a backup with both would open every key)."""
        own = [self.directory / name for name in _AGENCY_FILES]
        seals = [self._seal_dir(code) / name for code in self.agency_seal_codes() for name in _SEAL_FILES]
        return sorted(p for p in own + seals if p.is_file())

    def plain(self) -> list[str]:
        """The names of the keys still stored unencrypted."""
        return [name for name in _NAMES if (path := self._stored(name)) is not None and path.suffix == ".pem"]

    def encrypted(self) -> list[str]:
        own = [name for name in _NAMES if (path := self._stored(name)) is not None and path.suffix == ".wrapped"]
        return own + [f"seal:{code}" for code in self.agency_seal_codes()]  # always wrapped: made after the KEK

    def check(self) -> None:
        for name in _NAMES:
            if self._stored(name) is not None and _key_paths(self.directory, name)[1].exists():
                self._load(name)
        for code in self.agency_seal_codes():
            self._load_agency_seal(code)
        if plain := self.plain():
            self._warn(f"机构私钥未加密存放 (the agency keys {', '.join(plain)} are stored unencrypted in "
                       f"{self.directory}): run `casetrail keys encrypt` (docs/signatures.md)")

    def create(self, organization: str, seal_name: str, *, now: dt.datetime, agency_code: str | None = None) -> None:
        """Make the root CA, the seal and the log key (refuses to overwrite existing keys); the seal is the home
        agency's (`agency_code`)."""
        if any(self._stored(name) or _key_paths(self.directory, name)[1].exists() for name in _NAMES):
            raise ConfigurationError(f"机构密钥已存在，不会覆盖 (agency keys already exist in {self.directory})")
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        _write_new_keys(self.directory, organization, seal_name, now, self._new_kek(), agency_code)

    def replace(self, organization: str, seal_name: str, *, now: dt.datetime,
                register: Callable[[dict[str, x509.Certificate]], None], agency_code: str | None = None) -> None:
        """New keys written beside the old directory, registered, then swapped in by two renames: a failed
        `register` leaves the old keys as they were; a crash between the renames leaves `<dir>.replaced`."""
        if not self.exists():
            raise ConfigurationError(f"机构密钥不存在，无从替换 (no agency keys to replace in {self.directory})")
        if codes := self.agency_seal_codes():  # a new root would orphan the seals the old one issued
            raise ConfigurationError(f"各机构已有根证书签发的印章，不能替换根证书 (agencies {', '.join(codes)} hold seals the "
                                     "current root issued: the root cannot be replaced)")
        kek = self._new_kek()
        self._swap_in(lambda staging: _write_new_keys(staging, organization, seal_name, now, kek, agency_code),
                      register)

    def encrypt(self) -> list[str]:
        """Wrap the keys stored as plain PEM under the agency KEK (made beside the keys, with a warning, when the
        operator gives none); the names of the keys encrypted now. All or none: one directory swap."""
        plain = self.plain()
        if plain:
            self._rewrite(self._new_kek())
        return plain

    def rewrap(self, new: KeyEncryptionKey) -> None:
        """Rotate the agency KEK: every key opened under the current one and wrapped under `new`, all or none.
        The operator then installs `new` in place of the old; until then the start-up check refuses the old."""
        self._rewrite(new)

    def _new_kek(self) -> KeyEncryptionKey:
        """The KEK to wrap keys under now: made where none is yet — never while keys are wrapped under a missing
        one (a new KEK would open none of them)."""
        if not self.kek.exists():
            if self.encrypted():
                raise self._missing_kek()
            self.kek.create()
            if isinstance(self.kek, FileKek) and self.kek.path.parent.resolve() == self.directory.resolve():
                self._warn(f"机构密钥的加密密钥与机构密钥存放在同一目录，仅适用于演示 (the agency's key-encryption key "
                           f"was made beside the keys it encrypts, {self.kek.description}: fine for a demo; in "
                           f"production move it elsewhere and give it in {AGENCY_KEK_ENV} or {AGENCY_KEK_FILE_ENV}, "
                           "docs/signatures.md)")
        return self.kek.key()

    def _rewrite(self, kek: KeyEncryptionKey) -> None:
        keys = {name: self._load(name)[0] for name in _NAMES}
        certificates = self.certificates()
        seals = {code: self._load_agency_seal(code) for code in self.agency_seal_codes()}

        def write(staging: Path) -> dict[str, x509.Certificate]:
            for name in _NAMES:
                _write_key(staging, name, keys[name], certificates[name], kek)
            for code, (key, cert) in seals.items():
                folder = staging / AGENCY_SEALS_DIR / code
                folder.mkdir(mode=0o700, parents=True)
                _write_key(folder, "seal", key, cert, kek)
            return certificates

        self._swap_in(write, None)

    def _swap_in(self, write: Callable[[Path], dict[str, x509.Certificate]],
                 register: Callable[[dict[str, x509.Certificate]], None] | None) -> None:
        """A new key directory built by `write` beside the old one, with the files that are not the agency
        keys' (the officers' KEK and the like) copied over, then swapped in by two renames."""
        staging = Path(tempfile.mkdtemp(prefix=f".{self.directory.name}-new-", dir=self.directory.parent))
        try:
            certificates = write(staging)
            for other in self.directory.iterdir():
                if other.is_file() and other.name not in _AGENCY_FILES:
                    shutil.copy2(other, staging / other.name)
                elif other.is_dir() and not (staging / other.name).exists():
                    shutil.copytree(other, staging / other.name)
            if register is not None:
                register(certificates)
            replaced = self.directory.with_name(f"{self.directory.name}.replaced")
            shutil.rmtree(replaced, ignore_errors=True)
            self.directory.rename(replaced)
            staging.rename(self.directory)
            # The old files are not kept: replaced keys signed nothing the new ones do not replace, and a plain
            # or old-KEK copy left behind would undo the encryption.
            shutil.rmtree(replaced)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            self._cache.clear()

    def _missing_kek(self) -> ConfigurationError:
        return ConfigurationError(
            f"找不到机构密钥的加密密钥 (the agency's key-encryption key is missing from {self.kek.description}, but the "
            f"agency keys in {self.directory} are encrypted under it: give it in {AGENCY_KEK_ENV} (base64) or "
            f"{AGENCY_KEK_FILE_ENV}, or restore {AGENCY_KEK_FILE} from its backup)")

    def _load(self, name: str) -> tuple[object, x509.Certificate]:
        hit = self._cache.get(name)
        if hit is None:
            stored, cert_path = self._stored(name), _key_paths(self.directory, name)[1]
            try:
                if stored is None:
                    raise FileNotFoundError(2, "no such file", str(_wrapped_path(self.directory, name)))
                cert = load_certificate(cert_path.read_bytes())
                if stored.suffix == ".wrapped":
                    key = self._unwrap(name, stored.read_bytes(), cert)
                else:
                    key = serialization.load_pem_private_key(stored.read_bytes(), password=None)
            except (OSError, ValueError) as exc:
                raise ConfigurationError(
                    f"机构密钥不可用，请先运行 casetrail init (agency key {name!r} unavailable in "
                    f"{self.directory}: {exc})") from exc
            hit = self._cache[name] = (key, cert)
        return hit

    def _unwrap(self, name: str, blob: bytes, cert: x509.Certificate) -> object:
        if not self.kek.exists():
            raise self._missing_kek()
        kek = self.kek.key()
        try:
            der = unwrap_agency_key(kek, blob, name=name, fingerprint=fingerprint(cert))
        except KeyWrapError as exc:
            raise ConfigurationError(
                f"机构密钥的加密密钥不符 (the agency's key-encryption key from {self.kek.description} does not open "
                f"the {name} key in {self.directory}: {exc})") from exc
        return serialization.load_der_private_key(der, password=None)

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

    # --- each agency's own seal -----------------------------------------------------------------------
    def _seal_dir(self, code: str) -> Path:
        if not AGENCY_CODE.fullmatch(code):
            raise ConfigurationError(f"机构代码无效 (agency code {code!r}: letters, digits, '-' and '_' only)")
        return self.directory / AGENCY_SEALS_DIR / code

    def agency_seal_codes(self) -> list[str]:
        root = self.directory / AGENCY_SEALS_DIR
        if not root.is_dir():
            return []
        return sorted(d.name for d in root.iterdir()
                      if AGENCY_CODE.fullmatch(d.name) and all((d / name).is_file() for name in _SEAL_FILES))

    def agency_seal_signer(self, code: str) -> KeySigner | None:
        if code not in self.agency_seal_codes():
            return None
        key, cert = self._load_agency_seal(code)
        return KeySigner(key, cert)

    def _load_agency_seal(self, code: str) -> tuple[object, x509.Certificate]:
        hit = self._cache.get(f"agency:{code}")
        if hit is None:
            folder = self._seal_dir(code)
            try:
                cert = load_certificate((folder / "seal.cert.pem").read_bytes())
                key = self._unwrap("seal", (folder / "seal.key.wrapped").read_bytes(), cert)
            except (OSError, ValueError) as exc:
                raise ConfigurationError(f"机构印章不可用 (the seal of agency {code!r} is unavailable in {folder}: "
                                         f"{exc})") from exc
            hit = self._cache[f"agency:{code}"] = (key, cert)
        return hit

    def add_agency_seal(self, code: str, organization: str, seal_name: str, *, now: dt.datetime, replace: bool,
                        register: Callable[[x509.Certificate], None]) -> x509.Certificate:
        """The key and certificate written wrapped into a staging directory beside the agency's, `register`ed,
        then renamed into place (a replaced seal's directory is renamed aside first, then removed)."""
        folder = self._seal_dir(code)
        if code in self.agency_seal_codes() and not replace:
            raise Conflict(f"机构 {code} 已有电子印章；更换请加 --replace (agency {code} already has a seal of its own: "
                           f"give --replace to issue a new one)")
        kek = self._new_kek()
        authority = self.authority()
        key = generate_private_key()
        cert = issue_seal_certificate(authority, seal_name=seal_name, public_key=key.public_key(), now=now,
                                      valid_for=AGENCY_VALIDITY, organization=organization, agency_code=code)
        folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{code}-new-", dir=folder.parent))
        try:
            _write_key(staging, "seal", key, cert, kek)
            register(cert)
            replaced = folder.with_name(f".{code}.replaced")
            shutil.rmtree(replaced, ignore_errors=True)
            if folder.exists():
                folder.rename(replaced)
            staging.rename(folder)
            shutil.rmtree(replaced, ignore_errors=True)  # its certificate stays in the database, revoked
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            self._cache.pop(f"agency:{code}", None)
        return cert


def _key_paths(directory: Path, name: str) -> tuple[Path, Path]:
    """The plain PEM key (as stored before keys were encrypted) and the certificate."""
    return directory / f"{name}.key.pem", directory / f"{name}.cert.pem"


def _wrapped_path(directory: Path, name: str) -> Path:
    return directory / f"{name}.key.wrapped"


def _write_new_keys(directory: Path, organization: str, seal_name: str, now: dt.datetime,
                    kek: KeyEncryptionKey, agency_code: str | None = None) -> dict[str, x509.Certificate]:
    """A new root CA, seal and log key valid from `now`, written into `directory` wrapped under `kek`; their
    certificates by name."""
    ca = make_root_ca(organization, now=now, valid_for=ROOT_VALIDITY)
    seal_key, log_key = generate_private_key(), generate_private_key()
    seal = issue_seal_certificate(ca, seal_name=seal_name, public_key=seal_key.public_key(), now=now,
                                  valid_for=AGENCY_VALIDITY, agency_code=agency_code)
    log = issue_log_certificate(ca, public_key=log_key.public_key(), now=now, valid_for=AGENCY_VALIDITY,
                                name=f"{organization} 案件日志")
    os.chmod(directory, 0o700)
    for name, key, cert in (("root", ca.private_key, ca.certificate), ("seal", seal_key, seal), ("log", log_key, log)):
        _write_key(directory, name, key, cert, kek)
    return {"root": ca.certificate, "seal": seal, "log": log}


def _write_key(directory: Path, name: str, key: object, cert: x509.Certificate, kek: KeyEncryptionKey) -> None:
    """The key as PKCS#8 DER wrapped under `kek` (mode 0600), bound to its certificate; the certificate beside it."""
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,  # type: ignore[attr-defined]
                            serialization.NoEncryption())
    _write_private(_wrapped_path(directory, name),
                   wrap_agency_key(kek, der, name=name, fingerprint=fingerprint(cert)))
    _key_paths(directory, name)[1].write_bytes(certificate_pem(cert))


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


# --- the key-encryption keys: the officers' and the agency's ----------------------------------------------
# Two keys, not one: the officers' KEK only keeps a stolen database from being a PIN-guessing target and must be
# online for every signed step; the agency's KEK opens the root CA, which can vouch for anyone. They are held
# (and rotated, and backed up) by different people: docs/signatures.md.
OFFICER_KEK_ENV = "CASETRAIL_OFFICER_KEK"  # base64 of 32 bytes; when set, it is the KEK (no file is read)
OFFICER_KEK_FILE = "officer-kek.bin"
AGENCY_KEK_ENV = "CASETRAIL_AGENCY_KEK"  # base64 of 32 bytes
AGENCY_KEK_FILE_ENV = "CASETRAIL_AGENCY_KEK_FILE"  # a file the operator names: 32 bytes, or their base64
AGENCY_KEK_FILE = "agency-kek.bin"  # the default, beside the keys: for a demo (a warning says so when it is made)


@dataclass(frozen=True)
class KekPurpose:
    """Which key-encryption key, for the operator's messages."""

    en: str
    zh: str
    env: str


OFFICERS_KEK = KekPurpose("the officers' key-encryption key", "签名密钥的加密密钥", OFFICER_KEK_ENV)
AGENCY_KEK = KekPurpose("the agency's key-encryption key", "机构密钥的加密密钥", AGENCY_KEK_ENV)


class KekSource(Protocol):
    """Where a key-encryption key comes from (a file, the operator's environment, a PKCS#11 token)."""

    @property
    def description(self) -> str:
        """Where it is, for messages to the operator (never the key)."""
        ...

    def exists(self) -> bool: ...

    def create(self) -> None:
        """A new random KEK, where there is none (never replaces one)."""
        ...

    def key(self) -> KeyEncryptionKey: ...


OfficerKek = KekSource  # the officers' KEK is one of them (engine/officer_keys.py)


class FileKek:
    """A KEK as 32 random bytes (or their base64) in a file readable only by the service account (mode 0600),
    outside the database."""

    def __init__(self, path: Path, purpose: KekPurpose = OFFICERS_KEK, *, named_by: str | None = None) -> None:
        self.path = Path(path)
        self.purpose = purpose
        self._named_by = named_by  # the variable the operator named it in (its full path is then the useful name)
        self._key: KeyEncryptionKey | None = None

    @property
    def description(self) -> str:
        if self._named_by:
            return f"file {self.path} ({self._named_by})"
        return f"file {self.path.parent.name}/{self.path.name}"

    def exists(self) -> bool:
        return self.path.exists()

    def create(self) -> None:
        # Written whole and synced under a temporary name, then linked in place: no process ever reads a part
        # of it, and a crash cannot leave keys wrapped under a KEK that never reached the disk.
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, staging = tempfile.mkstemp(prefix=".kek-", dir=self.path.parent)  # mode 0600
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
                    f"找不到{self.purpose.zh}，请从备份恢复 ({self.purpose.en} cannot be read from "
                    f"{self.path}: {exc.strerror or exc}; restore it from its backup)") from exc
            self._key = _kek(_raw_or_base64(secret, self.purpose), self.description, self.purpose)
        return self._key


class EnvironmentKek:
    """A KEK given by the operator at start, base64 in an environment variable (e.g. from a secrets manager)."""

    def __init__(self, value: str, purpose: KekPurpose = OFFICERS_KEK) -> None:
        self._value = value
        self.purpose = purpose
        self._key: KeyEncryptionKey | None = None

    @property
    def description(self) -> str:
        return f"environment variable {self.purpose.env}"

    def exists(self) -> bool:
        return True

    def create(self) -> None:
        pass  # the operator's: it exists whenever it is set

    def key(self) -> KeyEncryptionKey:
        if self._key is None:
            try:
                secret = base64.b64decode(self._value.strip(), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ConfigurationError(f"{self.purpose.env} 不是 base64 (is not base64: {exc})") from exc
            self._key = _kek(secret, self.description, self.purpose)
        return self._key


# The officers' KEK sources, by the names they had before the agency's KEK existed.
FileOfficerKek = FileKek
EnvironmentOfficerKek = EnvironmentKek


def _kek(secret: bytes, where: str, purpose: KekPurpose = OFFICERS_KEK) -> KeyEncryptionKey:
    try:
        return AesGcmKek(secret)
    except KeyWrapError as exc:
        raise ConfigurationError(f"{purpose.zh}无效 ({purpose.en} in {where} is unusable: {exc})") from exc


def _raw_or_base64(data: bytes, purpose: KekPurpose) -> bytes:
    """A KEK file holds the 32 bytes themselves, or their base64 (what `head -c 32 /dev/urandom | base64` gives)."""
    if len(data) == KEK_LENGTH:
        return data
    try:
        return base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(f"密钥文件应为 32 字节或其 base64 ({purpose.en}: the key file must hold "
                                 f"{KEK_LENGTH} bytes or their base64)") from exc


def read_kek_file(path: Path, purpose: KekPurpose = OFFICERS_KEK) -> KeyEncryptionKey:
    """A KEK from a file: 32 raw bytes, or their base64 (a new KEK for `user rewrap-keys`, `keys rewrap`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"无法读取密钥文件 (cannot read the key file {path}: {exc.strerror or exc})") from exc
    return _kek(_raw_or_base64(data, purpose), f"file {Path(path).name}", purpose)


def _set(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value is not None and not value.strip():
        raise ConfigurationError(f"{name} 已设置但为空 (is set but empty)")
    return value


def officer_kek_source(keys_dir: Path, environ: Mapping[str, str] | None = None) -> KekSource:
    """CASETRAIL_OFFICER_KEK when the operator sets it, else `<keys_dir>/officer-kek.bin`."""
    value = _set(os.environ if environ is None else environ, OFFICER_KEK_ENV)
    if value is not None:
        return EnvironmentKek(value, OFFICERS_KEK)
    return FileKek(Path(keys_dir) / OFFICER_KEK_FILE, OFFICERS_KEK)


def agency_kek_source(keys_dir: Path, environ: Mapping[str, str] | None = None) -> KekSource:
    """CASETRAIL_AGENCY_KEK (base64) when set, else the file CASETRAIL_AGENCY_KEK_FILE names, else
    `<keys_dir>/agency-kek.bin` (beside the keys: a demo's place, not production's)."""
    environ = os.environ if environ is None else environ
    if (value := _set(environ, AGENCY_KEK_ENV)) is not None:
        return EnvironmentKek(value, AGENCY_KEK)
    if (named := _set(environ, AGENCY_KEK_FILE_ENV)) is not None:
        return FileKek(Path(named), AGENCY_KEK, named_by=AGENCY_KEK_FILE_ENV)
    return FileKek(Path(keys_dir) / AGENCY_KEK_FILE, AGENCY_KEK)
