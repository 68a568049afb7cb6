"""Images drawn on the terminal's screen (the party's signature on a 笔录): checked before a step is signed.

A form schema marks such a value with `"contentMediaType": "image/png"`: it is submitted as an RFC 2397 data URL,
``data:image/png;base64,…``, as a `<canvas>` exports it (web/static/app.js). Before anything is kept the server
checks that it really is one: the PNG signature bytes, a clean decode with Pillow, the size and dimensions within
`ImageLimits` (workflows/settings.json `drawn_images`, with their basis), and some ink on it.

Where the schema also says `"x-drawn-file": true` (the forms since issue 14's drawn files), the image is stored as
a file before the step (engine/usecases/drawn_images.py) and the form records it by content, as a `reference`:
{"sha256", "size", "media_type"}; the step record lists that file beside its evidence, so the officer's signature
covers its digest. A record made before then holds the data URL itself, and stays valid as it is.

Pure: strings, bytes and schemas in; an error message (zh-CN, then English), bytes or data out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

PNG_MEDIA_TYPE = "image/png"
DATA_URL_PREFIX = "data:image/png;base64,"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DRAWN_FILE = "x-drawn-file"  # on a `contentMediaType: image/png` node: stored as a file, recorded by reference
REFERENCE_KEYS = frozenset({"sha256", "size", "media_type"})

FieldPath = tuple[str | int, ...]  # where a value sits in the form data: keys and list indexes


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


def data_url(png: bytes) -> str:
    """The PNG as the data URL a 文书 template embeds (and a `<canvas>` exports)."""
    return DATA_URL_PREFIX + base64.b64encode(png).decode("ascii")


def reference(png: bytes) -> dict[str, Any]:
    """What a form records of a drawn image stored as a file: its content's digest, length and type."""
    return {"sha256": hashlib.sha256(png).hexdigest(), "size": len(png), "media_type": PNG_MEDIA_TYPE}


def is_reference(value: object) -> bool:
    """Whether `value` has the shape `reference` gives (a 64-hex digest, a positive size, image/png)."""
    if not isinstance(value, Mapping) or set(value) != REFERENCE_KEYS:
        return False
    digest, size = value["sha256"], value["size"]
    return (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)
            and isinstance(size, int) and not isinstance(size, bool) and size > 0
            and value["media_type"] == PNG_MEDIA_TYPE)


def referenced_digests(data: object) -> set[str]:
    """The digests of every drawn-image reference anywhere in `data` (no schema needed: a record read back)."""
    if is_reference(data):
        return {str(data["sha256"])}  # type: ignore[index]
    values = data.values() if isinstance(data, Mapping) else data if isinstance(data, list) else ()
    return set().union(*(referenced_digests(v) for v in values))


def reference_problem(value: object) -> str | None:
    """Why `value` is neither a data URL (checked by `png_from_data_url`) nor a `reference` (None: it is one)."""
    if isinstance(value, str) or is_reference(value):
        return None
    return ("签名图片须为 PNG 图片或已存储的签名文件 (the drawn image must be a PNG data URL or a stored drawn file: "
            "sha256, size, media_type)")


def drawn_values(schema: Mapping[str, Any] | None, data: object) -> Iterator[tuple[FieldPath, Any]]:
    """Each value of `data` at a node its schema marks `x-drawn-file` (followed into properties — those of every
    `oneOf`/`anyOf`/`allOf` choice too, as a signature's drawn/refused choices — and the items of arrays)."""
    for path, value, _node in drawn_fields(schema, data):
        yield path, value


def drawn_fields(schema: Mapping[str, Any] | None, data: object) -> Iterator[tuple[FieldPath, Any, Mapping[str, Any]]]:
    """`drawn_values` with each value's schema node (its title names the stored file)."""
    yield from _walk(schema or {}, data, ())


def _walk(node: Mapping[str, Any], value: object,
          path: FieldPath) -> Iterator[tuple[FieldPath, Any, Mapping[str, Any]]]:
    if node.get(DRAWN_FILE) is True:
        yield path, value, node
        return
    items = node.get("items")
    if isinstance(value, list) and isinstance(items, Mapping):
        for index, element in enumerate(value):
            yield from _walk(items, element, (*path, index))
        return
    if not isinstance(value, Mapping):
        return
    properties: dict[str, Mapping[str, Any]] = {}
    for part in (node, *(c for k in ("oneOf", "anyOf", "allOf") for c in node.get(k) or () if isinstance(c, Mapping))):
        for name, prop in (part.get("properties") or {}).items():
            if isinstance(prop, Mapping) and (prop.get(DRAWN_FILE) is True or name not in properties):
                properties[name] = prop
    for name, prop in properties.items():
        if name in value:
            yield from _walk(prop, value[name], (*path, name))


def replaced(data: Any, values: Mapping[FieldPath, Any]) -> Any:
    """A copy of `data` with the value at each path replaced (`data` itself is not changed)."""
    if not values:
        return data
    out = _copy(data)
    for path, value in values.items():
        target = out
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return out


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def as_recorded(schema: Mapping[str, Any] | None, data: Any) -> Any:
    """The form data as its record holds it: each drawn data URL at an `x-drawn-file` node as its `reference` (what
    staging records once it has stored the file; the in-memory scenario player, which stores nothing, the same)."""
    return replaced(data, {path: reference(base64.b64decode(value[len(DATA_URL_PREFIX):]))
                           for path, value in drawn_values(schema, data)
                           if isinstance(value, str) and value.startswith(DATA_URL_PREFIX)})
