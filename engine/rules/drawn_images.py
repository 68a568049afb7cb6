"""Images drawn on the terminal's screen (the party's signature on a 笔录): checked before a step is signed.

A form schema marks such a value with `"contentMediaType": "image/png"` on a string: the value is an RFC 2397
data URL, ``data:image/png;base64,…``, as a `<canvas>` exports it (web/static/app.js), and it travels in the form
data, so the step record's signature covers it. Before that, the server checks that it really is one: the PNG
signature bytes, a clean decode with Pillow, the size and dimensions within `ImageLimits` (workflows/settings.json
`drawn_images`, with their basis), and some ink on it. Pure: a string in, an error message (zh-CN, then English)
or the decoded bytes out.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass

PNG_MEDIA_TYPE = "image/png"
DATA_URL_PREFIX = "data:image/png;base64,"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class ImageLimits:
    """Bounds on a drawn image: settings.json `drawn_images`, with their basis (`Settings.drawn_images`)."""

    max_bytes: int
    max_width: int
    max_height: int
    min_width: int
    min_height: int


class DrawnImageError(ValueError):
    """Why a drawn image was refused: the message is zh-CN first, then English in parentheses."""


def png_from_data_url(value: object, limits: ImageLimits) -> bytes:
    """The PNG bytes of a `data:image/png;base64,` URL, or DrawnImageError saying what is wrong with it."""
    if not isinstance(value, str) or not value.startswith(DATA_URL_PREFIX):
        raise DrawnImageError("签名图片须为 PNG 格式的 data URL (the drawn image must be a data:image/png;base64 URL)")
    encoded = value[len(DATA_URL_PREFIX):]
    if len(encoded) > (limits.max_bytes + 2) // 3 * 4:  # refused before decoding: base64 is 4/3 of the bytes
        raise DrawnImageError(f"签名图片过大，不得超过 {limits.max_bytes} 字节 "
                              f"(the drawn image is larger than {limits.max_bytes} bytes)")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise DrawnImageError("签名图片的 base64 编码有误 (the drawn image is not valid base64)") from None
    if len(data) > limits.max_bytes:
        raise DrawnImageError(f"签名图片过大，不得超过 {limits.max_bytes} 字节 "
                              f"(the drawn image is larger than {limits.max_bytes} bytes)")
    if not data.startswith(PNG_MAGIC) or data[12:16] != b"IHDR":
        raise DrawnImageError("签名图片不是 PNG 文件 (the drawn image is not a PNG file: wrong signature bytes)")
    # The dimensions from the header (IHDR, first after the signature): a huge canvas — a few KB of zeros can
    # claim 20000×20000 pixels — is refused before the decoder sees it.
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if not (limits.min_width <= width <= limits.max_width and limits.min_height <= height <= limits.max_height):
        raise DrawnImageError(
            f"签名图片尺寸 {width}×{height} 超出范围（宽 {limits.min_width}–{limits.max_width}，"
            f"高 {limits.min_height}–{limits.max_height} 像素） (the drawn image is {width}×{height} pixels; "
            f"allowed {limits.min_width}–{limits.max_width} wide, {limits.min_height}–{limits.max_height} high)")
    _check_decodes(data)
    return data


def _check_decodes(data: bytes) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format != "PNG":
                raise DrawnImageError("签名图片不是 PNG 文件 (the drawn image is not a PNG file)")
            probe.verify()  # chunk CRCs
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # the whole image decodes: a truncated or corrupt stream fails here
            ink = _ink(image)
    except DrawnImageError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DrawnImageError(f"签名图片已损坏，无法解码 (the drawn image cannot be decoded: {exc})") from None
    if not ink:
        raise DrawnImageError("签名图片为空白，请重新签名 (the drawn image is blank: sign again)")


def _ink(image: object) -> bool:
    """Whether anything is drawn: a pixel that is neither transparent nor white."""
    from PIL import Image

    assert isinstance(image, Image.Image)
    rgba = image.convert("RGBA")
    paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat = Image.alpha_composite(paper, rgba).convert("L")
    return flat.point(lambda v: 255 if v < 224 else 0).getbbox() is not None
