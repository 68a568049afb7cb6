"""Document data -> PDF bytes (Jinja2 + WeasyPrint), deterministic for the same data and meta.

Determinism matters because the engine records the document's sha256 in the signed step record: an
auditor re-rendering the stored data must get the same bytes. So the PDF dates come from `meta.time`,
the /ID is derived from the content, and no wall-clock value or random name reaches the file.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import logging
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from . import text
from .convert import to_plain
from .errors import DocumentError
from .fonts import SUBSET_FAMILY, find_font, subset_font_path
from .model import PNG_DATA_URL, DocumentData

DEFAULT_FONT_FAMILY = "WenQuanYi Zen Hei"
INLINE_JPEG = "data:image/jpeg;base64,"  # the only inline images a template may hold
_RENDER_LOCK = threading.Lock()  # WeasyPrint/Pango font state is not thread-safe

#: zlib level of the PDF's streams. pydyf's own is 9; most of a 文书's bytes are the embedded font subset,
#: which level 6 compresses ~3.5x faster for ~0.6 % more bytes (docs/performance.md, "Documents").
STREAM_COMPRESSION_LEVEL = 6


@dataclass(frozen=True, kw_only=True)
class RenderMeta:
    """What a render needs besides the data: the PDF's time (never "now") and the font set-up."""

    time: dt.datetime
    font_family: str = DEFAULT_FONT_FAMILY
    font_cache_dir: Path | None = None
    subset_font: bool = True
    producer: str = "casetrail"


@dataclass(frozen=True)
class SignatureBox:
    """Where a signature/seal block landed: 0-based page, PDF points from the bottom-left corner."""

    page: int
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def rect(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)


@dataclass(frozen=True)
class RenderedDocument:
    """PDF bytes plus layout facts the signer needs (page count, signature block positions by id)."""

    pdf: bytes
    page_count: int
    boxes: dict[str, SignatureBox] = field(default_factory=dict)


def verification_code(doc: DocumentData) -> str:
    """First 16 hex chars of sha256 over the canonical JSON of kind + case number + data.

    Printed on every page; the web recomputes it from the stored record data to check a paper copy.
    """
    payload = {"kind": doc.KIND, "case_number": doc.case_number, "data": to_plain(doc)}
    canon = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _finalize(value: Any) -> Any:
    """Every {{ }} output passes here before autoescape: None prints as nothing, text is cleaned."""
    if value is None:
        return ""
    if isinstance(value, Markup):  # macro output: already escaped and cleaned
        return value
    if isinstance(value, str):
        return text.clean_text(value)
    return value


def _css_string(value: Any) -> Markup:
    """Escape text for a CSS string inside <style> (HTML escaping does not apply in raw text)."""
    out = []
    for ch in text.clean_text(str(value)):
        if ch.isalnum() or ch in " -_.,:;()/〔〕（）" or ord(ch) > 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):x} ")
    return Markup("".join(out))


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("documents", "templates"),
        autoescape=True,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        cn_date=text.format_date,
        cn_datetime=text.format_datetime,
        amount=text.format_amount,
        amount_upper=text.amount_upper,
        file_size=text.format_size,
        css_string=_css_string,
    )
    return env


def render_html(doc: DocumentData, *, meta: RenderMeta) -> str:
    """The HTML a document renders from (useful for previews and tests)."""
    try:
        template = _environment().get_template(f"{doc.KIND}.html")
        return template.render(
            doc=doc, code=verification_code(doc), created=_w3c(meta.time), producer=meta.producer
        )
    except jinja2.TemplateError as exc:
        raise DocumentError(f"{doc.TITLE}: template error: {exc}") from exc


