"""Officer keys: encrypted at rest under the signing PIN, unlocked only to sign.

The server never stores a PIN (design.md "Keys and trust"): the engine keeps only the encrypted
PKCS#8 PEM (see `_pkcs8` for why scrypt and how) and asks the officer for the PIN at each step,
like the USB keys officers use today. `Signer` and `KeyStore` are Protocols so a PKCS#11 hardware
token can replace `PemKeyStore` later without changing the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from signatures._pkcs8 import ScryptCost, encrypt_pkcs8
from signatures.algorithms import Algorithm, algorithm_for_key, key_matches, signing_function
from signatures.errors import SignatureError, WrongPin
from signatures.pki import fingerprint

__all__ = ["EncryptedKey", "KeySigner", "KeyStore", "PemKeyStore", "ScryptCost", "Signer", "encrypt_private_key"]


@runtime_checkable
class Signer(Protocol):
    """Something that signs bytes for one certificate (an unlocked key, a hardware token)."""

    @property
    def algorithm(self) -> Algorithm: ...

    @property
    def certificate(self) -> x509.Certificate: ...

    def sign(self, data: bytes) -> bytes: ...


class KeyStore(Protocol):
    """Where officers' keys live; `signer` needs the PIN every time."""

    def signer(self, key_ref: str, pin: str) -> Signer: ...


@dataclass(frozen=True)
class KeySigner:
    """A `Signer` over an in-memory private key (after `EncryptedKey.unlock`, or the CA/log key)."""

    private_key: Any = field(repr=False)
    certificate: x509.Certificate
    algorithm: Algorithm = Algorithm.ECDSA_P256_SHA256
    fingerprint: str = ""

    def __post_init__(self) -> None:
        public = self.certificate.public_key()
        if not key_matches(self.algorithm, public) or public != self.private_key.public_key():
            raise SignatureError("the private key does not belong to this certificate")
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", fingerprint(self.certificate))
        # Bind once: signing is the hot path of completing a step.
        object.__setattr__(self, "_sign", signing_function(self.algorithm, self.private_key))

    def sign(self, data: bytes) -> bytes:
        """DER-encoded signature over data (hash = SHA-256)."""
        return self._sign(data)  # type: ignore[attr-defined]


def _pin_bytes(pin: str) -> bytes:
    if not pin:
        raise WrongPin("签名PIN码为空 / the signing PIN is empty")
    return pin.encode("utf-8")


DEFAULT_COST = ScryptCost()


def encrypt_private_key(private_key: Any, pin: str, cost: ScryptCost = DEFAULT_COST) -> bytes:
    """Encrypted PKCS#8 PEM of a private key under the officer's PIN (scrypt + AES-256-CBC)."""
    return encrypt_pkcs8(private_key, _pin_bytes(pin), cost)


ENCRYPTED_PEM = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"


@dataclass(frozen=True)
class EncryptedKey:
    """An officer's key as the engine stores it: encrypted PEM + the certificate it belongs to."""

    pem: bytes
    certificate: x509.Certificate

    def unlock(self, pin: str) -> KeySigner:
        """Decrypt with the PIN; a wrong PIN raises `WrongPin`, anything else `SignatureError`."""
        try:
            key = serialization.load_pem_private_key(self.pem, password=_pin_bytes(pin))
        except ValueError as exc:
            # PKCS#8's encryption (PBES2, AES-CBC) has no integrity check: a wrong PIN usually fails the
            # padding ("bad decrypt") but about once in 256 tries decrypts to bytes that are no key at all.
            # For an encrypted key both mean the PIN did not open it.
            if self.pem.lstrip().startswith(ENCRYPTED_PEM) or "password" in str(exc).lower() \
                    or "decrypt" in str(exc).lower():
                raise WrongPin() from exc
            raise SignatureError(f"the stored key cannot be read: {exc}") from exc
        except TypeError as exc:  # the PEM was not encrypted at all: refuse, keys must never rest in clear
            raise SignatureError("the stored key is not encrypted; refusing to use it") from exc
        return KeySigner(key, self.certificate, algorithm_for_key(key.public_key()))


class PemKeyStore:
    """`KeyStore` over encrypted PEMs fetched by reference (the engine passes a DB lookup)."""

    def __init__(self, lookup: Callable[[str], EncryptedKey]) -> None:
        self._lookup = lookup

    def signer(self, key_ref: str, pin: str) -> Signer:
        """Unlock the key named `key_ref` with `pin`; unknown refs raise `SignatureError`."""
        try:
            stored = self._lookup(key_ref)
        except KeyError as exc:
            raise SignatureError(f"no signing key registered for {key_ref!r}") from exc
        return stored.unlock(pin)
