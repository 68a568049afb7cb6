"""Signature algorithms, named in every record, tree head and manifest.

Records carry the algorithm's name so a verifier can refuse what it does not know (fail closed) and so
SM2/SM3 (GB/T 32918, required by some provincial e-government platforms) can be added later by
registering one more `Algorithm` member and its `_Scheme`, without touching the record format.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from signatures.errors import UnknownAlgorithm, VerificationError


class Algorithm(enum.Enum):
    """Registered signature algorithms. The value is the name written into records."""

    ECDSA_P256_SHA256 = "ECDSA-P256-SHA256"

    @classmethod
    def from_name(cls, name: str) -> Algorithm:
        """Look an algorithm up by its record name; unknown names raise `UnknownAlgorithm`."""
        # A plain dict lookup: Enum's by-value call costs more than the rest of the check (once per record verified).
        try:
            found = _BY_NAME.get(name)
        except TypeError:  # unhashable
            found = None
        if found is None:
            raise UnknownAlgorithm(f"unknown signature algorithm {name!r}; refusing to treat it as valid")
        return found


_BY_NAME: dict[str, Algorithm] = {a.value: a for a in Algorithm}


@dataclass(frozen=True)
class _Scheme:
    """How one algorithm generates keys, signs and verifies (DER-encoded signatures for ECDSA)."""

    curve: type[ec.EllipticCurve]

    def generate(self) -> ec.EllipticCurvePrivateKey:
        return ec.generate_private_key(self.curve())

    def matches(self, public_key: Any) -> bool:
        return isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, self.curve)


_SCHEMES: dict[Algorithm, _Scheme] = {Algorithm.ECDSA_P256_SHA256: _Scheme(curve=ec.SECP256R1)}
# RFC 6979 deterministic nonces: a weak or repeated RNG nonce leaks an ECDSA key; deterministic
# signing removes that risk, and the same statement always gets the same signature (reproducible
# bundles). Verification is unchanged - any verifier accepts these signatures.
_ECDSA_SIGN = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


def generate_private_key(algorithm: Algorithm = Algorithm.ECDSA_P256_SHA256) -> ec.EllipticCurvePrivateKey:
    """A fresh private key for the algorithm (officer, seal, log or CA key)."""
    return _SCHEMES[algorithm].generate()


def algorithm_for_key(public_key: Any) -> Algorithm:
    """Which registered algorithm a public key belongs to; raises `UnknownAlgorithm` otherwise."""
    for algorithm, scheme in _SCHEMES.items():
        if scheme.matches(public_key):
            return algorithm
    raise UnknownAlgorithm(f"no registered signature algorithm for key type {type(public_key).__name__}")


def sign(algorithm: Algorithm, private_key: Any, data: bytes) -> bytes:
    """Sign data; for ECDSA the result is the DER `Ecdsa-Sig-Value` that `openssl dgst -verify` reads.

    The key/algorithm match is checked once when a `Signer` is built, not on every signature.
    """
    return private_key.sign(data, _ECDSA_SIGN)


def signing_function(algorithm: Algorithm, private_key: Any) -> Callable[[bytes], bytes]:
    """`sign` bound to one key, with no Python frame in between (signing is the hot path)."""
    return functools.partial(private_key.sign, signature_algorithm=_ECDSA_SIGN)


def key_matches(algorithm: Algorithm, public_key: Any) -> bool:
    """Whether a public key is of the kind the algorithm signs with."""
    return _SCHEMES[algorithm].matches(public_key)


def verify(algorithm: Algorithm, public_key: Any, signature: bytes, data: bytes, *,
           key_algorithm: Algorithm | None = None) -> None:
    """Verify a signature; raises `VerificationError` (never returns False).

    `key_algorithm` is what `algorithm_for_key` already found for this key (a chain-validated certificate
    records it): the key's type is then not inspected again.
    """
    if key_algorithm is not algorithm and not _SCHEMES[algorithm].matches(public_key):
        raise VerificationError(f"certificate key does not match algorithm {algorithm.value}")
    try:
        public_key.verify(signature, data, _ECDSA_SHA256)
    except InvalidSignature as exc:
        raise VerificationError("signature does not verify: the signed bytes were changed or another key signed") from exc
