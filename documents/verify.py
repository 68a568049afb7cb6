"""Check the PAdES signatures in a PDF with pyHanko: intact, trusted (to the given roots), signing time.

Offline by design: no fetching of CRLs/OCSP (the agency's revocation list is checked by signatures/
against the recorded signing time), and certificate validity is evaluated at the signer-reported time
because there is no time-stamp server. A PDF whose signatures cannot even be parsed raises
`PdfSignatureError`; a signature that is parsed but fails yields a status with the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from documents.signing import _outside_event_loop

from .errors import PdfSignatureError


@dataclass(frozen=True)
class PdfSignatureStatus:
    """One signature's verdict. `ok` = intact AND trusted AND covers its revision untouched."""

    field_name: str
    signer: str  # certificate subject common name
    cert_sha256: str  # hex fingerprint of the signer certificate (DER)
    signing_time: dt.datetime | None  # signer-reported (no TSA)
    intact: bool  # the signed byte range hashes to the signed digest
    valid: bool  # the CMS signature verifies with the certificate's key
    trusted: bool  # the certificate chains to one of the trust roots
    coverage: str  # ENTIRE_FILE / ENTIRE_REVISION / …
    modification_level: str  # NONE / LTA_UPDATES / FORM_FILLING / ANNOTATIONS / OTHER
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def verify_pdf_signatures(pdf: bytes, trust_roots: Iterable[x509.Certificate]) -> list[PdfSignatureStatus]:
    """Validate every embedded signature, in file order. An empty list means the PDF is unsigned."""
    roots = [_asn1(c) for c in trust_roots]
    if not roots:
        raise PdfSignatureError("no trust roots given: refusing to call any signature trusted")
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:
        raise PdfSignatureError(f"cannot read the PDF's signatures: {type(exc).__name__}: {exc}") from exc
    results = []
    for sig in embedded:
        results.append(_check(sig, roots))
    return results


def _check(sig, roots: list[asn1_x509.Certificate]) -> PdfSignatureStatus:  # noqa: ANN001 - pyHanko type
    name = str(sig.field_name)
    try:
        cert = sig.signer_cert
        signer = cert.subject.native.get("common_name", cert.subject.human_friendly)
        fingerprint = hashlib.sha256(cert.dump()).hexdigest()
        moment = sig.self_reported_timestamp
    except Exception as exc:
        return PdfSignatureStatus(name, "", "", None, False, False, False, "", "", reason=f"unreadable: {exc}")
    try:
        context = ValidationContext(
            trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail", moment=moment,
        )
        status = _outside_event_loop(lambda: validate_pdf_signature(sig, context))
    except Exception as exc:
        return PdfSignatureStatus(name, signer, fingerprint, moment, False, False, False, "", "",
                                  reason=f"validation error: {type(exc).__name__}: {exc}")
    reasons = []
    if not status.intact:
        reasons.append("document changed after signing (digest mismatch)")
    if not status.valid:
        reasons.append("signature does not verify")
    if not status.trusted:
        reasons.append("certificate does not chain to a trust root")
    return PdfSignatureStatus(
        field_name=name,
        signer=str(signer),
        cert_sha256=fingerprint,
        signing_time=status.signer_reported_dt or moment,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        coverage=status.coverage.name if status.coverage else "",
        modification_level=status.modification_level.name if status.modification_level else "",
        reason="; ".join(reasons),
    )
