"""Fixtures for the documents library: render meta with a per-session font cache, a throwaway PKI, NSS db."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from documents.demo_pki import DemoPki, make_demo_pki
from documents.render import RenderMeta

CST = dt.timezone(dt.timedelta(hours=8))
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def meta(font_cache: Path) -> RenderMeta:
    return RenderMeta(time=dt.datetime(2026, 3, 28, 10, 0, tzinfo=CST), font_cache_dir=font_cache)


@pytest.fixture(scope="session")
def pki() -> DemoPki:
    return make_demo_pki()


@pytest.fixture(scope="session")
def nssdir(pki: DemoPki, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An NSS database trusting only the test root, for poppler's pdfsig."""
    if not (shutil.which("certutil") and shutil.which("pdfsig")):
        pytest.fail("certutil/pdfsig not installed: run scripts/setup.sh")
    d = tmp_path_factory.mktemp("nss")
    root = d / "root.pem"
    root.write_bytes(pki.root.public_bytes(serialization.Encoding.PEM))
    subprocess.run(["certutil", "-N", "-d", f"sql:{d}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{d}", "-n", "root", "-t", "CT,C,C", "-i", str(root)],
                   check=True, capture_output=True)
    return f"sql:{d}"


@pytest.fixture
def pdf_text(tmp_path: Path) -> Callable[[bytes], str]:
    """pdftotext of a PDF: what a reader (or a screen reader, or a search) gets out of the document."""

    def extract(pdf: bytes) -> str:
        path = tmp_path / "doc.pdf"
        path.write_bytes(pdf)
        return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout

    return extract
