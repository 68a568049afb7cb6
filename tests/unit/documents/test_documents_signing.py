"""PAdES: officer signature + agency seal validate with pyHanko and poppler's pdfsig; tampering is caught."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from documents import (
    PdfSignatureError,
    PdfSigner,
    RenderedDocument,
    SignatureBox,
    build,
    render_document,
    seal_pdf,
    sign_pdf,
    verify_pdf_signatures,
)
from documents.demo_pki import make_demo_pki
from documents.samples import sample_data
from documents.signing import DEFAULT_BOX

CST = dt.timezone(dt.timedelta(hours=8))
SIGNED_AT = dt.datetime(2026, 3, 28, 10, 5, tzinfo=CST)
SEALED_AT = dt.datetime(2026, 3, 28, 10, 6, tzinfo=CST)


@pytest.fixture(scope="module")
def notice(meta) -> RenderedDocument:
    return render_document(build("penalty_prior_notice", sample_data("penalty_prior_notice")), meta=meta)


@pytest.fixture(scope="module")
def signed_notice(notice, meta, pki) -> bytes:
    rendered = notice
    pdf = sign_pdf(rendered.pdf, signer=pki.officer, field_name="Officer", reason="承办人签名", location="呈州市",
                   signing_time=SIGNED_AT, font_cache_dir=meta.font_cache_dir)
    return seal_pdf(pdf, seal=pki.seal, signing_time=SEALED_AT, box=rendered.boxes["sig-seal"],
                    font_cache_dir=meta.font_cache_dir)


def _pdfsig(pdf: bytes, nssdir: str, tmp_path: Path) -> str:
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdfsig", "-nssdir", nssdir, str(path)], capture_output=True, text=True).stdout


def test_signature_and_seal_validate_with_pyhanko(signed_notice, pki) -> None:
    officer, seal = verify_pdf_signatures(signed_notice, [pki.root])
    assert officer.ok and seal.ok
    assert (officer.signer, officer.signing_time) == ("李明", SIGNED_AT)
    assert seal.signer == "呈州市卫生健康委员会（电子印章）" and seal.signing_time == SEALED_AT
    assert seal.coverage == "ENTIRE_FILE"


def test_signature_and_seal_validate_with_pdfsig(signed_notice, nssdir, tmp_path) -> None:
    out = _pdfsig(signed_notice, nssdir, tmp_path)
    assert out.count("Signature is Valid") == 2, out
    assert out.count("Certificate is Trusted") == 2, out
    assert "ETSI.CAdES.detached" in out  # PAdES


def test_flipped_byte_in_the_signed_range_breaks_both_validators(signed_notice, pki, nssdir, tmp_path) -> None:
    # Flip a byte inside page content (the first stream), which every signature's byte range covers.
    at = signed_notice.index(b"stream\n") + 40
    tampered = signed_notice[:at] + bytes([signed_notice[at] ^ 0x01]) + signed_notice[at + 1:]
    statuses = verify_pdf_signatures(tampered, [pki.root])
    assert statuses and not any(s.intact for s in statuses)
    assert all("changed after signing" in s.reason for s in statuses)
    out = _pdfsig(tampered, nssdir, tmp_path)
    assert "Signature is Valid" not in out
    assert "Digest Mismatch" in out or "Invalid" in out


def test_a_foreign_root_is_not_trusted(signed_notice) -> None:
    other = make_demo_pki()
    statuses = verify_pdf_signatures(signed_notice, [other.root])
    assert all(s.intact and not s.trusted and not s.ok for s in statuses)


def test_no_trust_roots_is_refused_not_passed(signed_notice) -> None:
    with pytest.raises(PdfSignatureError, match="no trust roots"):
        verify_pdf_signatures(signed_notice, [])


def test_an_unsigned_pdf_has_no_signatures(meta, pki) -> None:
    pdf = render_document(build("hearing_notice", sample_data("hearing_notice")), meta=meta).pdf
    assert verify_pdf_signatures(pdf, [pki.root]) == []


def test_naive_signing_time_and_garbage_input_are_signature_errors(pki) -> None:
    with pytest.raises(PdfSignatureError, match="timezone-aware"):
        sign_pdf(b"%PDF-1.7", signer=pki.officer, field_name="X", reason="", location="",
                 signing_time=dt.datetime(2026, 1, 1))
    with pytest.raises(PdfSignatureError, match="could not sign"):
        sign_pdf(b"not a pdf", signer=pki.officer, field_name="X", reason="", location="", signing_time=SIGNED_AT)


def test_the_signature_containers_fit_the_reserved_room_with_margin(signed_notice) -> None:
    # The room is fixed (no dry-run estimate); a longer chain or a timestamp token must not outgrow it.
    from pyhanko.pdf_utils.reader import PdfFileReader

    from documents.signing import SIGNATURE_BYTES_RESERVED

    sizes = [len(s.pkcs7_content) for s in PdfFileReader(io.BytesIO(signed_notice)).embedded_signatures]
    assert len(sizes) == 2
    assert all(0 < size <= SIGNATURE_BYTES_RESERVED // 2 for size in sizes), sizes


def _page_image(pdf: bytes, page: int, tmp_path: Path) -> Image.Image:
    """The page as poppler paints it, with annotations (the signature appearances), at 2 pixels a point."""
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "144", "-f", str(page + 1), "-l", str(page + 1), "-singlefile", str(path),
                    str(tmp_path / "page")], check=True)
    return Image.open(tmp_path / "page.ppm").convert("RGB")


def _inside(image: Image.Image, box: SignatureBox) -> bytes:
    """The RGB bytes of the pixels inside `box` (PDF points from the bottom left)."""
    top = image.height / 2 - box.y2
    box_pixels = (round(2 * box.x1), round(2 * top), round(2 * box.x2), round(2 * (top + box.y2 - box.y1)))
    return image.crop(box_pixels).tobytes()


def _ink(image: Image.Image, box: SignatureBox, color: tuple[int, int, int]) -> int:
    """How many pixels inside `box` are near `color`."""
    data = _inside(image, box)
    return sum(all(abs(a - b) <= 60 for a, b in zip(data[i:i + 3], color, strict=True))
               for i in range(0, len(data), 3))


OFFICER_BLUE, SEAL_RED = (0x1A, 0x23, 0x7E), (0xC0, 0x00, 0x00)


def test_the_officers_stamp_and_the_seal_are_drawn_where_the_signatures_are(notice, signed_notice, tmp_path) -> None:
    officer_box, seal_box = DEFAULT_BOX, notice.boxes["sig-seal"]
    page = notice.page_count - 1
    unsigned = _page_image(notice.pdf, page, tmp_path)
    signed = _page_image(signed_notice, page, tmp_path)
    assert _ink(unsigned, officer_box, OFFICER_BLUE) == 0
    assert _ink(signed, officer_box, OFFICER_BLUE) > 1000  # frame, name and time
    # the 文书 prints a dashed red circle where the seal goes; the seal's ring and four lines come on top
    assert _ink(signed, seal_box, SEAL_RED) > _ink(unsigned, seal_box, SEAL_RED) + 1000


def test_the_officers_stamp_shows_the_signers_name(notice, meta, pki, tmp_path) -> None:
    def stamp(name: str) -> bytes:
        signer = PdfSigner(name=name, private_key=pki.officer.private_key, certificate=pki.officer.certificate)
        pdf = sign_pdf(notice.pdf, signer=signer, field_name="Officer", reason="承办人签名", location="呈州市",
                       signing_time=SIGNED_AT, font_cache_dir=meta.font_cache_dir)
        return _inside(_page_image(pdf, notice.page_count - 1, tmp_path), DEFAULT_BOX)

    assert stamp("李明") == stamp("李明")  # the same signer and time: the same stamp
    assert stamp("李明") != stamp("陈静")


@pytest.mark.parametrize("signer_of", ["officer", "seal"])
def test_the_signed_attributes_kept_per_certificate_are_pyhankos_own_byte_for_byte(pki, signer_of) -> None:
    import asyncio
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    from pyhanko.sign import signers
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    from documents.signing import _ATTRIBUTES, _pyhanko_signer

    def run(coroutine):  # in a thread of its own: a browser test's Playwright may hold this thread's event loop
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, coroutine).result()

    signer = _pyhanko_signer(getattr(pki, signer_of))
    settings = PdfCMSSignedAttributes(signing_time=SIGNED_AT)  # as PdfSigner passes it: PAdES leaves the time out
    _ATTRIBUTES.clear()
    for n in range(4):  # the first builds the template, the others fill it in
        digest = hashlib.sha256(f"文书 {n}".encode()).digest()
        ours = run(signer.signed_attrs(digest, "sha256", settings, use_pades=True)).dump()
        theirs = run(signers.SimpleSigner.signed_attrs(signer, digest, "sha256", settings,
                                                               use_pades=True)).dump(force=True)
        assert ours == theirs
        assert digest in ours
    assert len(_ATTRIBUTES) == 1
    # Not PAdES: the signing time is signed too, so the attributes are built each time, as pyHanko does.
    digest = hashlib.sha256(b"other").digest()
    plain = run(signer.signed_attrs(digest, "sha256", settings, use_pades=False)).dump()
    assert plain == run(signers.SimpleSigner.signed_attrs(signer, digest, "sha256", settings)).dump(force=True)
    assert len(_ATTRIBUTES) == 1


def test_der_is_asn1cryptos_own_encoding_also_for_lengths_ending_in_0x80() -> None:
    # asn1crypto takes such a header (128, 384, 640 … bytes) for an indefinite length and re-encodes the whole node
    # with force, its children parsed: tens of ms for a signature container. documents.signing._der gives the same
    # bytes, and a container read back dumps as read, nothing parsed.
    from asn1crypto import cms, core

    from documents.signing import _ContentInfo, _der

    for size in range(100, 700):  # the content, the explicit [0] around it and the ContentInfo: each hits 0x..80
        built = cms.ContentInfo({"content_type": "data", "content": core.OctetString(bytes(size))})
        expected = built.dump(force=True)
        assert _der(built) == expected
        outer = cms.ContentInfo({"content_type": "data", "content": cms.ContentInfo.load(expected)["content"]})
        assert _der(outer) == outer.dump(force=True)
        read = _ContentInfo.load(expected)
        assert read.dump() == expected and read.children is None


def test_the_signature_containers_are_der_as_asn1crypto_writes_it(pki) -> None:
    import asyncio
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    from asn1crypto import cms

    from documents.signing import _pyhanko_signer

    async def containers() -> list[bytes]:
        signer = _pyhanko_signer(PdfSigner(pki.officer.name, pki.officer.private_key, pki.officer.certificate,
                                           (pki.root,)))
        return [(await signer.async_sign(hashlib.sha256(bytes([n])).digest(), "sha256", use_pades=True)).dump()
                for n in range(40)]  # ECDSA signatures of 70 to 72 bytes: SignerInfos of three lengths

    with ThreadPoolExecutor(1) as thread:  # a browser test's Playwright may hold this thread's event loop
        for der in thread.submit(asyncio.run, containers()).result():
            assert cms.ContentInfo.load(der).dump(force=True) == der
