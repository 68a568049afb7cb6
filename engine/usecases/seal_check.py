"""The `seal` check of a verification: whose seal each sealed 文书 of a case bears.

A step record signs the SHA-256 of each 文书, so the bytes cannot change afterwards; what the record does not say
is which seal the agency put on them. Here, for every 文书 present whose kind the law wants sealed (告知书, 决定书:
《行政处罚法》第五十九条), its seal signature must hold over the signed bytes, its certificate must be a seal
certificate of the platform's root valid when the step was signed, and it must be the seal of the agency handling
the case — online `cases.agency_code`; offline (a bundle), one agency for the whole case, named in the report.
A forged seal (a key the platform CA never certified) or another agency's seal fails the case, naming the step,
the 文书 and the seal found. Reading a 文书's signatures costs ~1 ms (documents/embedded.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from cryptography import x509

from documents import DOCUMENT_TYPES
from documents.embedded import embedded_signatures
from engine.agency_seals import sealing_agency
from signatures.chain import TrustStore
from signatures.errors import SignatureError
from signatures.pki import CertRole, certificate_organization, certificate_role, fingerprint
from signatures.records import SignedRecord
from signatures.report import Check, CheckResult, failed, passed

__all__ = ["document_sealers", "seal_check"]


def _is_seal(cert: x509.Certificate) -> bool:
    return certificate_role(cert) is CertRole.SEAL


def _named(cert: x509.Certificate, home_code: str | None) -> str:
    code = sealing_agency(cert, home_code)
    return f"{certificate_organization(cert)} ({code})" if code else certificate_organization(cert)


def seal_check(records: Sequence[SignedRecord], documents: Mapping[str, bytes], trust: TrustStore, *,
               case_agency: str | None, home_code: str | None) -> CheckResult:
    """Passed naming the sealing agency (or that no 文书 present is sealed); failed naming the first 文书 whose seal
    is missing, broken, not the platform's, or another agency's than `case_agency` (None: offline, where every
    seal must be one agency's)."""
    agencies: dict[str, str] = {}  # code (or organisation, a code-less seal offline) -> as named
    sealed = 0
    for signed in records:
        rec = signed.record
        for ref in rec.documents:
            pdf = documents.get(ref.sha256)
            kind = DOCUMENT_TYPES.get(ref.kind)
            if pdf is None or kind is None or not kind.SEALED:
                continue
            where = f"step {rec.seq} ({rec.task_name}) {ref.name}"
            seals = embedded_signatures(pdf, _is_seal)  # an unreadable one is returned too: it fails below
            if not seals:
                return failed(Check.SEAL, f"{where} bears no agency seal (须加盖印章)")
            for seal in seals:
                if not seal.ok or seal.certificate is None:
                    return failed(Check.SEAL, f"{where}: its seal does not hold: {seal.problem}")
                cert = seal.certificate
                try:
                    trust.check_at(cert, rec.signed_at)
                except SignatureError as exc:
                    return failed(Check.SEAL, f"{where} is sealed with {_named(cert, home_code)}, a seal the "
                                              f"platform's root did not certify for that time (forged?): {exc}")
                code = sealing_agency(cert, home_code)
                if case_agency is not None and code != case_agency:
                    return failed(Check.SEAL, f"{where} is sealed with the seal of {_named(cert, home_code)}, but "
                                              f"the case is handled by agency {case_agency}")
                agencies[code or certificate_organization(cert)] = _named(cert, home_code)
                sealed += 1
    if len(agencies) > 1:
        return failed(Check.SEAL, f"the case's 文书 bear the seals of several agencies: {', '.join(agencies.values())}")
    if not agencies:
        return passed(Check.SEAL, "no sealed 文书 to check")
    return passed(Check.SEAL, f"sealed by {next(iter(agencies.values()))}: {sealed} 文书")


def document_sealers(pdfs: Iterable[bytes]) -> set[str]:
    """The fingerprints of the seal certificates the given 文书 bear (a bundle carries them beside the others)."""
    out = set()
    for pdf in pdfs:
        for sig in embedded_signatures(pdf, _is_seal):
            if sig.certificate is not None:
                out.add(fingerprint(sig.certificate))
    return out
