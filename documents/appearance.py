"""Visible signature appearances (signer name + time, or the 电子印章) drawn as a small PDF content stream.

pyHanko can only typeset CJK with its optional `[opentype]` extra (uharfbuzz), which is not a dependency; and
it would subset and embed a font on every signature. A second WeasyPrint render per signature cost more than
the signature itself. Instead the stamp's glyphs are drawn as filled outlines, read with fontTools from the
documents' own font (the cached GB2312 subset, the full font for any other character): no font is embedded,
the stamp looks the same in every viewer, and a glyph's outline is read once per process.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fontTools.pens.basePen import BasePen
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import RawContent
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.stamp import StaticStampStyle
from pyhanko.stamp.static import StaticContentStamp

from .errors import DocumentError, PdfSignatureError
from .fonts import FontFile, find_font, subset_font_path
from .text import clean_text

OFFICER_COLOR = (0x1A / 255, 0x23 / 255, 0x7E / 255)
SEAL_COLOR = (0xC0 / 255, 0.0, 0.0)
BORDER = 1.2  # pt
LINE_HEIGHT = 1.25  # em
_LOCK = threading.Lock()  # fontTools expands glyphs lazily: not thread-safe


@dataclass(frozen=True)
class _Glyph:
    advance: float  # em
    units_per_em: float
    path: bytes  # PDF path operators in font units (y up), without the fill


def _n(value: float, digits: int = 2) -> bytes:
    """A PDF number: no exponent, no trailing zeros."""
    return (b"%.*f" % (digits, value)).rstrip(b"0").rstrip(b".") or b"0"


class _PdfPathPen(BasePen):
    """A fontTools pen writing PDF path operators (BasePen turns TrueType's quadratic curves into cubic ones
    and draws composite glyphs' components)."""

    def __init__(self, glyph_set: Any) -> None:
        super().__init__(glyph_set)
        self.ops: list[bytes] = []

    def _points(self, *points: tuple[float, float]) -> bytes:
        return b" ".join(_n(x) + b" " + _n(y) for x, y in points)

    def _moveTo(self, pt: tuple[float, float]) -> None:  # noqa: N802  (fontTools' pen protocol)
        self.ops.append(self._points(pt) + b" m")

    def _lineTo(self, pt: tuple[float, float]) -> None:  # noqa: N802
        self.ops.append(self._points(pt) + b" l")

    def _curveToOne(self, pt1: tuple[float, float], pt2: tuple[float, float],  # noqa: N802
                    pt3: tuple[float, float]) -> None:
        self.ops.append(self._points(pt1, pt2, pt3) + b" c")

    def _closePath(self) -> None:  # noqa: N802
        self.ops.append(b"h")


class _Outlines:
    """One font's glyph outlines, loaded lazily (the collection is large) and kept per process."""

    def __init__(self, path: Path, index: int) -> None:
        from fontTools.ttLib import TTFont

        self._font = TTFont(str(path), fontNumber=index, lazy=True)
        self._cmap = self._font.getBestCmap()
        self._glyphs = self._font.getGlyphSet()
        self._upem = float(self._font["head"].unitsPerEm)
        self.ascent = self._font["hhea"].ascent / self._upem
        self._cache: dict[str, _Glyph | None] = {}

    def glyph(self, char: str) -> _Glyph | None:
        if char not in self._cache:
            name = self._cmap.get(ord(char))
            self._cache[char] = None if name is None else self._draw(name)
        return self._cache[char]

    def notdef(self) -> _Glyph:
        return self._draw(".notdef")

    def _draw(self, name: str) -> _Glyph:
        glyph = self._glyphs[name]
        pen = _PdfPathPen(self._glyphs)
        glyph.draw(pen)
        return _Glyph(glyph.width / self._upem, self._upem, b" ".join(pen.ops))


@lru_cache(maxsize=4)
def _outlines(path: Path, index: int) -> _Outlines:
    return _Outlines(path, index)


@lru_cache(maxsize=4)
def _font_files(family: str, cache_dir: Path | None) -> tuple[FontFile, ...]:
    """The GB2312 subset first (small, quick to load), then the full font, then DejaVu Sans."""
    full = find_font(family)
    files = [full]
    subset = subset_font_path(full, cache_dir)
    if subset is not None:
        files.insert(0, FontFile(family, subset, 0))
    with contextlib.suppress(DocumentError):  # only a fallback for symbols the CJK font lacks
        files.append(find_font("DejaVu Sans"))
    return tuple(files)


def _glyph(char: str, fonts: tuple[FontFile, ...]) -> _Glyph:
    for font in fonts:
        found = _outlines(font.path, font.index).glyph(char)
        if found is not None:
            return found
    return _outlines(fonts[0].path, fonts[0].index).notdef()


def _line(text: str, fonts: tuple[FontFile, ...]) -> list[_Glyph]:
    return [_glyph(ch, fonts) for ch in clean_text(text) if ch not in "\r\n"]


def _width(glyphs: list[_Glyph], spacing: float) -> float:
    return sum(g.advance for g in glyphs) + spacing * max(0, len(glyphs) - 1)


def _draw_line(glyphs: list[_Glyph], x: float, baseline: float, size: float, spacing: float) -> bytes:
    out = []
    for glyph in glyphs:
        if glyph.path:
            scale = _n(size / glyph.units_per_em, 6)
            out.append(b"q %s 0 0 %s %s %s cm %s f Q" % (scale, scale, _n(x), _n(baseline), glyph.path))
        x += (glyph.advance + spacing) * size
    return b"\n".join(out)


def _ellipse(width: float, height: float, inset: float) -> bytes:
    """An ellipse inside width × height, `inset` from the edge, as four Bézier curves."""
    k = 0.5523  # control-point distance for a quarter circle
    cx, cy, rx, ry = width / 2, height / 2, width / 2 - inset, height / 2 - inset
    p = [_n(v) for v in (cx + rx, cy, cx + rx, cy + k * ry, cx + k * rx, cy + ry, cx, cy + ry,
                                   cx - k * rx, cy + ry, cx - rx, cy + k * ry, cx - rx, cy,
                                   cx - rx, cy - k * ry, cx - k * rx, cy - ry, cx, cy - ry,
                                   cx + k * rx, cy - ry, cx + rx, cy - k * ry, cx + rx, cy)]
    return b"%s %s m %s %s %s %s %s %s c %s %s %s %s %s %s c %s %s %s %s %s %s c %s %s %s %s %s %s c h" % tuple(p)


def draw_stamp(lines: list[str], *, width: float, height: float, seal: bool, font_family: str,
               font_cache_dir: Path | None = None) -> RawContent:
    """The appearance: `lines` (control characters visible) in a box of width × height points — the officer's
    a blue rectangle, lines from the top left; the seal a red ellipse, lines centred, the first spaced out."""
    try:
        with _LOCK:
            fonts = _font_files(font_family, font_cache_dir)
            runs = [_line(text, fonts) for text in lines]
            ascent = _outlines(fonts[0].path, fonts[0].index).ascent
    except Exception as exc:
        raise PdfSignatureError(f"could not draw the signature appearance: {exc}") from exc
    color = SEAL_COLOR if seal else OFFICER_COLOR
    rgb = b" ".join(_n(c, 4) for c in color)
    ops = [b"q", rgb + b" RG", rgb + b" rg", _n(BORDER) + b" w"]
    if seal:
        ops.append(_ellipse(width, height, BORDER / 2) + b" S")
        spacings = [0.2 if i == 0 else 0.0 for i in range(len(runs))]
        widest = max(_width(run, s) for run, s in zip(runs, spacings, strict=True)) or 1.0
        size = max(5.0, min(10.0, width * 0.72 / widest))
        block = len(runs) * size * LINE_HEIGHT
        top = (height + block) / 2
        for i, (run, spacing) in enumerate(zip(runs, spacings, strict=True)):
            baseline = top - i * size * LINE_HEIGHT - (size * (LINE_HEIGHT - 1) / 2) - ascent * size
            x = (width - _width(run, spacing) * size) / 2
            ops.append(_draw_line(run, x, baseline, size, spacing))
    else:
        ops.append(b"%s %s %s %s re S" % (_n(BORDER / 2), _n(BORDER / 2), _n(width - BORDER), _n(height - BORDER)))
        pad_x, pad_y = BORDER + 4, BORDER + 2
        size = max(6.0, min(10.0, (height - 6) / (len(runs) * 1.3)))
        widest = max((_width(run, 0.0) for run in runs), default=1.0) or 1.0
        size = min(size, (width - 2 * pad_x) / widest)  # a long name shrinks rather than spills
        ops.append(b"%s %s %s %s re W n" % (_n(pad_x), _n(BORDER), _n(width - 2 * pad_x), _n(height - 2 * BORDER)))
        for i, run in enumerate(runs):
            baseline = height - pad_y - i * size * LINE_HEIGHT - size * (LINE_HEIGHT - 1) / 2 - ascent * size
            ops.append(_draw_line(run, pad_x, baseline, size, 0.0))
    ops.append(b"Q")
    return RawContent(b"\n".join(ops), box=BoxConstraints(width=width, height=height))


class _CompressedStamp(StaticContentStamp):
    def as_form_xobject(self) -> generic.StreamObject:
        xobject = super().as_form_xobject()
        xobject.compress()  # glyph outlines are text-like: Flate makes them ~4x smaller
        return xobject


@dataclass(frozen=True)
class StampStyle(StaticStampStyle):
    """pyHanko's static stamp (the drawing as background, nothing else), its appearance stream compressed."""

    def create_stamp(self, writer: Any, box: BoxConstraints, text_params: dict) -> StaticContentStamp:
        return _CompressedStamp(writer=writer, style=self, box=box)
