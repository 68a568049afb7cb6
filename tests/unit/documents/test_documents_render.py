"""Every 文书 renders from realistic data; text, page numbers, verification code, determinism, escaping."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import re

import pytest

from documents import (
    DOCUMENT_TYPES,
    DocumentError,
    RenderMeta,
    build,
    render,
    render_document,
    verification_code,
)
from documents.samples import sample_data, sample_kinds
from documents.text import format_amount, format_date

KINDS = sample_kinds()


def test_every_registered_kind_has_sample_data_and_a_chinese_title() -> None:
    assert set(KINDS) == set(DOCUMENT_TYPES)
    assert len(DOCUMENT_TYPES) >= 25
    for kind, cls in DOCUMENT_TYPES.items():
        assert re.fullmatch(r"[a-z_]+", kind)
        assert re.search(r"[\u4e00-\u9fff]", cls.TITLE)


@pytest.mark.parametrize("kind", KINDS)
def test_document_shows_its_facts_party_dates_and_page_numbers(kind, meta, pdf_text) -> None:
    data = sample_data(kind)
    doc = build(kind, data)
    rendered = render_document(doc, meta=meta)
    text = pdf_text(rendered.pdf)
    flat = re.sub(r"\s+", "", text)
    assert doc.TITLE.replace(" ", "") in flat
    assert doc.agency in flat
    assert doc.case_number in flat
    if doc.doc_number:
        assert doc.doc_number in flat
    assert f"第 1 页 共 {rendered.page_count} 页" in text
    assert text.count(f"校验码 {verification_code(doc)}") == rendered.page_count
    party = getattr(doc, "party", None) or getattr(doc, "respondent", None)
    if party is not None:
        assert party.name in flat
    for field in ("facts", "findings", "summary", "content", "statement"):
        value = getattr(doc, field, None)
        if isinstance(value, str):
            assert re.sub(r"\s+", "", value)[:40] in flat
    for penalty in getattr(doc, "penalties", ()) or ():
        if penalty.amount is not None:
            assert re.sub(r"\s+", "", format_amount(penalty.amount)) in flat
    assert format_date(doc.date) in flat or kind in {"inquiry_record", "on_site_record", "hearing_record",
                                                      "statement_defense_record", "collegial_deliberation_record",
                                                      "major_case_discussion_record", "service_receipt"}


def test_penalty_decision_has_every_article_59_item(meta, pdf_text) -> None:
    doc = build("penalty_decision", sample_data("penalty_decision"))
    flat = re.sub(r"\s+", "", pdf_text(render(doc, meta=meta)))
    for needle in ("当事人：呈州市某某美容店", "92330100MA2H7X8K5Q", "呈州市东城区解放路188号",  # ① party
                   "以上事实有下列证据为证", "现场笔录1份",  # ② facts and evidence
                   "警告", "罚款人民币伍仟元整（¥5,000.00）", "第三十八条第一款",  # ③ kind and basis
                   "15日内履行", "浙里办",  # ④ way and time limit
                   "60日内向呈州市人民政府申请行政复议", "6个月内向呈州市东城区人民法院提起行政诉讼",  # ⑤ remedies
                   "呈州市卫生健康委员会", "2026年3月28日"):  # ⑥ agency and date
        assert needle in flat, needle


def test_collegial_record_keeps_each_vote_and_the_dissent(meta, pdf_text) -> None:
    doc = build("collegial_deliberation_record", sample_data("collegial_deliberation_record"))
    flat = re.sub(r"\s+", "", pdf_text(render(doc, meta=meta)))
    assert "表决结果：同意2人，不同意1人，弃权0人" in flat
    assert "何伟（不同意）：当事人已整改，建议罚款3000元" in flat


def test_same_data_renders_identical_bytes(meta) -> None:
    doc = build("case_filing_report", sample_data("case_filing_report"))
    first, second = render(doc, meta=meta), render(build("case_filing_report", sample_data("case_filing_report")), meta=meta)
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
    changed = dataclasses.replace(doc, summary=doc.summary + "。")
    assert render(changed, meta=meta) != first
    assert verification_code(changed) != verification_code(doc)


@pytest.mark.parametrize("kind", KINDS)
def test_the_trimmed_user_agent_stylesheet_renders_the_same_bytes_as_weasyprints_own(kind, meta, monkeypatch) -> None:
    # documents/render.py leaves out the UA rules for pseudo-elements no 文书 has (list markers, footnotes):
    # a template that comes to have one fails here, rather than printing differently.
    import weasyprint

    module = importlib.import_module("documents.render")  # `documents.render` is the function
    doc = build(kind, sample_data(kind))
    ours = render(doc, meta=meta)
    monkeypatch.setattr(module, "_html_class", lambda: weasyprint.HTML)
    assert render(doc, meta=meta) == ours


def test_pdf_metadata_dates_come_from_meta_not_the_clock(meta) -> None:
    import io

    from pypdf import PdfReader

    pdf = render(build("hearing_notice", sample_data("hearing_notice")), meta=meta)
    info = PdfReader(io.BytesIO(pdf)).metadata
    assert info.creation_date.isoformat().startswith("2026-03-28T02:00:00")
    assert info.modification_date == info.creation_date


def test_markup_and_control_characters_typed_by_a_user_appear_literally(meta, pdf_text) -> None:
    data = sample_data("on_site_record")
    data["findings"] = "<script>alert('x')</script> & <b>粗体</b> A&amp;B \x07铃\x00空\x1b[31m\r\n下一行"
    data["party"]["name"] = "某店<i>&\"'"
    text = pdf_text(render(build("on_site_record", data), meta=meta))
    assert "<script>alert('x')</script> & <b>粗体</b> A&amp;B" in text
    assert "某店<i>&\"'" in text
    assert "\u2407铃\u2400空\u241b[31m" in text  # control pictures: visible, never silently dropped
    assert "下一行" in text


def test_control_characters_in_the_case_number_cannot_break_the_page_css(meta, pdf_text) -> None:
    data = sample_data("hearing_notice")
    data["case_number"] = 'X"; } @page { content: "evil\n'
    text = pdf_text(render(build("hearing_notice", data), meta=meta))
    assert 'X"; } @page { content: "evil' in text


def test_missing_font_family_is_a_clear_error(meta) -> None:
    doc = build("hearing_notice", sample_data("hearing_notice"))
    with pytest.raises(DocumentError, match="No Such Font 9 is not installed|'No Such Font 9' is not installed"):
        render(doc, meta=dataclasses.replace(meta, font_family="No Such Font 9"))


def test_weasyprint_failure_is_a_document_error_and_returns_nothing(meta, monkeypatch) -> None:
    import weasyprint

    def boom(*args, **kwargs):
        raise RuntimeError("layout exploded")

    monkeypatch.setattr(weasyprint.HTML, "render", boom)
    with pytest.raises(DocumentError, match="PDF rendering failed: RuntimeError: layout exploded"):
        render(build("hearing_notice", sample_data("hearing_notice")), meta=meta)


def test_naive_render_time_is_refused(meta) -> None:
    import datetime as dt

    with pytest.raises(DocumentError, match="timezone-aware"):
        render(build("hearing_notice", sample_data("hearing_notice")),
               meta=RenderMeta(time=dt.datetime(2026, 1, 1), font_cache_dir=meta.font_cache_dir))


def test_rare_character_outside_the_subset_still_renders(meta, pdf_text) -> None:
    data = sample_data("inquiry_record")
    data["interviewee_name"] = "刘䶮"  # U+4DAE, CJK Extension A: not in GB2312
    assert "刘䶮" in pdf_text(render(build("inquiry_record", data), meta=meta))


def test_signature_and_seal_blocks_are_located(meta) -> None:
    rendered = render_document(build("penalty_prior_notice", sample_data("penalty_prior_notice")), meta=meta)
    box = rendered.boxes["sig-seal"]
    assert 0 <= box.page < rendered.page_count
    assert 0 < box.x1 < box.x2 <= 595.3 and 0 < box.y1 < box.y2 <= 842


def test_each_document_is_laid_out_once_per_render(meta, monkeypatch) -> None:
    """Page counters (第 N 页 共 M 页 in a margin box) must not make WeasyPrint paginate twice: one pass over
    the pages, each page made once. Counted in WeasyPrint's own layout functions, for every kind."""
    import weasyprint.layout as layout
    import weasyprint.layout.page as page_layout

    passes, pages = [], []
    all_pages, remake_page = layout.make_all_pages, page_layout.remake_page
    monkeypatch.setattr(layout, "make_all_pages", lambda *a, **k: (passes.append(1), all_pages(*a, **k))[1])
    monkeypatch.setattr(page_layout, "remake_page", lambda *a, **k: (pages.append(1), remake_page(*a, **k))[1])
    for kind in KINDS:
        passes.clear(), pages.clear()
        rendered = render_document(build(kind, sample_data(kind)), meta=meta)
        assert (len(passes), len(pages)) == (1, rendered.page_count), kind


