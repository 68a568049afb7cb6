"""Small real evidence files the demo seed adds and the tests use: a JPEG photo with EXIF time and GPS as a
phone writes them, and a one-page PDF — made with Pillow, no file shipped."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path


def _rational(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), float(Fraction(seconds).limit_denominator(10000)))


def demo_photo(path: Path, *, taken: dt.datetime, lat: float, lon: float, label: str = "",
               size: tuple[int, int] = (640, 480)) -> Path:
    """A JPEG whose EXIF says when (DateTimeOriginal with its offset) and where (GPS) it was taken."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, (70, 110, 150))
    draw = ImageDraw.Draw(image)
    for i in range(0, size[0], 40):
        draw.line([(i, 0), (i, size[1])], fill=(90, 130, 170), width=2)
    draw.rectangle([40, size[1] - 120, size[0] - 40, size[1] - 40], fill=(230, 230, 220))
    draw.text((60, size[1] - 100), label or "casetrail evidence", fill=(20, 20, 20))
    exif = Image.Exif()
    exif[0x010F] = "casetrail"  # Make
    exif[0x0110] = "demo camera"  # Model
    sub = exif.get_ifd(0x8769)
    local = taken.astimezone(dt.timezone(dt.timedelta(hours=8)))
    sub[0x9003] = local.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
    sub[0x9011] = "+08:00"  # OffsetTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = ("N" if lat >= 0 else "S"), _rational(abs(lat))
    gps[3], gps[4] = ("E" if lon >= 0 else "W"), _rational(abs(lon))
    image.save(path, "JPEG", quality=85, exif=exif)
    return path


def demo_pdf(path: Path, *, title: str = "casetrail evidence") -> Path:
    """A one-page PDF (a scanned page, as Pillow writes it)."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (595, 842), "white")
    draw = ImageDraw.Draw(page)
    draw.text((60, 60), title, fill="black")
    for y in range(120, 780, 24):
        draw.line([(60, y), (535, y)], fill=(200, 200, 200))
    page.save(path, "PDF", resolution=72.0)
    return path


__all__ = ["demo_pdf", "demo_photo"]
