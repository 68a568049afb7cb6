"""The agency's small PKI: root CA, officer / seal / log certificates, revocation lists.

Everything time-dependent takes `now` and a validity period as parameters, so tests and the
engine's clock decide what "now" is. Each certificate states its role in the subject's OU
("officer", "seal" = 电子印章, "log", "ca") so a verifier can refuse, e.g., an officer key signing a
tree head. Officer certificates carry the user id in the UID attribute (RFC 4519, OID
0.9.2342.19200300.100.1.1) so a record's `actor` can be matched against the certificate.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from signatures.algorithms import Algorithm, algorithm_for_key, generate_private_key
from signatures.errors import CertificateError


class CertRole(enum.Enum):
    """What a certificate may sign; written as the subject OU."""

    CA = "ca"
    OFFICER = "officer"
    SEAL = "seal"
    LOG = "log"


@dataclass(frozen=True)
class Authority:
    """A CA certificate with its private key (kept by `casetrail init`, ideally offline)."""

    certificate: x509.Certificate
    private_key: Any
    algorithm: Algorithm = Algorithm.ECDSA_P256_SHA256


@dataclass(frozen=True)
class Revocation:
    """One revoked certificate: signatures made at or after `revoked_at` are invalid."""

    serial: int
    revoked_at: dt.datetime


def _name(common_name: str, role: CertRole, organization: str, user_id: str | None = None,
          agency_code: str | None = None) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role.value),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if user_id is not None:
        attrs.append(x509.NameAttribute(NameOID.USER_ID, user_id))
    if agency_code is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, agency_code))
    return x509.Name(attrs)


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(dt.UTC)


def make_root_ca(organization: str, *, now: dt.datetime, valid_for: dt.timedelta,
                 private_key: Any | None = None, serial: int | None = None) -> Authority:
    """A self-signed agency root CA (ECDSA P-256). Path length 1 allows one intermediate level."""
    key = private_key or generate_private_key()
    name = _name(f"{organization} 根证书", CertRole.CA, organization)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(_utc(now)).not_valid_after(_utc(now + valid_for))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    )
    return Authority(cert, key, algorithm_for_key(key.public_key()))


def make_intermediate_ca(parent: Authority, common_name: str, *, now: dt.datetime, valid_for: dt.timedelta,
                         private_key: Any | None = None) -> Authority:
    """A subordinate CA (e.g. one per county bureau) issued by the agency root."""
    key = private_key or generate_private_key()
    organization = _organization(parent.certificate)
    builder = _leaf_builder(parent, _name(common_name, CertRole.CA, organization), key.public_key(),
                            now, valid_for, None)
    cert = (builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .sign(parent.private_key, hashes.SHA256(), ecdsa_deterministic=True))
    return Authority(cert, key, algorithm_for_key(key.public_key()))


def _key_usage(*, cert_sign: bool = False, non_repudiation: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not cert_sign, content_commitment=non_repudiation,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False, decipher_only=False)


def _organization(cert: x509.Certificate) -> str:
    attrs = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(attrs[0].value) if attrs else ""


def _leaf_builder(ca: Authority, subject: x509.Name, public_key: Any, now: dt.datetime,
                  valid_for: dt.timedelta, serial: int | None) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca.certificate.subject).public_key(public_key)
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(_utc(now)).not_valid_after(_utc(now + valid_for))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.private_key.public_key()),
                       critical=False)
    )


def _issue(ca: Authority, subject: x509.Name, public_key: Any, now: dt.datetime, valid_for: dt.timedelta,
           serial: int | None, non_repudiation: bool) -> x509.Certificate:
    algorithm_for_key(public_key)  # refuse key types we cannot verify later
    return (_leaf_builder(ca, subject, public_key, now, valid_for, serial)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(non_repudiation=non_repudiation), critical=True)
            .sign(ca.private_key, hashes.SHA256(), ecdsa_deterministic=True))


def issue_officer_certificate(ca: Authority, *, user_id: str, name: str, public_key: Any, now: dt.datetime,
                              valid_for: dt.timedelta, serial: int | None = None) -> x509.Certificate:
    """An officer's signing certificate: CN = name, UID = user id, digitalSignature + nonRepudiation."""
    subject = _name(name, CertRole.OFFICER, _organization(ca.certificate), user_id)
    return _issue(ca, subject, public_key, now, valid_for, serial, non_repudiation=True)


