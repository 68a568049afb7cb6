"""Certificate chain validation at the signing time, with a per-certificate cache.

Rule (also in docs/evidence-bundle.md): a signer certificate is acceptable for a signature made at
time T when (1) it chains by issuer name + signature, through CA certificates (basicConstraints
cA=TRUE, keyCertSign), to one of the trusted roots; (2) every certificate on the chain has
notBefore <= T <= notAfter; (3) for every non-root certificate on the chain, the issuer's CRL
(verified against the issuer's key) was issued at or after T and lists no revocation of that
serial with revocationDate <= T. Checking at T, not at "now", keeps a step signed before a
revocation valid (design.md: "Revocation and expiry are checked at the signing time").

Path building and all CA/CRL signature checks happen once per certificate; afterwards a check
is a dict lookup and three datetime comparisons, so verifying a record costs about one ECDSA verify.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from signatures.algorithms import Algorithm, algorithm_for_key
from signatures.errors import CertificateError, UnknownAlgorithm
from signatures.pki import CertRole, certificate_role, certificate_user_id, fingerprint

_MAX_DEPTH = 4


@dataclass(frozen=True)
class ValidatedCertificate:
    """A signer certificate whose chain has been built and checked, with its time limits."""

    certificate: x509.Certificate
    fingerprint: str
    public_key: Any
    algorithm: Algorithm
    role: CertRole | None
    user_id: str | None
    not_before: dt.datetime
    not_after: dt.datetime
    revoked_at: dt.datetime | None
    crl_issued_at: dt.datetime
    subject: str


class TrustStore:
    """Trusted roots + known intermediates + CRLs; validates signer certificates at a moment."""

    def __init__(self, roots: Sequence[x509.Certificate], *, intermediates: Iterable[x509.Certificate] = (),
                 crls: Iterable[x509.CertificateRevocationList] = ()) -> None:
        if not roots:
            raise CertificateError("no trust root given; nothing can be verified")
        self._roots = {fingerprint(c): c for c in roots}
        self._by_subject: dict[x509.Name, list[x509.Certificate]] = {}
        for cert in [*roots, *intermediates]:
            self._by_subject.setdefault(cert.subject, []).append(cert)
        self._crls = list(crls)
        self._cache: dict[str, ValidatedCertificate | CertificateError] = {}
        # Digests of signed statements (tree heads) already verified against this store: an auditor
        # checking 10,000 cases against one head pays for its signature once.
        self.verified_statements: set[bytes] = set()

    def validate(self, cert: x509.Certificate, fp: str | None = None) -> ValidatedCertificate:
        """Build and check the chain once (cached); raises `CertificateError` if untrusted.

        `fp` is the certificate's fingerprint if the caller already knows it (saves hashing the DER).
        """
        fp = fp or fingerprint(cert)
        cached = self._cache.get(fp)
        if cached is None:
            try:
                cached = self._build(cert, fp)
            except CertificateError as exc:
                cached = exc
            self._cache[fp] = cached
        if isinstance(cached, CertificateError):
            raise cached
        return cached

    def check_at(self, cert: x509.Certificate, moment: dt.datetime) -> ValidatedCertificate:
        """Validate the chain and that it was usable at `moment`; raises `CertificateError`."""
        checked = self.validate(cert)
        check_validity(checked, moment)
        return checked

    def _issuer_of(self, cert: x509.Certificate) -> x509.Certificate:
        for candidate in self._by_subject.get(cert.issuer, []):
            try:
                cert.verify_directly_issued_by(candidate)
            except (ValueError, TypeError, InvalidSignature):
                continue
            if not _is_ca(candidate):
                raise CertificateError(f"issuer {candidate.subject.rfc4514_string()} is not a CA certificate")
            return candidate
        raise CertificateError(
            f"certificate {cert.subject.rfc4514_string()} does not chain to the trusted root "
            f"(no valid issuer {cert.issuer.rfc4514_string()})")

    def _build(self, cert: x509.Certificate, fp: str) -> ValidatedCertificate:
        try:
            algorithm = algorithm_for_key(cert.public_key())
        except UnknownAlgorithm as exc:
            raise CertificateError(str(exc)) from exc
        if not _can_sign(cert):
            raise CertificateError(f"certificate {cert.subject.rfc4514_string()} is not allowed to sign (keyUsage)")
        chain = [cert]
        while fingerprint(chain[-1]) not in self._roots:
            if len(chain) > _MAX_DEPTH:
                raise CertificateError("certificate chain too long")
            chain.append(self._issuer_of(chain[-1]))
        revoked_at, crl_time = None, None
        for child, issuer in zip(chain, chain[1:], strict=False):
            when, issued = self._revocation(child, issuer)
            crl_time = issued if crl_time is None else min(crl_time, issued)
            if when is not None:
                revoked_at = when if revoked_at is None else min(revoked_at, when)
        if crl_time is None:  # the trust root itself was given as a signer: no CRL applies
            crl_time = dt.datetime.max.replace(tzinfo=dt.UTC)
        return ValidatedCertificate(
            certificate=cert, fingerprint=fp, public_key=cert.public_key(), algorithm=algorithm,
            role=certificate_role(cert), user_id=certificate_user_id(cert),
            not_before=max(c.not_valid_before_utc for c in chain),
            not_after=min(c.not_valid_after_utc for c in chain),
            revoked_at=revoked_at, crl_issued_at=crl_time, subject=cert.subject.rfc4514_string())

    def _revocation(self, cert: x509.Certificate, issuer: x509.Certificate) -> tuple[dt.datetime | None, dt.datetime]:
        for crl in self._crls:
            if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):
                continue
            entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            return (entry.revocation_date_utc if entry is not None else None), crl.last_update_utc
        raise CertificateError(
            f"no valid revocation list (CRL) from {issuer.subject.rfc4514_string()}; "
            "cannot tell whether the certificate was revoked")


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return basic.ca and usage.key_cert_sign


def _can_sign(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    except x509.ExtensionNotFound:
        return False


def check_validity(checked: ValidatedCertificate, moment: dt.datetime) -> None:
    """Was the (already chain-validated) certificate usable at `moment`? Raises `CertificateError`."""
    if moment < checked.not_before:
        raise CertificateError(f"certificate of {checked.subject} was not yet valid at {moment.isoformat()} "
                               f"(valid from {checked.not_before.isoformat()})")
    if moment > checked.not_after:
        raise CertificateError(f"certificate of {checked.subject} had expired at {moment.isoformat()} "
                               f"(valid until {checked.not_after.isoformat()})")
    if checked.revoked_at is not None and moment >= checked.revoked_at:
        raise CertificateError(f"certificate of {checked.subject} was revoked on {checked.revoked_at.isoformat()}, "
                               f"before the signature at {moment.isoformat()}")
    if moment > checked.crl_issued_at:
        raise CertificateError(f"the revocation list ({checked.crl_issued_at.isoformat()}) is older than the "
                               f"signature at {moment.isoformat()}; cannot tell whether the certificate was revoked")
