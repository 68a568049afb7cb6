"""Officers' keys wrapped a second time, under a key-encryption key (KEK) held outside the database.

An officer's key is PKCS#8 encrypted under a six-digit PIN (`signatures.keys`): whoever copies the database
can try all 10^6 PINs offline, on as many cores as they like. Wrapping that PEM once more under a 256-bit
KEK that never enters the database leaves a copied database (or a backup of it) with nothing to guess on:
the PIN is then only ever tried online, where the engine counts the tries.

The envelope (version 1), stored in place of the PEM:

    b"CTKW" | 0x01 | kek id (8 bytes) | the KEK's ciphertext (AES-256-GCM: nonce 12 | ciphertext | tag 16)

The associated data binds the envelope to its header, the officer and the certificate fingerprint, so a row
copied onto another officer (or another key of the same officer) does not open. The kek id is an HMAC of a
fixed label under the KEK: it names which KEK wrapped a row (a wrong or rotated KEK is told apart from a
damaged row) and reveals nothing of the KEK. `KeyEncryptionKey` is a Protocol so that a PKCS#11 token can
do the AES-GCM itself, the KEK never leaving it.

The agency's own keys (root CA, seal, log: engine/keystore.py) use the same envelope around their unencrypted
PKCS#8 DER, under the agency's KEK (a different key): the associated data then names the agency key and its
certificate's fingerprint (`wrap_agency_key`), so an officer's envelope never opens as an agency key nor the
other way round, and a root key file put in the seal's place does not open.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from signatures.errors import KeyWrapError

__all__ = ["ENVELOPE_MAGIC", "AesGcmKek", "KeyEncryptionKey", "envelope_kek_id", "is_wrapped", "unwrap_agency_key",
           "unwrap_key", "wrap_agency_key", "wrap_key"]

ENVELOPE_MAGIC = b"CTKW"
ENVELOPE_VERSION = 1
KEK_ID_LENGTH = 8
KEK_LENGTH = 32
_HEADER_LENGTH = len(ENVELOPE_MAGIC) + 1 + KEK_ID_LENGTH
_NONCE_LENGTH = 12
_TAG_LENGTH = 16
_KEK_ID_LABEL = b"casetrail officer key-encryption key id v1"


@runtime_checkable
class KeyEncryptionKey(Protocol):
    """Authenticated encryption under one KEK (in memory, or inside a token)."""

    @property
    def key_id(self) -> bytes:
        """KEK_ID_LENGTH bytes naming this KEK (not secret)."""
        ...

    def encrypt(self, plaintext: bytes, associated: bytes) -> bytes: ...

    def decrypt(self, ciphertext: bytes, associated: bytes) -> bytes:
        """The plaintext; `KeyWrapError` if the ciphertext or the associated data is not what was encrypted."""
        ...


class AesGcmKek:
    """A `KeyEncryptionKey` over 32 bytes in memory: AES-256-GCM with a random 96-bit nonce per wrap."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) != KEK_LENGTH:
            raise KeyWrapError(f"the key-encryption key must be {KEK_LENGTH} bytes, not {len(secret)}")
        self._aead = AESGCM(secret)
        self._key_id = hmac.new(secret, _KEK_ID_LABEL, hashlib.sha256).digest()[:KEK_ID_LENGTH]

    @classmethod
    def generate(cls) -> AesGcmKek:
        return cls(os.urandom(KEK_LENGTH))

    def __repr__(self) -> str:  # never the secret
        return f"AesGcmKek(key_id={self._key_id.hex()})"

    @property
    def key_id(self) -> bytes:
        return self._key_id

    def encrypt(self, plaintext: bytes, associated: bytes) -> bytes:
        # A random nonce: far fewer than 2^32 wraps per KEK (one per key issued or re-wrapped), NIST SP 800-38D §8.3.
        nonce = os.urandom(_NONCE_LENGTH)
        return nonce + self._aead.encrypt(nonce, plaintext, associated)

    def decrypt(self, ciphertext: bytes, associated: bytes) -> bytes:
        if len(ciphertext) < _NONCE_LENGTH + _TAG_LENGTH:
            raise KeyWrapError("the wrapped key is truncated")
        try:
            return self._aead.decrypt(ciphertext[:_NONCE_LENGTH], ciphertext[_NONCE_LENGTH:], associated)
        except InvalidTag as exc:
            raise KeyWrapError("the wrapped key does not open: altered, or not this officer's key") from exc


