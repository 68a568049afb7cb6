"""What a file is, from its bytes: the media type (never from the name a person gave it), and for photos the
EXIF time and GPS position the camera wrote.

The type is recognised by `puremagic` (pure Python, maintained; its signature table covers the families
settings.json `evidence` accepts and it looks inside ZIP containers to tell a .docx or .xlsx from a plain ZIP).
libmagic through `python-magic` was the other candidate: it needs the C library on every server and its Python
binding has not been released since 2022, and on a minimal OOXML file it answers only "application/zip".

EXIF is read with Pillow. It is shown beside the file as what the camera claims — it can be set to any value —
and never taken as the record's time, which is the signing time.
"""

from __future__ import annotations

import datetime as dt
import logging
from fractions import Fraction
from pathlib import Path
from typing import Any

# puremagic's names for some types, and the spelling settings.json uses.
_ALIASES = {
    "audio/wave": "audio/wav", "audio/x-wav": "audio/wav", "audio/vnd.wave": "audio/wav",
    "video/avi": "video/x-msvideo", "video/msvideo": "video/x-msvideo",
    "audio/x-flac": "audio/flac", "audio/x-m4a": "audio/mp4", "audio/m4a": "audio/mp4",
    "image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "application/ogg": "audio/ogg",
    "audio/x-amr": "audio/amr", "image/x-png": "image/png",
}
# Signatures puremagic recognises without naming a media type: the type of the format it found (by the
# format's extension puremagic reports — the content's, not the file name's).
_BY_FORMAT = {
    ".m4a": "audio/mp4", ".amr": "audio/amr", ".ogg": "audio/ogg", ".aac": "audio/aac", ".flac": "audio/flac",
    ".mkv": "video/x-matroska", ".ts": "video/mp2t", ".heic": "image/heic", ".xls": "application/vnd.ms-excel",
    ".doc": "application/msword",
}
UNKNOWN = "application/octet-stream"
# puremagic scores a match 0.1 per signature byte (JPEG's signature is three bytes, FF D8 FF; PDF's four) and
# raises the score of the formats the file name's extension names: the file is read without its name, so only
# the bytes count, and a three-byte signature is enough (the policy's list of types is the gate).
_MIN_CONFIDENCE = 0.3


def media_type_of(path: Path) -> str:
    """The media type of the file's content (e.g. "image/jpeg"), or "application/octet-stream" when its bytes
    match no known format. Reads the head and tail of the file (and a ZIP's directory), never all of it."""
    import puremagic

    try:
        with open(path, "rb") as handle:
            matches = puremagic.magic_stream(handle)  # no name given: never judged by it
    except (puremagic.PureError, ValueError, OSError):
        return UNKNOWN
    best = matches[0].confidence if matches else 0.0
    for match in matches:
        if match.confidence < max(best, _MIN_CONFIDENCE):  # the strongest match names the type, or nothing does
            break
        media_type = _ALIASES.get(match.mime_type, match.mime_type) or _BY_FORMAT.get(match.extension.lower(), "")
        if media_type:
            return media_type
    return UNKNOWN


def image_metadata(path: Path) -> dict[str, Any]:
    """The camera's claims in a photo's EXIF: `taken` (DateTimeOriginal as written, local time of the camera
    with its offset when given) and `gps` ({lat, lon} in degrees); {} when there is none or it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    logging.getLogger("PIL").setLevel(logging.WARNING)
    try:
        with Image.open(path) as image:
            exif = image.getexif()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return {}
    out: dict[str, Any] = {}
    sub = exif.get_ifd(0x8769)  # the Exif IFD
    taken = sub.get(0x9003) or sub.get(0x9004) or exif.get(0x0132)  # DateTimeOriginal, Digitized, DateTime
    if isinstance(taken, str) and (moment := _exif_time(taken, sub.get(0x9011))):
        out["taken"] = moment
    gps = exif.get_ifd(0x8825)
    position = _gps(gps)
    if position is not None:
        out["gps"] = position
    make, model = exif.get(0x010F), exif.get(0x0110)
    if isinstance(make, str) or isinstance(model, str):
        out["camera"] = " ".join(str(v).strip("\x00 ") for v in (make, model) if isinstance(v, str)).strip()[:100]
    return out


def _exif_time(text: str, offset: Any) -> str | None:
    try:
        moment = dt.datetime.strptime(text.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if isinstance(offset, str) and len(offset.strip("\x00")) == 6:
        return moment.isoformat() + offset.strip("\x00")
    return moment.isoformat()  # the camera's clock, zone unknown


def _gps(gps: Any) -> dict[str, float] | None:
    try:
        lat = _degrees(gps[2], gps.get(1))
        lon = _degrees(gps[4], gps.get(3))
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return {"lat": round(lat, 7), "lon": round(lon, 7)}


def _degrees(value: Any, ref: Any) -> float:
    d, m, s = (Fraction(str(float(part))) for part in value)
    degrees = float(d + m / 60 + s / 3600)
    return -degrees if str(ref).strip("\x00").upper() in {"S", "W"} else degrees


__all__ = ["UNKNOWN", "image_metadata", "media_type_of"]