def test_streams_are_packed_once_exactly_as_pydyf_writes_them(meta, monkeypatch) -> None:
    """documents.render packs each PDF stream once (pydyf compressed each twice: to write it and again for the
    /ID). At pydyf's own level the bytes are pydyf's, byte for byte; at ours, no stream is compressed twice."""
    import zlib

    import pydyf
    import weasyprint

    from documents.render import _environment, _fonts, pack_streams, write_pdf

    doc = build("penalty_decision", sample_data("penalty_decision"))
    fonts = _fonts(meta.font_family, meta.font_cache_dir, meta.subset_font)
    html = _environment().get_template(f"{doc.KIND}.html").render(doc=doc, code=verification_code(doc),
                                                                  created="2026-03-28T02:00:00Z", producer="t")
    laid_out = weasyprint.HTML(string=html, url_fetcher=fonts.fetcher).render(font_config=fonts.config,
                                                                              stylesheets=fonts.stylesheets)
    assert laid_out.write_pdf(pdf_identifier=True, finisher=pack_streams(9)) == laid_out.write_pdf(pdf_identifier=True)

    def spy(into: list[bytes]) -> object:
        class Spy:
            def __getattr__(self, name):
                return getattr(zlib, name)

            def compress(self, data, *args, **kwargs):
                into.append(bytes(data))
                return zlib.compress(data, *args, **kwargs)

            def compressobj(self, *args, **kwargs):
                inner = zlib.compressobj(*args, **kwargs)

                class Recording:
                    def compress(self, data):
                        into.append(bytes(data))
                        return inner.compress(data)

                    def flush(self, *a):
                        return inner.flush(*a)

                return Recording()

        return Spy()

    packed: list[bytes] = []
    by_pydyf: list[bytes] = []  # its own object and cross-reference streams, made while it writes
    monkeypatch.setattr(pydyf, "zlib", spy(by_pydyf))
    monkeypatch.setattr(importlib.import_module("documents.render"), "zlib", spy(packed))  # the module, not render()
    pdf = write_pdf(laid_out)
    assert max(map(len, packed)) > 100_000  # the font subset is among them
    assert len(packed) == len(set(packed)) and not set(packed) & set(by_pydyf), "a stream was compressed twice"
    assert pdf.startswith(b"%PDF-") and b"/FlateDecode" in pdf


def test_a_render_leaves_the_garbage_collector_as_it_found_it(meta, monkeypatch) -> None:
    import gc

    doc = build("hearing_notice", sample_data("hearing_notice"))
    assert gc.isenabled()
    render(doc, meta=meta)
    assert gc.isenabled()
    gc.disable()
    try:
        render(doc, meta=meta)
        assert not gc.isenabled()
    finally:
        gc.enable()
    monkeypatch.setattr(importlib.import_module("documents.render"), "write_pdf", lambda _: 1 / 0)
    with pytest.raises(DocumentError, match="ZeroDivisionError"):
        render(doc, meta=meta)
    assert gc.isenabled()