def is_wrapped(blob: bytes) -> bool:
    """Whether a stored key is an envelope (else: a PEM stored before keys were wrapped)."""
    return blob.startswith(ENVELOPE_MAGIC)


def envelope_kek_id(blob: bytes) -> bytes:
    """The id of the KEK an envelope was wrapped under."""
    _check_header(blob)
    return blob[len(ENVELOPE_MAGIC) + 1:_HEADER_LENGTH]


def _check_header(blob: bytes) -> None:
    if not is_wrapped(blob) or len(blob) < _HEADER_LENGTH:
        raise KeyWrapError("not a wrapped key")
    if blob[len(ENVELOPE_MAGIC)] != ENVELOPE_VERSION:
        raise KeyWrapError(f"unknown wrapped-key version {blob[len(ENVELOPE_MAGIC)]}")


def _associated(header: bytes, label: bytes, *parts: str) -> bytes:
    # User ids, agency key names and fingerprints never contain NUL: the joined form is unambiguous.
    return b"\x00".join((header, label, *(part.encode("utf-8") for part in parts)))


_OFFICER_LABEL = b"casetrail officer key"
_AGENCY_LABEL = b"casetrail agency key"


def _wrap(kek: KeyEncryptionKey, data: bytes, label: bytes, *parts: str) -> bytes:
    header = ENVELOPE_MAGIC + bytes([ENVELOPE_VERSION]) + kek.key_id
    return header + kek.encrypt(data, _associated(header, label, *parts))


def _unwrap(kek: KeyEncryptionKey, blob: bytes, label: bytes, *parts: str) -> bytes:
    kek_id = envelope_kek_id(blob)
    if not hmac.compare_digest(kek_id, kek.key_id):
        raise KeyWrapError(f"wrapped under another key-encryption key (id {kek_id.hex()}, "
                           f"this one is {kek.key_id.hex()})")
    header = blob[:_HEADER_LENGTH]
    return kek.decrypt(blob[_HEADER_LENGTH:], _associated(header, label, *parts))


def wrap_key(kek: KeyEncryptionKey, pem: bytes, *, user_id: str, fingerprint: str) -> bytes:
    """The envelope of an officer's (PIN-encrypted) key for `user_id`'s certificate `fingerprint`."""
    if is_wrapped(pem):
        raise KeyWrapError("the key is already wrapped")
    return _wrap(kek, pem, _OFFICER_LABEL, user_id, fingerprint)


def unwrap_key(kek: KeyEncryptionKey, blob: bytes, *, user_id: str, fingerprint: str) -> bytes:
    """The PIN-encrypted PEM inside an envelope; `KeyWrapError` names why it does not open."""
    return _unwrap(kek, blob, _OFFICER_LABEL, user_id, fingerprint)


def wrap_agency_key(kek: KeyEncryptionKey, der: bytes, *, name: str, fingerprint: str) -> bytes:
    """The envelope of the agency key `name` (root, seal, log; PKCS#8 DER) whose certificate is `fingerprint`."""
    if is_wrapped(der):
        raise KeyWrapError("the key is already wrapped")
    return _wrap(kek, der, _AGENCY_LABEL, name, fingerprint)


def unwrap_agency_key(kek: KeyEncryptionKey, blob: bytes, *, name: str, fingerprint: str) -> bytes:
    """The PKCS#8 DER inside an agency key's envelope; `KeyWrapError` names why it does not open."""
    if hmac.compare_digest(envelope_kek_id(blob), kek.key_id):
        try:
            return _unwrap(kek, blob, _AGENCY_LABEL, name, fingerprint)
        except KeyWrapError as exc:  # the KEK's own message speaks of officers
            raise KeyWrapError(f"the wrapped {name} key does not open: altered, or not the key of its "
                               "certificate") from exc
    return _unwrap(kek, blob, _AGENCY_LABEL, name, fingerprint)  # names both KEK ids
