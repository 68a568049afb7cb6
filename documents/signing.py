"""PAdES signatures on rendered 文书: the officer's signature, then the agency seal (电子印章).

Keys and certificates come in as `cryptography` objects (the signatures/ package owns key storage; this
library only uses them). ECDSA P-256 is the default because independent validators (poppler's pdfsig,
Adobe) accept it; Ed25519 PDF signatures are rejected by pdfsig. The signing time is a parameter — there
is no time-stamp server and "now" is the caller's decision, recorded in the step record.

Signed bytes are *not* reproducible (the ECDSA nonce and pyHanko's file identifiers are random), so the
engine records the sha256 of the exact bytes returned here; the unsigned render is reproducible.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import cms, core
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .appearance import StampStyle, draw_stamp
from .errors import PdfSignatureError
from .render import DEFAULT_FONT_FAMILY, SignatureBox

T = TypeVar("T")


class _TimedPdfSigner(signers.PdfSigner):
    """pyHanko's PdfSigner with the signing time as an input instead of the system clock."""

    def __init__(self, *args: object, signing_time: dt.datetime, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._signing_time = signing_time

    def init_signing_session(self, pdf_out, existing_fields_only=False):  # type: ignore[no-untyped-def]
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self._signing_time
        return session


#: Default visible-signature box (PDF points): last page, bottom-left margin (letters keep it empty).
DEFAULT_BOX = SignatureBox(page=-1, x1=70.0, y1=10.0, x2=250.0, y2=56.0)


@dataclass(frozen=True)
class PdfSigner:
    """Who signs: display name, private key and certificate (+ intermediates up to, not incl., the root)."""

    name: str
    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = field(default_factory=tuple)


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _der(value: core.Asn1Value) -> bytes:
    """`value`'s DER, as asn1crypto's dump() gives it, with every node encoded once.

    asn1crypto's dump() takes a header ending in 0x80 for an indefinite (BER) length and encodes that node again
    with `force`, parsing what it had read from DER, while every level of a structure built in Python asks its
    children for their bytes twice over (asn1crypto issue 249) — but a definite length of 128, 384, 640 … ends in
    0x80 as well. A signature whose container (or SignerInfo, or certificate) had such a length, about one in eight,
    took ~40 ms instead of ~1 ms to encode. Here a node read from DER and not changed gives its bytes as read; one
    built or changed is encoded from its children, as asn1crypto does (defaults left out, sets sorted)."""
    if isinstance(value, core.Void):
        return b""
    if isinstance(value, core.Any):
        if value._parsed is None:
            value.parse()
        return _der(value._parsed[0])
    if isinstance(value, core.Choice):
        return _explicit(value, b"", _der(value.chosen))
    if getattr(value, "_indefinite", False) or (isinstance(value, core.Primitive) and value.method != 0):
        return value.dump(force=True)  # BER read in: asn1crypto's own re-encoding to DER
    if isinstance(value, core.Sequence | core.SequenceOf) and value.children is not None and value._is_mutated():
        contents = _sequence_contents(value) if isinstance(value, core.Sequence) else _sequence_of_contents(value)
    else:
        contents = value.contents
    return _explicit(value, core._dump_header(value.class_, value.method, value.tag, contents), contents)


def _explicit(value: core.Asn1Value, header: bytes, contents: bytes) -> bytes:
    for class_, tag in value.explicit or ():
        header = core._dump_header(class_, 1, tag, header + contents) + header
    return header + contents


def _sequence_contents(value: core.Sequence) -> bytes:
    encoded: list[tuple[int, bytes]] = []
    for index, child in enumerate(value.children):
        if child is None or isinstance(child, core.Void):  # an absent optional field
            continue
        if child.__class__ is tuple:  # read from DER, never parsed: (class, method, tag, header, contents, trailer)
            tag, der = child[2], child[3] + child[4] + child[5]
        else:
            tag, der = child.tag, _der(child)
        if "default" in value._fields[index][2] and der == _default_der(type(value), index):
            continue
        encoded.append((tag, der))
    if isinstance(value, core.Set):
        encoded.sort(key=lambda tag_der: tag_der[0])
    return b"".join(der for _, der in encoded)


def _sequence_of_contents(value: core.SequenceOf) -> bytes:
    encoded = [_der(child) for child in value]
    return b"".join(sorted(encoded) if isinstance(value, core.SetOf) else encoded)


@cache
def _default_der(cls: type[core.Sequence], index: int) -> bytes:
    _, spec, params = cls._fields[index]
    return spec(**params).dump()


class _AsRead:
    """A structure read from DER whose dump() is `_der`: the same bytes, never asn1crypto's forced re-encoding."""

    def dump(self, force: bool = False) -> bytes:
        return super().dump(force=True) if force else _der(self)  # type: ignore[misc]


class _Attributes(_AsRead, cms.CMSAttributes):
    pass


class _ContentInfo(_AsRead, cms.ContentInfo):
    pass


class _EncodedOnceSigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner, with its CMS structures encoded once (`_der`) and read back from their DER.

    asn1crypto re-encodes a structure built in Python (not parsed) every time its bytes are asked for, walking
    the whole tree at each level; pyHanko asks for the signed attributes' bytes to sign them, to copy them into
    the SignerInfo and to write the container. Read back from their own DER, they are encoded once: the same
    bytes (pyHanko validates them in the tests), ~10 % less signing time."""

    async def signed_attrs(self, data_digest: bytes, digest_algorithm: str, attr_settings: Any = None,
                           content_type: str = "data", use_pades: bool = False, timestamper: Any = None,
                           dry_run: bool = False, is_pdf_sig: bool = True) -> cms.CMSAttributes:
        args = (digest_algorithm, attr_settings, content_type, use_pades, timestamper, dry_run, is_pdf_sig)
        if not _same_but_the_digest(self, *args):
            built = await super().signed_attrs(data_digest, *args)
            return _Attributes.load(_der(built))
        # PAdES: the signing certificate, the content type and the digest — only the digest changes from one
        # 文书 to the next. asn1crypto builds those few hundred bytes in ~10 ms (it re-encodes every level at
        # every change), so they are built once per certificate with a stand-in digest of the same length, and
        # the digest is put in its place (tests/unit/documents: byte for byte pyHanko's own).
        key = (_der(self.signing_cert), digest_algorithm, content_type, len(data_digest))
        template = _ATTRIBUTES.get(key)
        if template is None:
            stand_in = bytes(range(256))[:len(data_digest)] if len(data_digest) <= 256 else None
            built = _der(await super().signed_attrs(stand_in, *args)) if stand_in else b""
            if not stand_in or built.count(stand_in) != 1:  # cannot tell where the digest goes: built each time
                return _Attributes.load(_der(await super().signed_attrs(data_digest, *args)))
            template = _ATTRIBUTES.setdefault(key, tuple(built.split(stand_in)))  # type: ignore[arg-type]
        before, after = template
        return _Attributes.load(before + data_digest + after)

    async def async_sign_prescribed_attributes(self, *args: Any, **kwargs: Any) -> cms.ContentInfo:
        built = await super().async_sign_prescribed_attributes(*args, **kwargs)
        return _ContentInfo.load(_der(built))


# The signed attributes of a PAdES signature but for the digest, per (certificate, digest algorithm, content
# type, digest length): (DER before the digest, DER after it). A few certificates per officer and agency.
_ATTRIBUTES: dict[tuple[bytes, str, str, int], tuple[bytes, bytes]] = {}


def _same_but_the_digest(signer: signers.SimpleSigner, digest_algorithm: str, attr_settings: Any,
                         content_type: str, use_pades: bool, timestamper: Any, dry_run: bool,
                         is_pdf_sig: bool) -> bool:
    """Whether pyHanko's signed attributes for these arguments depend on the digest alone: a PAdES signature
    (no signing time: PAdES forbids it) without a time-stamp, CAdES extras or Adobe revocation info."""
    return (use_pades and is_pdf_sig and timestamper is None and not dry_run
            and signer.signed_attr_prov_spec is None and signer.signing_cert is not None
            and (attr_settings is None or (attr_settings.cades_signed_attrs is None
                                           and getattr(attr_settings, "adobe_revinfo_attr", None) is None)))


def _pyhanko_signer(signer: PdfSigner) -> signers.SimpleSigner:
    if not isinstance(signer.private_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise PdfSignatureError("PDF signatures need an ECDSA or RSA key (pdfsig rejects Ed25519)")
    key_der = signer.private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return _EncodedOnceSigner(
        signing_cert=_asn1_cert(signer.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(c) for c in signer.chain]),
    )


def stamp_lines(signer_name: str, when: dt.datetime, *, seal: bool) -> list[str]:
    """What the visible stamp says: the signer and the signing time in `when`'s own zone (the caller passes the
    agency's local time; the offset is printed, so the reader knows which)."""
    if seal:
        return ["电子印章", signer_name, when.strftime("%Y-%m-%d"), when.strftime("%H:%M:%S %z")]
    return [f"签名：{signer_name}", f"时间：{when.strftime('%Y-%m-%d %H:%M:%S %z')}"]


def _stamp_style(lines: list[str], box: SignatureBox, seal: bool, font_family: str,
                 font_cache_dir: Path | None) -> StampStyle:
    stamp = draw_stamp(lines, width=box.x2 - box.x1, height=box.y2 - box.y1, seal=seal, font_family=font_family,
                       font_cache_dir=font_cache_dir)
    return StampStyle(background=stamp, border_width=0, background_opacity=1.0)


# Room for the CMS container. Without it pyHanko signs a dummy container first just to measure it (a
# third of the signing time). An ECDSA P-256 container with our certificate chain is about 2 KB; pyHanko
# refuses, rather than truncates, a container that does not fit.
SIGNATURE_BYTES_RESERVED = 8192


def _outside_event_loop(call: Callable[[], T]) -> T:
    """pyHanko's synchronous API wraps asyncio.run(), which refuses to run inside a running event loop
    (an async server, or a thread driving Playwright). Then the signing runs on a short-lived thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def sign_pdf(
    pdf: bytes,
    *,
    signer: PdfSigner,
    field_name: str,
    reason: str,
    location: str,
    signing_time: dt.datetime,
    visible: bool = True,
    box: SignatureBox | None = None,
    seal: bool = False,
    font_family: str = DEFAULT_FONT_FAMILY,
    font_cache_dir: Path | None = None,
) -> bytes:
    """Add one PAdES signature (incremental update; earlier signatures stay valid).

    `box` is where the visible appearance goes (from `RenderedDocument.boxes`, e.g. "sig-officer" or
    "sig-seal"); page -1 means the last page. `seal=True` draws the 电子印章 appearance.
    """
    if signing_time.tzinfo is None:
        raise PdfSignatureError("signing_time must be timezone-aware")
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        spec = None
        lines = stamp_lines(signer.name, signing_time, seal=seal)
        if visible:
            where = box or DEFAULT_BOX
            pages = int(writer.root["/Pages"]["/Count"])
            page = where.page if where.page >= 0 else pages + where.page
            # The stamp is drawn as outlines: its words go in the field's /TU too (screen readers, text search).
            spec = fields.SigFieldSpec(sig_field_name=field_name, on_page=page, box=where.rect,
                                       readable_field_name="；".join(lines))
        sig_meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            reason=reason,
            location=location,
            name=signer.name,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
        )
        style = None
        if visible:
            style = _stamp_style(lines, box or DEFAULT_BOX, seal, font_family, font_cache_dir)
        pdf_signer = _TimedPdfSigner(
            sig_meta, signer=_pyhanko_signer(signer), stamp_style=style, new_field_spec=spec, signing_time=signing_time
        )
        out = _outside_event_loop(lambda: pdf_signer.sign_pdf(
            writer, bytes_reserved=SIGNATURE_BYTES_RESERVED, appearance_text_params={"signer": signer.name}))
        return out.getvalue()
    except PdfSignatureError:
        raise
    except Exception as exc:
        raise PdfSignatureError(f"could not sign the PDF ({field_name}): {type(exc).__name__}: {exc}") from exc


def seal_pdf(
    pdf: bytes,
    *,
    seal: PdfSigner,
    signing_time: dt.datetime,
    location: str = "",
    box: SignatureBox | None = None,
    field_name: str = "AgencySeal",
    reason: str = "行政机关电子印章",
    font_cache_dir: Path | None = None,
) -> bytes:
    """The agency seal on 告知书/决定书 (行政处罚法 Art 59: 必须盖有作出决定的行政机关的印章)."""
    return sign_pdf(
        pdf, signer=seal, field_name=field_name, reason=reason, location=location, signing_time=signing_time,
        visible=True, box=box, seal=True, font_cache_dir=font_cache_dir,
    )
