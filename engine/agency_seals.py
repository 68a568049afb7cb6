"""Each agency's electronic seal (电子印章): issued by the platform CA, found for a case, named when verified.

The platform's root CA is the one trust root. Every agency on it gets a seal key of its own with a certificate
from that root — O = the agency's name, organizationIdentifier = its code — kept with the platform's keys
(engine/keystore.py, `agencies/<code>/`). The home agency (settings.json `agency`) keeps the seal made with the
root at `casetrail init`, which sealed everything before agencies existed and carries no code: it stays its seal
until `casetrail ca seal HOME --replace` issues one of its own. A case's 告知书 and 决定书, its dossier and its
evidence bundle are sealed with the seal of the agency that handles it (`cases.agency_code`); an agency with no
seal is refused before anything is written, naming the command that issues one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import AgencyRow, CertificateRow
from engine.errors import CasetrailError, ConfigurationError, NotFound
from engine.services import Services
from signatures.keys import KeySigner
from signatures.pki import CertRole, certificate_agency_code, certificate_pem, fingerprint

__all__ = ["SealMissing", "issue_agency_seal", "seal_for", "seal_name", "sealing_agency"]


class SealMissing(CasetrailError):
    """The case's agency has no seal: nothing sealed, nothing written (CLI exit 2, web 409)."""

    http_status = 409

    def __init__(self, code: str) -> None:
        super().__init__(f"机构 {code} 尚无电子印章，不能加盖印章；请管理员运行 casetrail ca seal {code} (agency {code} has no "
                         f"seal of its own, so its 文书 cannot be sealed: an administrator issues one with "
                         f"`casetrail ca seal {code}`; nothing was written)")
        self.code = code


def seal_name(agency: str) -> str:
    """The seal's common name: 《行政处罚法》第五十九条 requires the 决定书 to bear the agency's seal."""
    return f"{agency}行政执法专用章"


def seal_for(svc: Services, code: str | None) -> KeySigner:
    """The seal of agency `code` (None: the home agency): its own, else — for the home agency — the seal made
    with the root. SealMissing for any other agency without one."""
    home = svc.settings.agency.code
    code = code or home
    own = svc.agency_keys.agency_seal_signer(code)
    if own is not None:
        return own
    if code == home:
        return svc.agency_keys.seal_signer()
    raise SealMissing(code)


def sealing_agency(cert: x509.Certificate, home_code: str | None) -> str | None:
    """The code of the agency a seal certificate belongs to: the code it carries, or — a seal from before agencies,
    which carries none — the home agency's (None offline, where the home is not known)."""
    return certificate_agency_code(cert) or home_code


def issue_agency_seal(svc: Services, code: str, name: str, *, now: dt.datetime, replace: bool = False,
                      with_seal: Callable[[Session], None] | None = None) -> str:
    """Issue agency `code` (named `name`) a seal key and certificate from the platform CA; its fingerprint.

    Refuses (Conflict) when the agency has a seal of its own, unless `replace`: the new one then seals from `now`
    and the certificate it replaces (or, for the home agency, the seal made with the root) is revoked from `now`,
    so what it sealed before still verifies and nothing sealed by it later does. The key is made and written
    under a temporary name first; then the certificate row, the revocation and whatever `with_seal` writes (a
    new agency's own row: engine/usecases/agencies.py) commit in one transaction; only then is the key put in
    place. If anything fails, nothing is written and no key file stays behind."""
    keys = svc.agency_keys
    home = svc.settings.agency.code
    if replace:
        previous = keys.agency_seal_signer(code)
        if previous is None and code == home:
            previous = keys.seal_signer()
        old = previous.fingerprint if previous is not None else None
    else:
        old = None

    def register(cert: x509.Certificate) -> None:
        with svc.uow() as work:
            session = work.session
            if with_seal is not None:
                with_seal(session)
            session.add(CertificateRow(serial=str(cert.serial_number), user_id=None, role=CertRole.SEAL.value,
                                       pem=certificate_pem(cert), fingerprint=fingerprint(cert),
                                       not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
                                       revoked_at=None))
            if old is not None:
                row = session.scalar(select(CertificateRow).where(CertificateRow.fingerprint == old))
                if row is not None and row.revoked_at is None:
                    row.revoked_at = now
            work.commit()

    try:
        cert = keys.add_agency_seal(code, name, seal_name(name), now=now, replace=replace, register=register)
    except OSError as exc:
        raise ConfigurationError(f"无法写入机构 {code} 的印章密钥，未作任何更改 (the seal key of agency {code} cannot be "
                                 f"written: {exc.strerror or exc}; nothing was written)") from exc
    return fingerprint(cert)


def issue_seal_for_row(svc: Services, code: str, *, now: dt.datetime, replace: bool = False) -> tuple[str, str]:
    """`casetrail ca seal CODE`: the seal of an agency the platform already has, named as its row names it;
    (the agency's name, the new certificate's fingerprint)."""
    with svc.uow.read() as session:
        name = session.scalar(select(AgencyRow.name).where(AgencyRow.code == code))
    if name is None:
        raise NotFound(f"没有机构 {code} (no agency {code!r} on this platform)")
    return name, issue_agency_seal(svc, code, name, now=now, replace=replace)

