"""Visible signature appearances drawn by WeasyPrint (CJK text without pyHanko's uharfbuzz extra).

pyHanko can only typeset CJK with its optional `[opentype]` extra (uharfbuzz), which is not a
dependency; and it would subset fonts with fontTools on every signature. Instead the stamp (signer name +
time, or the 电子印章) is laid out by the same WeasyPrint/font set-up as the documents, as a tiny one-page
PDF that pyHanko imports as the appearance's form XObject.
"""

from __future__ import annotations

import io

from markupsafe import escape
from pyhanko.pdf_utils.content import ImportedPdfPage
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.pdf_utils.reader import PdfFileReader

from .errors import SignatureError
from .render import _RENDER_LOCK, RenderMeta, _fonts
from .text import clean_text

_STYLE = """
@page {{ size: {w}pt {h}pt; margin: 0; }}
html, body {{ margin: 0; }}
.box {{ box-sizing: border-box; width: {w}pt; height: {h}pt; border: 1.2pt solid {color}; color: {color};
        padding: 2pt 4pt; font-size: {fs}pt; line-height: 1.25; overflow: hidden; }}
.seal {{ border-radius: 50%; text-align: center; padding-top: {pad}pt; }}
.title {{ letter-spacing: 0.2em; }}
"""


def _em(line: str) -> float:
    """Rough width in em: CJK full width, everything else about half."""
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.55 for ch in line) or 1.0


def render_stamp(lines: list[str], *, width: float, height: float, seal: bool, meta: RenderMeta) -> bytes:
    """A one-page PDF of exactly width × height points showing `lines` (escaped, control chars visible)."""
    import weasyprint

    color = "#c00000" if seal else "#1a237e"
    fs = max(6.0, min(10.0, (height - 6) / (len(lines) * 1.3)))
    if seal:  # a round seal: the longest line must fit the circle's middle band
        fs = max(5.0, min(10.0, width * 0.72 / max(_em(line) for line in lines)))
    pad = max(2.0, (height - len(lines) * fs * 1.25) / 2 - 1.2)
    css = _STYLE.format(w=round(width, 2), h=round(height, 2), color=color, fs=round(fs, 2), pad=round(pad, 2))
    body = "".join(
        f'<div class="{"title" if seal and i == 0 else ""}">{escape(clean_text(line))}</div>' for i, line in enumerate(lines)
    )
    html = f'<html><head><style>{css}</style></head><body><div class="box{" seal" if seal else ""}">{body}</div></body></html>'
    with _RENDER_LOCK:
        fonts = _fonts(meta.font_family, meta.font_cache_dir, meta.subset_font)
        try:
            return weasyprint.HTML(string=html, url_fetcher=fonts.fetcher).write_pdf(
                font_config=fonts.config, stylesheets=fonts.stylesheets[1:], pdf_identifier=True
            )
        except Exception as exc:
            raise SignatureError(f"could not draw the signature appearance: {exc}") from exc


class PdfBytesPage(ImportedPdfPage):
    """pyHanko's ImportedPdfPage, from bytes instead of a file name, with a stable resource name."""

    def __init__(self, data: bytes) -> None:
        super().__init__(file_name="", page_ix=0)
        self._data = data

    def render(self) -> bytes:
        writer = self._ensure_writer
        reader = PdfFileReader(io.BytesIO(self._data), strict=False)
        xobj = writer.import_page_as_xobject(reader, page_ix=0)
        self.resources.xobject["/ImportStamp"] = xobj
        x1, y1, x2, y2 = xobj.get_object()["/BBox"]
        self.box = BoxConstraints(width=abs(x1 - x2), height=abs(y1 - y2))
        return b"/ImportStamp Do"