def issue_seal_certificate(ca: Authority, *, seal_name: str, public_key: Any, now: dt.datetime,
                           valid_for: dt.timedelta, serial: int | None = None, organization: str | None = None,
                           agency_code: str | None = None) -> x509.Certificate:
    """An agency's electronic seal (电子印章) certificate; it signs 决定书/告知书 and bundle manifests.

    On a platform of many agencies the platform CA issues each its own: O = the agency's name (default: the CA's
    organisation), and the agency's code as organizationIdentifier (2.5.4.97) so a verifier can tell which agency
    sealed (`certificate_agency_code`). A seal issued before agencies existed carries no code."""
    subject = _name(seal_name, CertRole.SEAL, organization or _organization(ca.certificate), agency_code=agency_code)
    return _issue(ca, subject, public_key, now, valid_for, serial, non_repudiation=True)


def issue_log_certificate(ca: Authority, *, public_key: Any, now: dt.datetime, valid_for: dt.timedelta,
                          name: str = "casetrail log", serial: int | None = None) -> x509.Certificate:
    """The certificate of the key that signs Merkle tree heads and bundle manifests."""
    subject = _name(name, CertRole.LOG, _organization(ca.certificate))
    return _issue(ca, subject, public_key, now, valid_for, serial, non_repudiation=False)


def make_crl(ca: Authority, revoked: Sequence[Revocation], now: dt.datetime,
             next_update: dt.timedelta = dt.timedelta(days=7)) -> x509.CertificateRevocationList:
    """A CRL signed by `ca`; each entry's revocation date is what signing times are compared with."""
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.certificate.subject)
               .last_update(_utc(now)).next_update(_utc(now + next_update)))
    for item in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(item.serial)
            .revocation_date(_utc(item.revoked_at)).build())
    return builder.sign(ca.private_key, hashes.SHA256(), ecdsa_deterministic=True)


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER encoding, lower-case hex (what records name their signer by)."""
    return cert.fingerprint(hashes.SHA256()).hex()


def index_certificates(certs: Iterable[x509.Certificate] | Mapping[str, x509.Certificate]) -> dict[str, x509.Certificate]:
    """Certificates by fingerprint; a mapping is taken as already indexed (saves hashing per case)."""
    if isinstance(certs, Mapping):
        return dict(certs)
    return {fingerprint(c): c for c in certs}


def certificate_user_id(cert: x509.Certificate) -> str | None:
    """The UID attribute of the subject (the officer's user id), or None for seal/log/CA certs."""
    attrs = cert.subject.get_attributes_for_oid(NameOID.USER_ID)
    return str(attrs[0].value) if attrs else None


def certificate_agency_code(cert: x509.Certificate) -> str | None:
    """The agency code a seal certificate carries (organizationIdentifier), or None (a seal from before agencies)."""
    attrs = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    return str(attrs[0].value) if attrs else None


def certificate_organization(cert: x509.Certificate) -> str:
    """The subject's organisation: for a seal, the agency's name."""
    return _organization(cert)


def certificate_role(cert: x509.Certificate) -> CertRole | None:
    """The role written in the subject OU, or None if absent or unknown."""
    attrs = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    try:
        return CertRole(str(attrs[0].value)) if attrs else None
    except ValueError:
        return None


def certificate_pem(cert: x509.Certificate) -> bytes:
    """PEM encoding of a certificate."""
    return cert.public_bytes(serialization.Encoding.PEM)


def crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    """PEM encoding of a CRL."""
    return crl.public_bytes(serialization.Encoding.PEM)


def load_certificate(pem: bytes) -> x509.Certificate:
    """Parse one PEM certificate; unparsable input raises `CertificateError`."""
    try:
        cert = x509.load_pem_x509_certificate(pem)
        # cryptography parses fields lazily; touch them now so a damaged certificate fails here,
        # with a clear message, and not later in the middle of a chain check.
        _ = (cert.subject, cert.issuer, cert.extensions, cert.public_key(), cert.not_valid_before_utc,
             cert.not_valid_after_utc, cert.serial_number)
        return cert
    # A damaged byte can turn the key's algorithm identifier into one cryptography does not know:
    # that is as unreadable as a broken length, and must be named the same way.
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CertificateError(f"not a readable PEM certificate: {exc}") from exc


def load_crls(pem: bytes) -> list[x509.CertificateRevocationList]:
    """Parse one or more concatenated PEM CRLs (one per issuing CA)."""
    marker = b"-----BEGIN X509 CRL-----"
    parts = [marker + chunk for chunk in pem.split(marker)[1:]]
    if not parts:
        raise CertificateError("no revocation list (CRL) found")
    try:
        crls = [x509.load_pem_x509_crl(part) for part in parts]
        for crl in crls:  # force lazy parsing (see load_certificate)
            _ = (crl.issuer, crl.last_update_utc, crl.next_update_utc, list(crl))
        return crls
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CertificateError(f"not a readable PEM revocation list: {exc}") from exc
