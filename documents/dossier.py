"""The case dossier (案卷): cover, 卷内目录, every document in order, the evidence list (证据目录) with each photo on
a 证据照片 page, the process diagram, the signature manifest and the verification result — one PDF, sealed by the
agency.

Documents are copied page by page (their own signatures cannot survive being re-assembled), so each
original signed PDF is also attached unchanged as an embedded file: an auditor can extract it and check
its PAdES signature and its sha256 against the manifest. The dossier itself carries the agency seal.
Page numbers in the 目录 (卷内页号) count from the first document page, as archives number 卷内文件.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from .errors import DocumentError
from .photos import PagePhoto
from .render import _RENDER_LOCK, INLINE_JPEG, RenderMeta, _environment, _fonts, write_pdf
from .signing import PdfSigner, seal_pdf
from .text import format_size


@dataclass(frozen=True, kw_only=True)
class DossierCover:
    """卷宗封面 fields."""

    agency: str
    case_number: str
    title: str  # 案件名称, e.g. 呈州市某某美容店从业人员未取得健康合格证明上岗案
    party: str
    cause: str = ""
    outcome: str = ""  # 处理结果
    handlers: tuple[str, ...] = ()
    filed_on: dt.date | None = None
    closed_on: dt.date | None = None
    archived_on: dt.date | None = None
    retention: str = "长期"  # 保管期限
    archive_number: str = ""  # 档号


@dataclass(frozen=True, kw_only=True)
class DossierEntry:
    """One document of the case in procedure order, with the step that produced it."""

    title: str
    pdf: bytes
    step: str = ""
    doc_number: str = ""
    date: dt.date | None = None
    file_name: str = ""


@dataclass(frozen=True, kw_only=True)
class ManifestRow:
    """One signed step: who, with which certificate, when, and the hashes that bind record and documents."""

    step: str
    signer: str
    cert_fingerprint: str
    time: dt.datetime
    record_hash: str
    document_hashes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class EvidenceListing:
    """One evidence file of the case as the 证据目录 lists it: the signed step that took it, what it is, its
    SHA-256, who added it when; `device_time` the time the camera wrote into the photo (its claim, not the
    record's time). `photo` (images only) makes its 证据照片 page when called — lazily, so that only a few
    photos are in memory at once."""

    no: int
    step: str
    name: str
    media_type: str
    size: int
    sha256: str
    added_by: str
    added_at: dt.datetime
    device_time: str = ""
    note: str = ""
    photo: Callable[[], PagePhoto] | None = None


PHOTOS_PER_RENDER = 16  # 证据照片 pages rendered at a time: bounds the photos held in memory


def _evidence_part(cover: DossierCover, evidence: Sequence[EvidenceListing], meta: RenderMeta) -> list[bytes]:
    """The 证据目录, then one 证据照片 page per photo, as PDFs to be bound in order."""
    rows = [{"item": e, "size": format_size(e.size), "embedded": e.photo is not None} for e in evidence]
    parts = [_html_to_pdf("dossier_evidence.html", meta, cover=cover, rows=rows, photos=[], listing=True,
                          created=_w3c(meta), producer=meta.producer)]
    photos = [e for e in evidence if e.photo is not None]
    for first in range(0, len(photos), PHOTOS_PER_RENDER):
        pages = []
        for item in photos[first:first + PHOTOS_PER_RENDER]:
            made = item.photo()  # type: ignore[misc]
            src = None if made.jpeg is None else INLINE_JPEG + base64.b64encode(made.jpeg).decode()
            pages.append({"item": item, "size": format_size(item.size), "src": src, "problem": made.problem,
                          "landscape": made.width > made.height})
        parts.append(_html_to_pdf("dossier_evidence.html", meta, cover=cover, rows=[], photos=pages, listing=False,
                                  created=_w3c(meta), producer=meta.producer))
    return parts


def _page_count(pdf: bytes, title: str) -> int:
    from pypdf import PdfReader

    try:
        return len(PdfReader(io.BytesIO(pdf)).pages)
    except Exception as exc:
        raise DocumentError(f"dossier: {title} is not a readable PDF: {exc}") from exc


def _html_to_pdf(template: str, meta: RenderMeta, **context: object) -> bytes:
    import weasyprint

    html = _environment().get_template(template).render(**context)
    with _RENDER_LOCK:
        fonts = _fonts(meta.font_family, meta.font_cache_dir, meta.subset_font)
        try:
            return write_pdf(weasyprint.HTML(string=html, url_fetcher=fonts.fetcher).render(
                font_config=fonts.config, stylesheets=fonts.stylesheets))
        except Exception as exc:
            raise DocumentError(f"dossier: rendering {template} failed: {exc}") from exc


def build_dossier(
    cover: DossierCover,
    entries: list[DossierEntry],
    diagrams: str | Sequence[tuple[str, str]] | None,
    manifest: list[ManifestRow],
    verification_summary: str,
    *,
    meta: RenderMeta,
    seal: PdfSigner | None = None,
    evidence: Sequence[EvidenceListing] = (),
) -> bytes:
    """Assemble the 案卷 PDF; sealed (visible 电子印章 on the cover) when `seal` is given.

    `diagrams` are SVGs from `diagram.bpmn_to_svg`, one per process the case went through, each with its
    title (the main procedure first, then sub-processes such as 合议 or 听证); a bare SVG is the main one.
    `evidence`: the case's evidence files, listed after the documents, each photo on a 证据照片 page.
    """
    from pypdf import PdfReader, PdfWriter

    if not entries:
        raise DocumentError("dossier: a case file needs at least one document")
    counts = [_page_count(e.pdf, e.title) for e in entries]
    rows, page = [], 1
    for i, (entry, n) in enumerate(zip(entries, counts, strict=True), start=1):
        rows.append({"no": i, "entry": entry, "start": page, "end": page + n - 1,
                     "sha256": hashlib.sha256(entry.pdf).hexdigest()})
        page += n
    evidence_parts = _evidence_part(cover, evidence, meta) if evidence else []
    evidence_pages = sum(_page_count(p, "evidence") for p in evidence_parts)
    evidence_span = (page, page + evidence_pages - 1) if evidence_parts else None
    page += evidence_pages
    if isinstance(diagrams, str):
        diagrams = [("办案流程图", diagrams)]
    # Markup: produced by diagram.bpmn_to_svg, which escapes every text it takes from the model.
    drawn = [(title, Markup(svg)) for title, svg in diagrams or () if svg]
    back = _html_to_pdf("dossier_back.html", meta, cover=cover, diagrams=drawn, manifest=manifest,
                        summary=verification_summary, created=_w3c(meta), producer=meta.producer)
    back_pages = _page_count(back, "back matter")
    front = _html_to_pdf("dossier_front.html", meta, cover=cover, rows=rows, back_start=page,
                         back_end=page + back_pages - 1, has_diagram=bool(drawn), evidence_span=evidence_span,
                         created=_w3c(meta), producer=meta.producer)
    writer = PdfWriter()
    for part in [front, *(e.pdf for e in entries), *evidence_parts, back]:
        reader = PdfReader(io.BytesIO(part))
        for p in reader.pages:
            if "/Annots" in p:  # signature widgets of the originals: their fields are not carried over
                del p["/Annots"]
            writer.add_page(p)
    for row in rows:
        entry = row["entry"]
        writer.add_attachment(entry.file_name or f"{row['no']:02d}-{entry.title}.pdf", entry.pdf)
    writer.add_metadata({"/Title": f"案卷 {cover.case_number}", "/Author": cover.agency,
                         "/Producer": meta.producer, "/CreationDate": _pdf_date(meta.time),
                         "/ModDate": _pdf_date(meta.time)})
    out = io.BytesIO()
    writer.write(out)
    pdf = out.getvalue()
    if seal is not None:
        from .render import SignatureBox

        pdf = seal_pdf(pdf, seal=seal, signing_time=meta.time, location=cover.agency,
                       box=SignatureBox(0, 380.0, 90.0, 500.0, 210.0), field_name="DossierSeal",
                       reason="案卷归档封存", font_cache_dir=meta.font_cache_dir)
    return pdf


def _w3c(meta: RenderMeta) -> str:
    return meta.time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pdf_date(time: dt.datetime) -> str:
    return time.astimezone(dt.UTC).strftime("D:%Y%m%d%H%M%SZ")
