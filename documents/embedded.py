"""The signatures a signed PDF carries, read and checked directly: signer certificate, signing time, and whether the
CMS signature over the signed byte range holds — in about a millisecond a signature.

`verify.verify_pdf_signatures` (pyHanko) is the full PAdES validation, ~50 ms a signature: too slow for
`casetrail verify --all`, which checks every case's seals. What this reads is what the engine wrote itself
(documents/signing.py, through pyHanko): each signature dictionary's /ByteRange names the signed bytes and the hex
/Contents between them holds the CMS SignedData. The checks are the ones that matter for a seal: the signed bytes
give the signed messageDigest, and the signer certificate's key verifies the signature over the signed attributes.
Whom the certificate belongs to and whether it chains to the trusted root is the caller's question (signatures/).
A PDF whose every document hash is signed in a step record cannot be swapped afterwards; this answers which key
sealed it when it was made.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")
_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


@dataclass(frozen=True)
class EmbeddedSignature:
    """One signature of a PDF: its signer certificate (None when unreadable) and what holds of it."""

    certificate: x509.Certificate | None
    signing_time: dt.datetime | None  # the signed attribute (signer-reported; there is no time-stamp server)
    problem: str = ""  # empty: the signed bytes give the signed digest and the certificate's key signed them

    @property
    def ok(self) -> bool:
        return not self.problem and self.certificate is not None


def embedded_signatures(pdf: bytes, which: Callable[[x509.Certificate], bool] | None = None) -> list[EmbeddedSignature]:
    """Every signature of the PDF in file order (an unsigned PDF: an empty list), or those whose signer certificate
    `which` accepts (the others are not checked: half the time when only the seal is asked for). Never raises on
    bad input: an unreadable signature is returned with its problem."""
    out = []
    for match in _BYTE_RANGE.finditer(pdf):
        start, first, second, rest = (int(g) for g in match.groups())
        if start != 0 or second + rest > len(pdf) or first >= second or pdf[first:first + 1] != b"<" \
                or pdf[second - 1:second] != b">":
            # Not a signature of this file: the bytes of another PDF it carries (a dossier holds every 文书),
            # whose byte ranges point elsewhere. Passed over: what this file's own signatures are is asked of them.
            continue
        found = _check(pdf, (first, second, rest), which)
        if found is not None:
            out.append(found)
    return out


def _check(pdf: bytes, ranges: tuple[int, int, int],
           which: Callable[[x509.Certificate], bool] | None) -> EmbeddedSignature | None:
    first, second, rest = ranges
    contents = pdf[first:second]
    try:
        der = bytes.fromhex(contents.strip().lstrip(b"<").rstrip(b">").decode("ascii"))
        info = cms.ContentInfo.load(der, strict=False)
        data = info["content"]
        signer = data["signer_infos"][0]
        certificate = _signer_certificate(data, signer)
        if which is not None and not which(certificate):
            return None
        attrs = {a["type"].native: a["values"][0] for a in signer["signed_attrs"]}
        algorithm = signer["digest_algorithm"]["algorithm"].native
        moment = attrs["signing_time"].native if "signing_time" in attrs else None
        signed_attrs = b"\x31" + signer["signed_attrs"].dump()[1:]  # signed as a SET OF, stored [0] IMPLICIT
        signature = signer["signature"].native
    except (ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError, UnsupportedAlgorithm) as exc:
        return EmbeddedSignature(None, None, f"unreadable signature: {type(exc).__name__}: {exc}")
    hash_class = _HASHES.get(algorithm)
    if hash_class is None:
        return EmbeddedSignature(certificate, moment, f"unknown digest algorithm {algorithm!r}")
    signed = pdf[:first] + pdf[second:second + rest]
    if "message_digest" not in attrs or hashlib.new(algorithm, signed).digest() != attrs["message_digest"].native:
        return EmbeddedSignature(certificate, moment, "the signed bytes were changed (digest mismatch)")
    key = certificate.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, signed_attrs, ec.ECDSA(hash_class()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signed_attrs, padding.PKCS1v15(), hash_class())
        else:
            return EmbeddedSignature(certificate, moment, f"unsupported key type {type(key).__name__}")
    except InvalidSignature:
        return EmbeddedSignature(certificate, moment, "the signature does not verify with its certificate's key")
    return EmbeddedSignature(certificate, moment)


def _signer_certificate(data: cms.SignedData, signer: cms.SignerInfo) -> x509.Certificate:
    """The certificate the SignerInfo names (issuer and serial, or subject key identifier) among those carried."""
    sid = signer["sid"]
    if sid.name == "issuer_and_serial_number":
        # Names compared as their DER (asn1crypto's Name equality prepares every string as LDAP does: two thirds
        # of the time of reading a signature); the CMS copies the issuer's name from the certificate itself.
        issuer, serial = sid.chosen["issuer"].dump(), sid.chosen["serial_number"].native
        matches = lambda cert: cert["tbs_certificate"]["serial_number"].native == serial \
            and cert["tbs_certificate"]["issuer"].dump() == issuer  # noqa: E731
    else:
        wanted = sid.chosen.native
        matches = lambda cert: cert.key_identifier == wanted  # noqa: E731
    for choice in data["certificates"]:
        if matches(choice.chosen):
            return _certificate(choice.chosen.dump())
    raise ValueError("the signer's certificate is not in the signature")


@functools.lru_cache(maxsize=256)
def _certificate(der: bytes) -> x509.Certificate:
    """A certificate by its DER: the same few seals and officers sign every 文书 of a run."""
    return x509.load_der_x509_certificate(der)
