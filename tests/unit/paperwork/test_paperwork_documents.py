"""Each step that has a 文书 produces it as a signed PDF carrying the case's facts (one render per code/step)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from documents import DOCUMENT_TYPES, PdfSignatureError, verify_pdf_signatures
from documents.demo_pki import DemoPki
from documents.render import RenderMeta
from engine.paperwork import MODEL_DOCUMENTS, START_DOCUMENT, AgencyInfo, build_document, produce_documents
from engine.rules.deadlines import calendar_for
from engine.rules.settings import Settings, load_settings
from engine.spiff.definitions import LoadedDefinition, load_default_definition
from engine.spiff.scenarios import PRESERVATIONS

from .conftest import NAMES, first_steps, play

#: (document code, step) -> first scenario reaching it; computed at collection to parametrise (≈0.5 s).
STEPS = first_steps(load_default_definition(), load_settings(), calendar_for(load_settings()))


def test_every_document_code_in_the_model_is_mapped_to_a_documents_kind(definition: LoadedDefinition) -> None:
    used = ({m.document for m in definition.metas.values() if m.document} | {definition.start_meta["document"]}
            | {m.document for m in definition.message_starts.values() if m.document})
    assert used == set(MODEL_DOCUMENTS)
    assert {spec.kind for spec in MODEL_DOCUMENTS.values()} <= set(DOCUMENT_TYPES)
    assert definition.start_meta["document"] == START_DOCUMENT


def test_every_step_with_a_document_is_reached_by_some_scenario(definition: LoadedDefinition) -> None:
    with_document = {(m.document, m.spec_id) for m in definition.metas.values() if m.document}
    assert with_document <= set(STEPS)


@pytest.mark.parametrize(("code", "spec_id"), sorted(STEPS), ids=[f"{c}@{s}" for c, s in sorted(STEPS)])
def test_step_produces_its_document_signed_with_the_case_facts(
        code: str, spec_id: str, definition: LoadedDefinition, settings: Settings, calendar, agency: AgencyInfo,
        pki: DemoPki, meta: RenderMeta, pdf_text: Callable[[bytes], str]) -> None:
    scenario, index = STEPS[(code, spec_id)]
    played = play(definition, settings, calendar, agency, scenario, index)
    ctx = played.ctx
    [produced] = produce_documents(ctx, officer=pki.officer, seal=pki.seal, meta=meta)

    spec = MODEL_DOCUMENTS[code]
    assert produced.kind == spec.kind and produced.title == DOCUMENT_TYPES[spec.kind].TITLE
    assert produced.pdf.startswith(b"%PDF-") and produced.page_count >= 1
    assert produced.file_name.endswith(".pdf") and "/" not in produced.file_name
    text = pdf_text(produced.pdf)
    assert produced.title in text
    assert "呈州市丽人美容店" in text  # the party (被投诉举报对象) from the intake
    assert "呈卫投〔2026〕0042号" in text  # case number in the page header
    if produced.doc_number:
        assert produced.doc_number in text
    assert f"{produced.document.date.year}年{produced.document.date.month}月{produced.document.date.day}日" in text
    if played.fine:
        assert f"¥{played.fine:,.2f}" in text or f"{played.fine:,.2f}元" in text

    statuses = verify_pdf_signatures(produced.pdf, [pki.root])
    assert [s.ok for s in statuses] == [True] * len(statuses), [s.reason for s in statuses]
    assert statuses[0].signer == "李明"  # the officer's certificate
    if DOCUMENT_TYPES[spec.kind].SEALED:  # 告知书/决定书: then the agency seal over everything
        assert len(statuses) == 2 and "电子印章" in statuses[1].signer
        assert statuses[0].coverage == "ENTIRE_REVISION" and statuses[1].coverage == "ENTIRE_FILE"
    else:
        assert len(statuses) == 1 and statuses[0].coverage == "ENTIRE_FILE"


def test_decision_prints_the_allocated_number_and_every_article_59_item(
        definition, settings, calendar, agency, pdf_text, meta) -> None:
    scenario, index = STEPS[("penalty_decision", "make_decision")]
    played = play(definition, settings, calendar, agency, scenario, index)
    [produced] = produce_documents(played.ctx, officer=None, seal=None, meta=meta)
    text = pdf_text(produced.pdf)
    assert "呈卫罚〔2026〕007号" in text  # the engine's allocation wins over the 文号 typed in the form
    assert "呈州市和平路8号" in text and "92330100MA2CT8QJ0J" in text  # ① address, credit code
    assert "警告" in text and "叁仟元整" in text  # ③ kinds and amount
    assert "呈州市人民政府" in text and "呈州市和平区人民法院" in text  # ⑤ remedy (from the province settings)
    assert "明确放弃陈述申辩和听证" in text and "法制审核" in text  # procedure history from the case data


def test_deliberation_record_lists_every_ballot_and_the_dissent(definition, settings, calendar, agency, pdf_text,
                                                               meta) -> None:
    from engine.spiff.scenarios import SCENARIOS

    scenario = SCENARIOS["no_penalty_facts"]
    index = [i for i, s in enumerate(scenario.steps) if s.spec_id == "panel_vote"][0]
    played = play(definition, settings, calendar, agency, scenario, index)
    text = pdf_text(produce_documents(played.ctx, officer=None, seal=None, meta=meta)[0].pdf)
    for member in ("孙丽", "何伟", "马涛"):
        assert member in text
    assert "不同意1人" in text and "同意2人" in text
    assert "违法事实不能成立" in text


def test_a_ballot_that_does_not_complete_the_round_produces_no_record(definition, settings, calendar, agency,
                                                                      meta) -> None:
    scenario, index = STEPS[("deliberation_record", "panel_vote")]
    played = play(definition, settings, calendar, agency, scenario, index, last_vote=False)
    assert produce_documents(played.ctx, officer=None, seal=None, meta=meta) == []


def test_steps_without_a_document_produce_nothing(definition, settings, calendar, agency, meta, pki) -> None:
    scenario, index = STEPS[("acceptance_record", "acceptance_review")]
    played = play(definition, settings, calendar, agency, scenario, index)
    from dataclasses import replace

    ctx = replace(played.ctx, document_code=None, task_spec_id="register_evidence")
    assert produce_documents(ctx, officer=pki.officer, seal=pki.seal, meta=meta) == []


def test_summary_proposal_has_no_filing_report(definition, settings, calendar, agency) -> None:
    from engine.spiff.scenarios import SCENARIOS

    scenario = SCENARIOS["summary_penalty"]
    played = play(definition, settings, calendar, agency, scenario, 1)
    assert played.ctx.task_spec_id == "preliminary_check"
    assert build_document("case_filing_report", played.ctx) is None


def test_sealed_document_without_the_agency_seal_is_refused(definition, settings, calendar, agency, pki,
                                                           meta) -> None:
    scenario, index = STEPS[("prior_notice", "prior_notice")]
    played = play(definition, settings, calendar, agency, scenario, index)
    with pytest.raises(PdfSignatureError, match="印章"):
        produce_documents(played.ctx, officer=pki.officer, seal=None, meta=meta)


def test_markup_typed_in_a_form_appears_literally(definition, settings, calendar, agency, meta, pdf_text) -> None:
    scenario, index = STEPS[("prior_notice", "prior_notice")]
    played = play(definition, settings, calendar, agency, scenario, index,
                  overrides={"notified_facts": "<script>alert(1)</script>无证营业<b>两个月</b>"})
    text = pdf_text(produce_documents(played.ctx, officer=None, seal=None, meta=meta)[0].pdf)
    assert "<script>alert(1)</script>无证营业<b>两个月</b>" in text


def test_unsigned_preview_has_no_signature(definition, settings, calendar, agency, meta, pki) -> None:
    scenario, index = STEPS[("onsite_record", "onsite_inspection")]
    played = play(definition, settings, calendar, agency, scenario, index)
    [produced] = produce_documents(played.ctx, officer=None, seal=None, meta=meta)
    assert verify_pdf_signatures(produced.pdf, [pki.root]) == []


def test_officer_names_come_from_the_map_not_user_ids(definition, settings, calendar, agency, meta,
                                                      pdf_text) -> None:
    scenario, index = STEPS[("case_filing_report", "filing_approval")]
    played = play(definition, settings, calendar, agency, scenario, index)
    text = pdf_text(produce_documents(played.ctx, officer=None, seal=None, meta=meta)[0].pdf)
    assert NAMES["officer1"] in text and NAMES["officer2"] in text and NAMES["head"] in text
    assert "officer1" not in text


def test_step_time_is_the_signing_time(definition, settings, calendar, agency, meta, pki) -> None:
    scenario, index = STEPS[("inquiry_record", "inquiry")]
    played = play(definition, settings, calendar, agency, scenario, index)
    [produced] = produce_documents(played.ctx, officer=pki.officer, seal=pki.seal, meta=meta)
    [status] = verify_pdf_signatures(produced.pdf, [pki.root])
    assert status.signing_time == played.ctx.step_time.astimezone(dt.UTC)


def test_extra_scenarios_reach_the_steps_no_standard_scenario_reaches() -> None:
    assert STEPS[("evidence_preservation_decision", "approve_preservation")][0] is PRESERVATIONS["penalty_preservation"]
    assert STEPS[("publication_record", "withdraw_publication")][0].name == "penalty_withdrawn"  # a standard one


def test_a_code_whose_kind_has_no_builder_is_refused_when_read(tmp_path) -> None:
    from engine.paperwork.table import read_codes

    codes = tmp_path / "documents.json"
    codes.write_text('{"$comment": "c", "prior_notice": "penalty_prior_notice", "x": "no_such_kind"}', encoding="utf-8")
    with pytest.raises(ValueError, match="x: no_such_kind"):
        read_codes(codes)
    codes.write_text('{"$comment": "c", "prior_notice": "penalty_prior_notice"}', encoding="utf-8")
    assert read_codes(codes)["prior_notice"].kind == "penalty_prior_notice"
