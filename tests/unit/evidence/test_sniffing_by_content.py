"""The type of a file comes from its bytes alone: a completed upload is stored as `data`, without the name the
person gave it, and is recognised all the same; a name that promises a type changes nothing."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from PIL import Image

from engine.demo_files import demo_pdf, demo_photo
from engine.sniffing import media_type_of


def _png(path: Path) -> Path:
    Image.new("RGB", (8, 8)).save(path, "PNG")
    return path


@pytest.mark.parametrize(("make", "expected"), [
    (lambda p: demo_photo(p, taken=dt.datetime(2026, 9, 15, 1, tzinfo=dt.UTC), lat=31.2, lon=121.4), "image/jpeg"),
    (demo_pdf, "application/pdf"),
    (_png, "image/png"),
])
def test_recognised_without_a_name(tmp_path, make, expected):
    made = make(tmp_path / "made")
    for name in ("data", "photo.jpg", "scan.pdf", "notes.txt"):
        copy = tmp_path / name
        shutil.copy(made, copy)
        assert media_type_of(copy) == expected, name


def test_a_program_named_as_a_photo_is_unknown(tmp_path):
    for name in ("data", "现场.jpg"):
        program = tmp_path / name
        program.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(4096))
        assert media_type_of(program) == "application/octet-stream"
