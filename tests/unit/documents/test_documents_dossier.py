"""The 案卷: cover, 目录 with page numbers, documents, diagram, manifest, verification — sealed."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from documents import (
    DocumentError,
    DossierCover,
    DossierEntry,
    ManifestRow,
    bpmn_to_svg,
    build,
    build_dossier,
    render,
    verify_pdf_signatures,
)
from documents.samples import sample_data, sample_kinds

BPMN = (Path(__file__).parent / "data" / "mini_case.bpmn").read_bytes()
DONE = {"start", "f1", "filing", "f2", "investigate", "f3", "gw", "f4", "notice", "f6"}


def test_diagram_colours_done_steps_green_and_the_current_one_orange() -> None:
    svg = bpmn_to_svg(BPMN, done=DONE, current={"decide"})
    assert svg.startswith("<svg") and svg.count("<rect") == 5 and svg.count("<circle") == 2
    assert svg.count('fill="#e3f4e1"') == 5  # start, 立案报告, 调查取证, gateway, 事先告知
    assert 'fill="#fff1cc" stroke="#e65100" stroke-width="3"' in svg  # current: 作出行政处罚决定
    assert "不予行政处罚" in svg and "url(#arrow-done)" in svg


def test_diagram_without_di_is_an_error() -> None:
    with pytest.raises(DocumentError, match="no diagram interchange"):
        bpmn_to_svg(b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>')
    with pytest.raises(DocumentError, match="not well-formed"):
        bpmn_to_svg(b"<oops")


@pytest.fixture(scope="module")
def dossier(meta, pki) -> tuple[bytes, list[DossierEntry]]:
    docs = [build(k, sample_data(k)) for k in sample_kinds()]
    entries = [DossierEntry(title=d.TITLE, pdf=render(d, meta=meta), step=d.KIND, doc_number=d.doc_number,
                            date=d.date) for d in docs]
    manifest = [ManifestRow(step=d.TITLE, signer="李明", cert_fingerprint="ab" * 32, time=meta.time,
                            record_hash=f"{i:064x}", document_hashes=("ef" * 32,)) for i, d in enumerate(docs)]
    cover = DossierCover(agency="呈州市卫生健康委员会", case_number="呈卫案〔2026〕0012号",
                         title="呈州市某某美容店从业人员未取得健康合格证明上岗案", party="呈州市某某美容店",
                         handlers=("李明", "陈静"), filed_on=dt.date(2026, 3, 6), closed_on=dt.date(2026, 4, 15))
    svg = bpmn_to_svg(BPMN, done=DONE, current={"decide"})
    pdf = build_dossier(cover, entries, [("办案流程图", svg)], manifest, "全部环节签名有效，哈希链完整。", meta=meta, seal=pki.seal)
    return pdf, entries


def test_dossier_contains_every_document_in_order_with_toc_page_numbers(dossier, pdf_text) -> None:
    pdf, entries = dossier
    reader = PdfReader(io.BytesIO(pdf))
    doc_pages = sum(len(PdfReader(io.BytesIO(e.pdf)).pages) for e in entries)
    assert len(reader.pages) >= doc_pages + 4  # cover, 目录, diagram, manifest
    text = pdf_text(pdf)
    flat = re.sub(r"\s+", "", text)
    assert "行政处罚案卷" in flat and "卷内目录" in flat and "办案流程图" in flat and "签名清单" in flat
    assert "全部环节签名有效，哈希链完整。" in flat
    for e in entries:
        assert e.title in flat
    assert "abababababababab" in flat and "efefefefefefefef" in flat  # manifest hashes are printed
    # 卷内页号: the first document starts on 卷内 page 1, the last one ends on the sum of all pages.
    layout = subprocess.run(["pdftotext", "-layout", "-f", "2", "-l", "3", "-", "-"], input=pdf,
                            capture_output=True, check=True).stdout.decode()
    last_pages = len(PdfReader(io.BytesIO(entries[-1].pdf)).pages)
    last_start = doc_pages - last_pages + 1
    assert re.search(rf"^\s*1\s+{entries[0].title}\s+.*\s1(–\d+)?\s", layout, re.M), layout
    assert re.search(rf"^\s*{len(entries)}\s+{entries[-1].title}\s+.*\s{last_start}(–{doc_pages})?\s", layout, re.M)


def test_dossier_attaches_the_original_signed_pdfs(dossier) -> None:
    pdf, entries = dossier
    attachments = PdfReader(io.BytesIO(pdf)).attachments
    assert len(attachments) == len(entries)
    assert sorted(b for blobs in attachments.values() for b in blobs) == sorted(e.pdf for e in entries)


def test_dossier_is_sealed(dossier, pki) -> None:
    (status,) = verify_pdf_signatures(dossier[0], [pki.root])
    assert status.ok and status.coverage == "ENTIRE_FILE"


def test_empty_dossier_is_refused(meta) -> None:
    cover = DossierCover(agency="a", case_number="b", title="c", party="d")
    with pytest.raises(DocumentError, match="at least one document"):
        build_dossier(cover, [], None, [], "", meta=meta)
