"""Encrypt a private key as PKCS#8 `EncryptedPrivateKeyInfo` with PBES2 + scrypt + AES-256-CBC.

Why by hand: cryptography 50's `BestAvailableEncryption` for PKCS#8 uses PBKDF2 with only 2,048
iterations, and `PrivateFormat.PKCS8.encryption_builder()` is refused ("only OpenSSH and PKCS12").
A signing PIN is short, so the KDF cost is the only brake on guessing it from a stolen database;
design.md asks for scrypt. The structure below is the standard one (RFC 8018 PBES2, RFC 7914 §7
scrypt parameters) that `openssl pkcs8 -topk8 -scrypt` writes, and both OpenSSL and
cryptography's `load_pem_private_key` decrypt it - so no custom format and no custom decryption.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

_OID_PBES2 = "1.2.840.113549.1.5.13"
_OID_SCRYPT = "1.3.6.1.4.1.11591.4.11"
_OID_AES256_CBC = "2.16.840.1.101.3.4.1.42"


@dataclass(frozen=True)
class ScryptCost:
    """scrypt cost. Default N=2**14, r=8, p=8: 16 MiB and ~0.3 s per guess on one core.

    The CPU cost matches OWASP's N=2**17, p=1, but memory stays under OpenSSL's default 32 MiB
    scrypt limit, so `openssl pkey` can still open the key with the PIN (key export to a hardware
    token, escrow). Lower it only in tests."""

    n: int = 2**14
    r: int = 8
    p: int = 8


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _len(len(body)) + body


def _seq(*items: bytes) -> bytes:
    return _tlv(0x30, b"".join(items))


def _int(value: int) -> bytes:
    return _tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _octets(value: bytes) -> bytes:
    return _tlv(0x04, value)


def _oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytearray([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        body.extend(reversed(chunk))
    return _tlv(0x06, bytes(body))


def encrypt_pkcs8(private_key: object, pin: bytes, cost: ScryptCost) -> bytes:
    """PEM `ENCRYPTED PRIVATE KEY` of `private_key` under `pin` (see module docstring)."""
    plain = private_key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    salt, iv = os.urandom(16), os.urandom(16)
    key = Scrypt(salt=salt, length=32, n=cost.n, r=cost.r, p=cost.p).derive(pin)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    kdf = _seq(_oid(_OID_SCRYPT), _seq(_octets(salt), _int(cost.n), _int(cost.r), _int(cost.p), _int(32)))
    scheme = _seq(_oid(_OID_AES256_CBC), _octets(iv))
    der = _seq(_seq(_oid(_OID_PBES2), _seq(kdf, scheme)), _octets(ciphertext))
    b64 = base64.encodebytes(der).replace(b"\n", b"")
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + b"\n".join(lines) + b"\n-----END ENCRYPTED PRIVATE KEY-----\n"
