"""Every 文书 reserves its signature areas: no visible signature or seal covers text, and the party's signature
(drawn on the screen, or 拒绝签名 with the witness) is in its block. Checked on the PDF itself with pdfplumber."""

from __future__ import annotations

import datetime as dt
import io

import pdfplumber
import pytest

from documents import DOCUMENT_TYPES, build, render_document, seal_pdf, sign_pdf
from documents.samples import drawn_signature, sample_data, sample_kinds

CST = dt.timezone(dt.timedelta(hours=8))
SIGNED_AT = dt.datetime(2026, 3, 28, 10, 5, tzinfo=CST)


def _signed_everywhere(kind: str, meta, pki, data: dict | None = None) -> bytes:
    """The 文书 with a visible signature in every area it reserves (as many signers as it has blocks), the seal
    on a sealed one, and — where it reserves none — one in the library's default place, as the engine signs."""
    doc = build(kind, data or sample_data(kind))
    rendered = render_document(doc, meta=meta)
    pdf = rendered.pdf
    areas = [name for name in rendered.boxes if name != "sig-seal"]
    for i, name in enumerate(areas):
        pdf = sign_pdf(pdf, signer=pki.officer, field_name=f"Signer{i}", reason="签名", location="呈州市",
                       signing_time=SIGNED_AT, box=rendered.boxes[name], font_cache_dir=meta.font_cache_dir)
    if not areas:
        pdf = sign_pdf(pdf, signer=pki.officer, field_name="Signer", reason="签名", location="呈州市",
                       signing_time=SIGNED_AT, font_cache_dir=meta.font_cache_dir)
    if doc.SEALED:
        pdf = seal_pdf(pdf, seal=pki.seal, signing_time=SIGNED_AT, box=rendered.boxes["sig-seal"],
                       font_cache_dir=meta.font_cache_dir)
    return pdf


def _stamps_and_words(pdf: bytes) -> list[tuple[int, tuple[float, float, float, float], list[dict]]]:
    """(page, the signature widget's /Rect as top-based x0, top, x1, bottom, the words on that page)."""
    found = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for number, page in enumerate(document.pages):
            words = page.extract_words()
            for annot in page.annots:
                data = annot["data"]
                if str(data.get("Subtype")) != "/'Widget'" or str(data.get("FT")) != "/'Sig'":
                    continue
                x0, y0, x1, y1 = (float(v) for v in data["Rect"])
                found.append((number, (x0, page.height - y1, x1, page.height - y0), words))
    return found


def _covered(rect: tuple[float, float, float, float], words: list[dict]) -> list[str]:
    x0, top, x1, bottom = rect
    return [w["text"] for w in words if w["x0"] < x1 and w["x1"] > x0 and w["top"] < bottom and w["bottom"] > top]


def test_the_check_sees_a_stamp_over_text(meta, pki) -> None:
    """The test below could not pass by finding nothing: a stamp placed on the title is caught."""
    from documents import SignatureBox

    rendered = render_document(build("penalty_decision", sample_data("penalty_decision")), meta=meta)
    on_title = SignatureBox(page=0, x1=150, y1=700, x2=450, y2=760)
    pdf = sign_pdf(rendered.pdf, signer=pki.officer, field_name="Wrong", reason="r", location="l",
                   signing_time=SIGNED_AT, box=on_title, font_cache_dir=meta.font_cache_dir)
    [(page, rect, words)] = _stamps_and_words(pdf)
    assert page == 0 and _covered(rect, words)


@pytest.mark.parametrize("kind", sample_kinds())
def test_no_stamp_covers_text(kind, meta, pki) -> None:
    stamps = _stamps_and_words(_signed_everywhere(kind, meta, pki))
    assert len(stamps) >= 1 + DOCUMENT_TYPES[kind].SEALED
    for page, rect, words in stamps:
        assert words, f"{kind}: no text found on page {page + 1}"
        assert not _covered(rect, words), f"{kind}: the stamp at {rect} on page {page + 1} covers {_covered(rect, words)}"


def test_every_kind_has_a_sample() -> None:
    assert set(sample_kinds()) == set(DOCUMENT_TYPES)


def _images(pdf: bytes) -> list[dict]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [image for page in document.pages for image in page.images]


@pytest.mark.parametrize("kind", ["on_site_record", "evidence_preservation_decision"])
def test_the_drawn_signature_is_in_the_party_block(kind, meta, pki) -> None:
    data = sample_data(kind)
    pdf = _signed_everywhere(kind, meta, pki, data)
    [image] = _images(pdf)
    assert image["srcsize"] == (600, 200)  # the drawing itself, embedded at its own resolution
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        page = document.pages[image["page_number"] - 1]
        label = max((w for w in page.extract_words() if w["text"].startswith(("被检查人：", "当事人："))
                     and w["bottom"] <= image["top"]), key=lambda w: w["bottom"])  # the nearest above it
    assert 0 < image["top"] - label["bottom"] < 20 and abs(image["x0"] - label["x0"]) < 5  # right under its label
    del data["party_signature"]
    assert _images(_signed_everywhere(kind, meta, pki, data)) == []  # no signature taken: a line to sign on paper


def test_a_refusal_shows_the_note_and_the_witness(meta, pki) -> None:
    data = sample_data("inquiry_record")
    assert data["party_signature"]["refused"]
    pdf = _signed_everywhere("inquiry_record", meta, pki, data)
    with pdfplumber.open(io.BytesIO(pdf)) as document:  # the party's block only: the left column's words
        block = "".join(w["text"] for page in document.pages for w in page.extract_words() if w["x1"] < 290
                        and "被询问人：拒绝签名" in "".join(x["text"] for x in page.extract_words()))
    block = block[block.index("被询问人：拒绝签名"):]
    assert block.startswith("被询问人：拒绝签名拒签情况：被询问人核对笔录后称“不想签”，拒绝签名，执法人员当场注明。"
                            "见证人：赵某某（呈州市东城区解放路社区居委会工作人员）音像记录：执法记录仪DSJ-0231"
                            "20260305_1100.mp4日期：2026年3月5日"), block
    assert len(_images(pdf)) == 1  # the witness's drawn signature


def test_a_signature_image_must_be_a_png_data_url() -> None:
    from documents import DocumentDataError

    data = sample_data("on_site_record")
    data["party_signature"] = {"image": "https://example.com/x.png"}
    with pytest.raises(DocumentDataError, match="PNG data URL"):
        build("on_site_record", data)
    data["party_signature"] = {"refused": True, "refusal_note": "拒签"}
    with pytest.raises(DocumentDataError, match="见证人"):
        build("on_site_record", data)
    data["party_signature"] = {"image": drawn_signature()}
    assert build("on_site_record", data).party_signature.image.startswith("data:image/png;base64,")
