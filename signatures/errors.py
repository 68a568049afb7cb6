"""One small error tree for the signatures library.

Primitives raise (a failed check cannot be ignored by forgetting to look at a return value); the
auditor's view (`verify_case`) turns these into a report instead. Messages are written for a case
officer or an auditor, not for a cryptographer. Foreign exceptions are re-raised as ours with
``raise ... from exc`` so callers only ever need to catch `SignatureError`.
"""

from __future__ import annotations


class SignatureError(Exception):
    """Base class: anything that went wrong while signing or verifying."""


class WrongPin(SignatureError):
    """The signing PIN does not unlock the officer's key."""

    def __init__(self, message: str = "签名PIN码错误 / the signing PIN is wrong; the key was not unlocked") -> None:
        super().__init__(message)


class KeyWrapError(SignatureError):
    """An officer's wrapped key does not open under this key-encryption key (wrong KEK, altered, swapped)."""


class CertificateError(SignatureError):
    """A certificate is expired, not yet valid, revoked, or does not chain to the trusted root."""


class VerificationError(SignatureError):
    """A signature, hash, chain link or proof does not verify."""


class UnknownAlgorithm(VerificationError):
    """A record names a signature algorithm this verifier does not implement (fail closed)."""


class BundleError(SignatureError):
    """The input cannot be used at all (not a zip, no manifest): exit status 2, not 'invalid'."""