def _w3c(time: dt.datetime) -> str:
    if time.tzinfo is None:
        raise DocumentError("RenderMeta.time must be timezone-aware")
    return time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Fonts:
    """One WeasyPrint FontConfiguration + font stylesheet per (family, cache dir), reused while warm."""

    def __init__(self, family: str, cache_dir: Path | None, subset: bool) -> None:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration
        from weasyprint.urls import URLFetcher

        font = find_font(family)
        families = [f'"{family}"', '"DejaVu Sans"', "sans-serif"]
        faces = ""
        allowed: set[str] = set()
        if subset and (path := subset_font_path(font, cache_dir)) is not None:
            allowed.add(path.as_uri())
            faces = f'@font-face {{ font-family: "{SUBSET_FAMILY}"; src: url("{path.as_uri()}"); }}\n'
            families.insert(0, f'"{SUBSET_FAMILY}"')

        class _Fetcher(URLFetcher):
            """Only our own font file, and the PNG data URLs of drawn signatures, may be fetched: templates never
            reach the network or disk."""

            def fetch(self, url: str, headers: Any = None) -> Any:
                # A drawn signature (PNG) or a photo the dossier re-encoded itself (documents/photos.py), inline:
                # nothing is fetched.
                if url not in allowed and not url.startswith((PNG_DATA_URL, INLINE_JPEG)):
                    raise ValueError(f"blocked URL {url[:80]}")
                return super().fetch(url, headers)

        self.fetcher = _Fetcher(fail_on_errors=False)
        self.config = FontConfiguration()
        css = faces + f"html {{ font-family: {', '.join(families)}; }}\n"
        base = resources.files("documents").joinpath("templates/base.css").read_text("utf-8")
        self.stylesheets = [
            weasyprint.CSS(string=base, font_config=self.config, url_fetcher=self.fetcher),
            weasyprint.CSS(string=css, font_config=self.config, url_fetcher=self.fetcher),
        ]


#: The pseudo-elements WeasyPrint's user-agent stylesheet styles on every element: only list items (::marker),
#: footnotes and notes have them, and no 文书 has any of those.
_UNUSED_PSEUDO_ELEMENTS = frozenset({"::marker", "::footnote-call", "::footnote-marker", "::note-call",
                                     "::note-marker", "::note-callback"})


@lru_cache(maxsize=1)
def _html_class() -> Any:
    """WeasyPrint's HTML with its user-agent stylesheet less the rules of `_UNUSED_PSEUDO_ELEMENTS`.

    Each of those rules matches every element, so WeasyPrint computed a whole style for six pseudo-elements of
    every element of a 文书 — a fifth of a render — for boxes it never makes. Without them the PDF is the same,
    byte for byte (tests/unit/documents/test_documents_render.py renders every kind both ways)."""
    import tinycss2
    import weasyprint
    from weasyprint.css.counters import CounterStyle
    from weasyprint.html import UA

    rules = [rule for rule in tinycss2.parse_stylesheet(UA)
             if rule.type != "qualified-rule" or tinycss2.serialize(rule.prelude).strip() not in _UNUSED_PSEUDO_ELEMENTS]
    # A counter-style registry of its own: WeasyPrint's (UA_COUNTER_STYLE) already holds the same @counter-style rules.
    sheet = weasyprint.CSS(string=tinycss2.serialize(rules), counter_style=CounterStyle())

    class DocumentHtml(weasyprint.HTML):
        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return [sheet, *super()._ua_stylesheets(forms)[1:]]

    return DocumentHtml


def _packed_stream(stream: Any, level: int) -> Any:
    """A PDF stream object whose bytes are computed once, here, at zlib `level`.

    pydyf computes an object's bytes each time it is asked: once to write it and once more for the /ID
    (an MD5 over every object), so every stream — the font subset above all — was compressed twice, at
    level 9."""
    import pydyf

    content = b"\n".join(pydyf._to_bytes(item) for item in stream.stream)
    extra = pydyf.Dictionary(stream.extra.copy())
    if stream.compress:
        extra["Filter"] = "/FlateDecode"
        content = zlib.compress(content, level)
    extra["Length"] = len(content)
    packed = _Packed(b"\n".join((extra.data, b"stream", content, b"endstream")))
    packed.number, packed.generation, packed.offset = stream.number, stream.generation, stream.offset
    return packed


