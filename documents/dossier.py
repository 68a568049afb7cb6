"""The case dossier (案卷): cover, 卷内目录, every document in order, the process diagram, the signature
manifest and the verification result — one PDF, sealed by the agency.

Documents are copied page by page (their own signatures cannot survive being re-assembled), so each
original signed PDF is also attached unchanged as an embedded file: an auditor can extract it and check
its PAdES signature and its sha256 against the manifest. The dossier itself carries the agency seal.
Page numbers in the 目录 (卷内页号) count from the first document page, as archives number 卷内文件.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from .errors import DocumentError
from .render import _RENDER_LOCK, RenderMeta, _environment, _fonts, write_pdf
from .signing import PdfSigner, seal_pdf


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
) -> bytes:
    """Assemble the 案卷 PDF; sealed (visible 电子印章 on the cover) when `seal` is given.

    `diagrams` are SVGs from `diagram.bpmn_to_svg`, one per process the case went through, each with its
    title (the main procedure first, then sub-processes such as 合议 or 听证); a bare SVG is the main one.
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
    if isinstance(diagrams, str):
        diagrams = [("办案流程图", diagrams)]
    # Markup: produced by diagram.bpmn_to_svg, which escapes every text it takes from the model.
    drawn = [(title, Markup(svg)) for title, svg in diagrams or () if svg]
    back = _html_to_pdf("dossier_back.html", meta, cover=cover, diagrams=drawn, manifest=manifest,
                        summary=verification_summary, created=_w3c(meta), producer=meta.producer)
    back_pages = _page_count(back, "back matter")
    front = _html_to_pdf("dossier_front.html", meta, cover=cover, rows=rows, back_start=page,
                         back_end=page + back_pages - 1, has_diagram=bool(drawn),
                         created=_w3c(meta), producer=meta.producer)
    writer = PdfWriter()
    for part in [front, *(e.pdf for e in entries), back]:
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
