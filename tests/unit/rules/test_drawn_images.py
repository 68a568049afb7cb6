"""A signature drawn on the screen is a real PNG within the settings' bounds, or it is refused with a clear message."""

from __future__ import annotations

import base64
import io
import zlib

import pytest
from PIL import Image

from documents.samples import drawn_signature
from engine.rules.drawn_images import DATA_URL_PREFIX, DrawnImageError, png_from_data_url
from engine.rules.settings import load_settings

LIMITS = load_settings().drawn_images


def _png(size: tuple[int, int], *, ink: bool = True, mode: str = "RGBA") -> bytes:
    image = Image.new(mode, size, (0, 0, 0, 0) if mode == "RGBA" else "white")
    if ink:
        image.paste((10, 10, 10, 255) if mode == "RGBA" else (10, 10, 10), (5, 5, 40, 20))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _url(data: bytes) -> str:
    return DATA_URL_PREFIX + base64.b64encode(data).decode()


def test_a_drawn_signature_passes_and_its_bytes_come_back() -> None:
    url = drawn_signature()
    png = png_from_data_url(url, LIMITS)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and _url(png) == url


def test_a_white_canvas_with_ink_passes_too() -> None:  # a canvas exported with a white background
    png_from_data_url(_url(_png((300, 100), mode="RGB")), LIMITS)


@pytest.mark.parametrize(("value", "says"), [
    ("data:image/jpeg;base64,/9j/4AAQ", "PNG 格式的 data URL"),
    ("https://example.com/sig.png", "PNG 格式的 data URL"),
    (None, "PNG 格式的 data URL"),
    (DATA_URL_PREFIX + "not base64!!", "base64"),
    (DATA_URL_PREFIX + base64.b64encode(b"GIF89a" + b"\0" * 40).decode(), "不是 PNG 文件"),
])
def test_what_is_not_a_png_data_url_is_refused(value, says) -> None:
    with pytest.raises(DrawnImageError, match=says):
        png_from_data_url(value, LIMITS)


def test_a_png_that_does_not_decode_is_refused() -> None:
    good = _png((300, 100))
    truncated = good[: len(good) - 30]
    with pytest.raises(DrawnImageError, match="无法解码"):
        png_from_data_url(_url(truncated), LIMITS)
    corrupt = bytearray(good)
    corrupt[60] ^= 0xFF  # inside the image data: the chunk's CRC no longer matches
    with pytest.raises(DrawnImageError, match="无法解码"):
        png_from_data_url(_url(bytes(corrupt)), LIMITS)


def test_too_large_too_wide_too_small_and_blank_are_refused() -> None:
    with pytest.raises(DrawnImageError, match=f"不得超过 {LIMITS.max_bytes} 字节"):
        png_from_data_url(DATA_URL_PREFIX + "A" * (LIMITS.max_bytes * 4 // 3 + 8), LIMITS)
    with pytest.raises(DrawnImageError, match="尺寸"):
        png_from_data_url(_url(_png((LIMITS.max_width + 1, 100))), LIMITS)
    with pytest.raises(DrawnImageError, match="尺寸"):
        png_from_data_url(_url(_png((LIMITS.min_width - 1, 100), ink=False)), LIMITS)
    with pytest.raises(DrawnImageError, match="空白"):
        png_from_data_url(_url(_png((300, 100), ink=False)), LIMITS)


def test_a_decompression_bomb_is_refused_by_its_header_before_decoding() -> None:
    """A 20000×20000 PNG of zeros is a few KB on the wire: its header is enough to refuse it."""
    width = height = 20000
    raw = zlib.compress(b"\0" * ((width + 1) * 64), 9)  # the first rows only: the header is what matters
    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
    with pytest.raises(DrawnImageError, match="20000×20000"):
        png_from_data_url(_url(bomb), LIMITS)