class _Packed:
    """Stands in for a pydyf stream in the PDF's object list (see `_packed_stream`)."""

    free = "n"
    compressible = False  # a stream never goes into an object stream

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.number: int | None = None
        self.generation = 0
        self.offset = 0

    @property
    def indirect(self) -> bytes:
        return f"{self.number} {self.generation} obj\n".encode() + self.data + b"\nendobj"


def pack_streams(level: int = STREAM_COMPRESSION_LEVEL) -> Any:
    """A WeasyPrint `finisher`: every stream of the PDF packed once at `level` (see `_packed_stream`)."""
    import pydyf

    def finish(_document: Any, pdf: Any) -> None:
        pdf.objects[:] = [_packed_stream(o, level) if isinstance(o, pydyf.Stream) and o.free != "f" else o
                          for o in pdf.objects]

    return finish


def write_pdf(document: Any) -> bytes:
    """A laid-out WeasyPrint document as PDF bytes: /ID derived from the content, streams packed once."""
    return document.write_pdf(pdf_identifier=True, finisher=pack_streams())


@lru_cache(maxsize=4)
def _fonts(family: str, cache_dir: Path | None, subset: bool) -> _Fonts:
    return _Fonts(family, cache_dir, subset)


def _boxes(document: Any) -> dict[str, SignatureBox]:
    """Positions of elements whose id starts with "sig-" (signature and seal blocks), in PDF points."""
    found: dict[str, SignatureBox] = {}
    for number, page in enumerate(document.pages):
        height_pt = page.height * 0.75
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            ident = element.get("id") if element is not None else None
            if not ident or not ident.startswith("sig-") or ident in found:
                continue
            x, y = box.border_box_x() * 0.75, box.border_box_y() * 0.75
            w, h = box.border_width() * 0.75, box.border_height() * 0.75
            found[ident] = SignatureBox(number, round(x, 2), round(height_pt - y - h, 2),
                                        round(x + w, 2), round(height_pt - y, 2))
    return found


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while WeasyPrint lays out and writes a 文书 (under `_RENDER_LOCK`).

    A render makes some hundred thousand objects, its boxes and styles in reference cycles, and drops them all
    once the PDF is written. Left on, the collector ran about three times a render, each time scanning those
    objects while they were still alive, and every few renders a full collection over every object of the process
    that they had pushed into the oldest generation: ~3.5 ms of a 30 ms render. Paused, they are collected once,
    young, at the end (~1 ms) — here, rather than by whatever allocates next, say a step's write transaction. The
    pause lasts one render; another thread meanwhile only has its cycles collected that much later."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect(0)


def render_document(doc: DocumentData, *, meta: RenderMeta) -> RenderedDocument:
    """Render and also report where the signature/seal blocks are (for visible signatures)."""
    html = render_html(doc, meta=meta)
    with _RENDER_LOCK, _collector_paused():
        fonts = _fonts(meta.font_family, meta.font_cache_dir, meta.subset_font)
        try:
            document = _html_class()(string=html, url_fetcher=fonts.fetcher).render(
                font_config=fonts.config, stylesheets=fonts.stylesheets
            )
            pdf = write_pdf(document)
        except DocumentError:
            raise
        except Exception as exc:
            logging.getLogger(__name__).debug("WeasyPrint failed", exc_info=True)
            raise DocumentError(f"{doc.TITLE}: PDF rendering failed: {type(exc).__name__}: {exc}") from exc
        rendered = RenderedDocument(pdf=pdf, page_count=len(document.pages), boxes=_boxes(document))
        del document  # the laid-out boxes: garbage for the collection at the end of the pause
    if not pdf or not pdf.startswith(b"%PDF-"):
        raise DocumentError(f"{doc.TITLE}: PDF rendering produced no output")
    return rendered


def render(doc: DocumentData, *, meta: RenderMeta) -> bytes:
    """Render `doc` to PDF bytes; same data + same meta -> identical bytes."""
    return render_document(doc, meta=meta).pdf
