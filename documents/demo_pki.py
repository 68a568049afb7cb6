"""A throwaway ECDSA P-256 CA for tests, benchmarks and demos — never for production keys.

Real keys are issued and stored by signatures/ (`casetrail init`); this exists so that documents/ can
be tested end to end (pyHanko and poppler's pdfsig) without depending on that package.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .signing import PdfSigner


@dataclass(frozen=True)
class DemoPki:
    root: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey
    officer: PdfSigner
    seal: PdfSigner


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def _issue(cn: str, org: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
           issuer_key: ec.EllipticCurvePrivateKey, ca: bool, start: dt.datetime, serial: int) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn, org)).issuer_name(issuer).public_key(key.public_key())
        .serial_number(serial).not_valid_before(start).not_valid_after(start + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=not ca, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False,
        ), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_demo_pki(agency: str = "呈州市卫生健康委员会", officer: str = "李明",
                  start: dt.datetime | None = None) -> DemoPki:
    """Root CA -> officer certificate and agency seal certificate, all ECDSA P-256."""
    start = start or dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(f"{agency} 测试根CA", agency)
    root = _issue(f"{agency} 测试根CA", agency, root_key, root_name, root_key, True, start, 1)
    officer_key = ec.generate_private_key(ec.SECP256R1())
    officer_cert = _issue(officer, agency, officer_key, root_name, root_key, False, start, 2)
    seal_key = ec.generate_private_key(ec.SECP256R1())
    seal_cert = _issue(f"{agency}（电子印章）", agency, seal_key, root_name, root_key, False, start, 3)
    return DemoPki(
        root=root, root_key=root_key,
        officer=PdfSigner(officer, officer_key, officer_cert, ()),
        seal=PdfSigner(agency, seal_key, seal_cert, ()),
    )
