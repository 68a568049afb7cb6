"""Evidence photos made fit for a 证据照片 page of the dossier: turned upright as the camera's EXIF orientation says,
scaled down, re-encoded as a plain JPEG (no metadata carried over).

Memory stays bounded whatever the photo: a JPEG is decoded at a reduced scale (Pillow's `draft`, which the
decoder does in the DCT itself), and an image that cannot be reduced while decoding and holds more pixels than
`MAX_DECODED_PIXELS` is not embedded at all (the evidence list still names it, with its digest).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import IO

MAX_SIDE = 1600  # pixels on the long side: sharp on an A4 page at about 190 dpi
MAX_DECODED_PIXELS = 40_000_000  # an image decoded whole at most this size (~160 MB as RGBA)
QUALITY = 82


@dataclass(frozen=True)
class PagePhoto:
    """A photo ready to embed (`jpeg`), or why it is not (`problem`, zh-CN then English)."""

    jpeg: bytes | None
    width: int = 0
    height: int = 0
    problem: str = ""


def page_photo(source: IO[bytes], *, max_side: int = MAX_SIDE, max_pixels: int = MAX_DECODED_PIXELS) -> PagePhoto:
    """Read an image from `source` (a stream; only what the decoder needs is read) and return it upright and at
    most `max_side` pixels on its long side, as JPEG; not embedded when, even at the decoder's reduced scale, it
    holds more than `max_pixels`."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    logging.getLogger("PIL").setLevel(logging.WARNING)
    try:
        with Image.open(source) as image:
            image.draft("RGB", (max_side, max_side))  # JPEG: decode at 1/2, 1/4 or 1/8 scale when that suffices
            width, height = image.size
            if width * height > max_pixels:
                return PagePhoto(None, problem=f"图像过大，未嵌入 (too large to embed: {width}×{height} pixels)")
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            rgb = upright.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError):
        return PagePhoto(None, problem="无法解码此图像，未嵌入 (the image cannot be decoded here: not embedded)")
    except (OSError, ValueError, SyntaxError) as exc:
        return PagePhoto(None, problem=f"图像无法读取，未嵌入 (unreadable image, not embedded: {exc})")
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=QUALITY, optimize=True)
    return PagePhoto(out.getvalue(), rgb.width, rgb.height)


__all__ = ["MAX_DECODED_PIXELS", "MAX_SIDE", "PagePhoto", "page_photo"]
