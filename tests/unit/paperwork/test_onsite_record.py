"""The 现场笔录 as a user reads it: the end time the officer entered (not the signing time), every time on the page
and in the visible stamp in the agency's zone (Asia/Shanghai), the 现场负责人, the party's drawn signature."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace

import pdfplumber

from documents import verify_pdf_signatures
from engine.paperwork import produce_documents

from .test_paperwork_documents import STEPS, play

#: 23:30 UTC on 15 September is 07:30 on the 16th in 呈州 (UTC+8): the page and the stamp show the 16th
SIGNED_UTC = dt.datetime(2026, 9, 15, 23, 30, tzinfo=dt.UTC)
ENTERED = {"inspected_at": "2026-09-16T06:10:00+08:00", "inspection_ended_at": "2026-09-16T07:05:00+08:00",
           "person_in_charge": "王某某", "person_in_charge_title": "店长", "party_present": True}


def _onsite(definition, settings, calendar, agency, **changes):
    scenario, index = STEPS[("onsite_record", "onsite_inspection")]
    played = play(definition, settings, calendar, agency, scenario, index, overrides={**ENTERED, **changes})
    return replace(played.ctx, step_time=SIGNED_UTC)


def _stamp_text(pdf: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [annot["data"]["TU"].decode("utf-16") if isinstance(annot["data"]["TU"], bytes) else annot["data"]["TU"]
                for page in document.pages for annot in page.annots if "TU" in annot["data"]]


def test_the_page_and_the_stamp_show_the_agency_s_time(definition, settings, calendar, agency, meta, pki,
                                                       pdf_text) -> None:
    ctx = _onsite(definition, settings, calendar, agency)
    [produced] = produce_documents(ctx, officer=pki.officer, seal=pki.seal, meta=meta)
    text = pdf_text(produced.pdf)
    assert "检查时间2026年9月16日6时10分至2026年9月16日7时05分" in text  # as entered; not 07:30, not UTC
    assert "7时30分" not in text and "2026年9月15日" not in text
    assert "日期：2026年9月16日" in text  # the officers' date: the local day of the signing
    assert "现场负责人王某某（店长）" in text
    [stamp] = _stamp_text(produced.pdf)
    assert stamp == "签名：李明；时间：2026-09-16 07:30:00 +0800"
    [status] = verify_pdf_signatures(produced.pdf, [pki.root])
    assert status.ok and status.signing_time == SIGNED_UTC  # the same instant, shown in the agency's zone


def test_the_seal_shows_the_agency_s_time_too(definition, settings, calendar, agency, meta, pki) -> None:
    scenario, index = STEPS[("prior_notice", "prior_notice")]
    ctx = replace(play(definition, settings, calendar, agency, scenario, index).ctx, step_time=SIGNED_UTC)
    [produced] = produce_documents(ctx, officer=pki.officer, seal=pki.seal, meta=meta)
    assert sorted(_stamp_text(produced.pdf)) == [
        "电子印章；呈州市卫生健康委员会；2026-09-16；07:30:00 +0800",
        "签名：李明；时间：2026-09-16 07:30:00 +0800"]


def test_the_party_s_drawn_signature_is_in_the_pdf(definition, settings, calendar, agency, meta, pki) -> None:
    ctx = _onsite(definition, settings, calendar, agency)
    assert ctx.form_data["party_signature"]["mode"] == "drawn"
    [produced] = produce_documents(ctx, officer=pki.officer, seal=None, meta=meta)
    with pdfplumber.open(io.BytesIO(produced.pdf)) as document:
        images = [image for page in document.pages for image in page.images]
    assert len(images) == 1 and images[0]["srcsize"] == (600, 200)


def test_a_refusal_comes_from_this_step_not_an_earlier_one(definition, settings, calendar, agency, meta,
                                                          pdf_text) -> None:
    refused = {"mode": "refused", "refusal_note": "被检查人拒绝在笔录上签名。", "witness_name": "赵某某",
               "witness_identity": "社区居委会工作人员"}
    ctx = _onsite(definition, settings, calendar, agency, party_signature=refused)
    earlier = {"party_signature": {"mode": "drawn", "image": "data:image/png;base64,AAAA"}}
    ctx = replace(ctx, case_data={**ctx.case_data, **earlier})  # another step's signature in the case data
    text = pdf_text(produce_documents(ctx, officer=None, seal=None, meta=meta)[0].pdf)
    assert "被检查人：拒绝签名" in text and "见证人：赵某某（社区居委会工作人员）" in text
    without = replace(ctx, form_data={k: v for k, v in ctx.form_data.items() if k != "party_signature"})
    assert produce_documents(without, officer=None, seal=None, meta=meta)[0].document.party_signature is None
