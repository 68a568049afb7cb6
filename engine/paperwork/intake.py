"""Builders for 登记、受理、立案、调查 (《卫生行政执法文书规范》; docs/documents.md): each `(StepContext) -> DocumentData | None`.

None means "this outcome of the step produces no 文书" (e.g. 初步核查 proposing 简易程序: the 当场处罚决定书
follows instead of a 立案报告).
"""

from __future__ import annotations

import datetime as dt
import re

from documents import QA, DocumentData, Officer, PartySignature
from documents.kinds.closing import ComplaintResultNotice
from documents.kinds.intake import (
    CaseAcceptance,
    CaseFilingReport,
    CaseTransfer,
    ComplaintRegistration,
    NonFilingNotice,
)
from documents.kinds.investigation import (
    EvidencePreservationDecision,
    InquiryRecord,
    InvestigationFinalReport,
    OnSiteRecord,
    PreservedItem,
)

from .context import (
    CHANNELS,
    EVIDENCE_KINDS,
    HARM,
    OUTCOMES,
    SEVERITY,
    SOURCES,
    VIOLATIONS,
    StepContext,
    attached_files,
    clause,
    evidence,
    handlers,
    join,
    label,
    lines_as_evidence,
    parse_moment,
    party,
    penalties,
)


def _head(ctx: StepContext, doc_number: str = "") -> dict[str, object]:
    return {"agency": ctx.agency.name, "case_number": ctx.case_number,
            "doc_number": ctx.doc_number or doc_number, "date": ctx.date}


def _complainant(ctx: StepContext) -> dict[str, object]:
    return ctx.case_data.get("complainant") or ctx.form_data.get("complainant") or {}


def _source(ctx: StepContext) -> str:
    return SOURCES.get(str(ctx.get("channel")), "投诉举报")


def _source_detail(ctx: StepContext) -> str:
    received = ctx.moment("received_at")
    when = f"{received:%Y年%m月%d日}登记" if received else ""
    return join([label(CHANNELS, ctx.get("channel")), when], "，")


def _source_line(ctx: StepContext) -> str:
    detail = _source_detail(ctx)
    return f"{_source(ctx)}（{detail}）" if detail else _source(ctx)


def _cause(ctx: StepContext) -> str:
    return ctx.text("case_cause") or label(VIOLATIONS, ctx.get("violation_type"))


def complaint_registration(ctx: StepContext) -> DocumentData:
    """投诉举报登记表 at the start event: the intake form is the step's form data."""
    who = _complainant(ctx)
    anonymous = bool(who.get("anonymous"))
    return ComplaintRegistration(
        **_head(ctx), channel=label(CHANNELS, ctx.get("channel")),
        received_at=ctx.moment("received_at") or ctx.local_time, anonymous=anonymous,
        complainant_name="" if anonymous else str(who.get("name") or ""),
        complainant_phone="" if anonymous else str(who.get("phone") or ""),
        complainant_address="" if anonymous else str(who.get("address") or ""),
        respondent=party(ctx), content=ctx.text("content"), registrar=ctx.actor_name,
        material=attached_files(ctx),
    )


_ACCEPTANCE = {"accept": "同意受理", "not_accept": "不予受理", "transfer": "移送"}


def case_acceptance(ctx: StepContext) -> DocumentData:
    """案件受理记录 (WS87 Art 25) for every 受理审查 outcome: the 负责人 records the decision."""
    decision = str(ctx.get("acceptance_decision"))
    detail = {"accept": join([ctx.text("unit"), "承办人：" + "、".join(ctx.names(ctx.get("case_officers")))], "，")
              if ctx.get("case_officers") else ctx.text("unit"),
              "not_accept": ctx.text("not_accepted_reason"),
              "transfer": ("移送" + ctx.text("transfer_agency")) if ctx.get("transfer_agency") else ""}.get(decision, "")
    opinion = join([label(_ACCEPTANCE, decision), detail, ctx.text("acceptance_opinion")], "。")
    return CaseAcceptance(
        **_head(ctx), source=_source(ctx), source_detail=_source_detail(ctx), party=party(ctx),
        summary=ctx.text("case_summary") or ctx.text("content"),
        accepted_by=ctx.actor_name, head_opinion=opinion, head=ctx.actor_name,
    )


def case_transfer(ctx: StepContext) -> DocumentData:
    """案件移送书: to the competent agency (受理阶段) or, 涉嫌犯罪, the judicial organ (Art 27)."""
    judicial = ctx.variant == "judicial"
    return CaseTransfer(
        **_head(ctx, ctx.text("transfer_number")), recipient=ctx.text("receiving_agency_name") or ctx.text("receiving_agency"), party=party(ctx),
        reason=ctx.text("transfer_reason"),
        summary=ctx.text("facts") or ctx.text("case_summary") or ctx.text("content"),
        legal_basis="《中华人民共和国行政处罚法》第二十七条第一款" if judicial else "",
        evidence=lines_as_evidence(ctx.text("evidence_list")) or (evidence(ctx) if judicial else ()),
        contact=ctx.actor_name,
    )


_PROPOSAL = {"file": "建议立案", "not_file": "建议不予立案"}
_FILING = {"file": "同意立案", "not_file": "不予立案"}


def case_filing_report(ctx: StepContext) -> DocumentData | None:
    """立案报告 (WS87 Art 26): drafted at 初步核查 (signed by the 承办人), approved at 立案审批 (负责人).

    A 不予立案 proposal/decision is recorded on the same form with its reason; the 简易程序 proposal has
    no 立案报告 (the 当场处罚决定书 is the step's paper).
    """
    proposal = str(ctx.get("check_proposal"))
    if proposal == "summary":
        return None
    handler_opinion = join([label(_PROPOSAL, proposal), ctx.text("not_file_reason")], "：")
    approval, approver, filing_date = "", "", None
    if ctx.variant == "approval":
        decision = str(ctx.get("filing_decision"))
        approval = join([label(_FILING, decision), ctx.text("not_filed_reason"), ctx.text("filing_opinion")], "。")
        approver = ctx.actor_name
        filing_date = ctx.date if decision == "file" else None
    return CaseFilingReport(
        **_head(ctx), cause=_cause(ctx), party=party(ctx), source=_source_line(ctx),
        summary=ctx.text("facts_found") or ctx.text("case_summary"), filing_basis=ctx.text("legal_basis"),
        handlers=handlers(ctx), handler_opinion=handler_opinion, approval_opinion=approval, approver=approver,
        filing_date=filing_date,
    )


def non_filing_notice(ctx: StepContext) -> DocumentData:
    """不予立案通知书 to a named complainant."""
    received = ctx.moment("received_at")
    return NonFilingNotice(
        **_head(ctx), recipient=str(_complainant(ctx).get("name") or ""),
        subject=join([party(ctx).name, label(VIOLATIONS, ctx.get("violation_type"))], "涉嫌"),
        received_date=received.date() if received else None,
        reason=ctx.text("not_filed_reason") or ctx.text("not_file_reason"),
    )


def complaint_result_notice(ctx: StepContext) -> DocumentData:
    """投诉举报处理结果告知书: 受理/立案/处理结果 feedback to a named complainant (never more than the outcome)."""
    received = ctx.moment("received_at")
    handling = {"not_accepted": "本机关经审查，决定不予受理。",
                "filing": "本机关经核查，已依法立案调查。" if ctx.get("case_filed") else "本机关已完成核查。",
                "result": "本机关已依法调查处理完毕。"}.get(ctx.variant or "", "")
    return ComplaintResultNotice(
        **_head(ctx), complainant_name=str(_complainant(ctx).get("name") or ""),
        received_date=received.date() if received else ctx.date, channel=label(CHANNELS, ctx.get("channel")),
        subject=join([party(ctx).name, label(VIOLATIONS, ctx.get("violation_type"))], "涉嫌"),
        handling=handling, result=ctx.text("feedback_content"), contact=ctx.actor_name,
    )


def on_site_record(ctx: StepContext) -> DocumentData:
    """现场笔录 (Art 55): the start and end as the officer entered them (in the agency's zone; the signing time is
    not the end), the 现场负责人, and the 被检查人's signature as taken on the screen."""
    officers = tuple(Officer(name=ctx.name(u), cert_number=ctx.cert(u, c))
                     for u, c in zip(ctx.get("inspectors") or (), _padded(ctx.get("cert_numbers")), strict=False))
    p = party(ctx)
    start = _entered(ctx, "inspected_at") or ctx.local_time
    end = _entered(ctx, "inspection_ended_at") or start  # a record made before the field existed: no end typed
    present = str(ctx.form_data.get("person_in_charge") or "")
    if not present:
        present = (p.legal_representative or "当事人在场（姓名未记录）") if ctx.get("party_present") else "当事人不在场"
    return OnSiteRecord(
        **_head(ctx), party=p, started_at=start, ended_at=max(start, end), place=ctx.text("place"),
        officers=officers, present_person=present, present_person_title=str(ctx.form_data.get("person_in_charge_title") or ""),
        findings=ctx.text("findings"), party_signature=party_signature(ctx),
    )


def _entered(ctx: StepContext, key: str) -> dt.datetime | None:
    """A time this step's form entered, in the agency's zone (never an earlier step's value of the same key)."""
    return parse_moment(ctx.form_data.get(key), ctx.agency.zone())


def party_signature(ctx: StepContext) -> PartySignature | None:
    """The party's signature this step took on the screen (form `party_signature`): drawn, or 拒绝签名 with the
    officers' note and a witness; None when the step took none (an earlier step's signature is not this one's)."""
    taken = ctx.form_data.get("party_signature")
    if not isinstance(taken, dict) or taken.get("mode") not in ("drawn", "refused"):
        return None
    if taken["mode"] == "drawn":
        return PartySignature(image=ctx.drawn_image(taken.get("image")), signer_name=str(taken.get("signer_name") or ""))
    return PartySignature(
        refused=True, refusal_note=str(taken.get("refusal_note") or ""), witness_name=str(taken.get("witness_name") or ""),
        witness_identity=str(taken.get("witness_identity") or ""), witness_image=ctx.drawn_image(taken.get("witness_signature")),
        av_record=str(taken.get("av_record") or ""),
    )


def _padded(values: object) -> list[str]:
    items = [str(v) for v in (values or ())]  # type: ignore[union-attr]
    return items + [""] * 8


_QA = re.compile(r"^\s*(问|答)\s*[:：]\s*(.*)$")


def question_answers(text: str) -> tuple[QA, ...]:
    """"问：…/答：…" lines as pairs; text in another shape is kept whole as one entry (never dropped)."""
    pairs: list[QA] = []
    question: str | None = None
    for line in text.splitlines():
        match = _QA.match(line)
        if not match:
            continue
        if match.group(1) == "问":
            if question is not None:
                pairs.append(QA(question=question, answer=""))
            question = match.group(2)
        else:
            pairs.append(QA(question=question or "", answer=match.group(2)))
            question = None
    if question is not None:
        pairs.append(QA(question=question, answer=""))
    return tuple(pairs) if pairs else (QA(question="询问内容", answer=text),)


def inquiry_record(ctx: StepContext) -> DocumentData:
    """询问笔录: the start and end as the officer entered them (in the agency's zone; the signing time is not the
    end); the model keeps the 问答 as one text; the step's actor is taken as 记录人."""
    start = _entered(ctx, "inquired_at") or ctx.local_time
    end = _entered(ctx, "inquiry_ended_at") or start  # a record made before the field existed: no end typed
    return InquiryRecord(
        **_head(ctx), interviewee_name=ctx.text("inquired_person"), interviewee_position=ctx.text("inquired_role"),
        party=party(ctx), started_at=start, ended_at=max(start, end), place=ctx.text("place"),
        interviewers=handlers(ctx), recorder=ctx.actor_name, qa=question_answers(ctx.text("questions_answers")),
        party_signature=party_signature(ctx),
    )


def evidence_preservation_decision(ctx: StepContext) -> DocumentData | None:
    """证据先行登记保存决定书 (Art 56), only when the 负责人 approves; the period ends at the 7-day limit."""
    if not ctx.get("preservation_approved"):
        return None
    items = tuple(PreservedItem(name=str(i.get("name") or ""), quantity=str(i.get("quantity") or ""),
                                note=label(EVIDENCE_KINDS, i.get("kind")))
                  for i in ctx.get("evidence_items") or () if isinstance(i, dict))
    end = ctx.due.astimezone(ctx.agency.zone()).date() if ctx.due else ctx.date
    return EvidencePreservationDecision(
        **_head(ctx), party=party(ctx), reason=clause(join([_cause(ctx), ctx.text("preservation_opinion")], "；")),
        items=items, storage_place=ctx.text("storage_place"), period_start=ctx.date, period_end=end,
        approver=ctx.actor_name, officers=handlers(ctx), party_signature=party_signature(ctx),
    )


def discretion_text(ctx: StepContext) -> str:
    """裁量情节 from the 调查终结报告 fields, plus the 裁量基准 — which one (《行政处罚法》第三十四条: the agency's
    published benchmark) and its rule — when the DMN has run."""
    parts = [f"违法情节：{label(SEVERITY, ctx.get('severity'))}" if ctx.get("severity") else "",
             label(HARM, ctx.get("harmful_consequence")) if ctx.get("harmful_consequence") else "",
             "初次违法" if ctx.get("first_offence") else "", "及时改正" if ctx.get("corrected_promptly") else "",
             f"违法所得{ctx.get('illegal_income')}元" if ctx.get("illegal_income") else ""]
    if ctx.get("benchmark_basis"):
        named = f"{ctx.text('benchmark_name')}，" if ctx.get("benchmark_name") else ""
        parts.append(f"裁量基准：{named}{ctx.text('benchmark_basis')}")
    return join(parts)


def investigation_final_report(ctx: StepContext) -> DocumentData:
    """案件调查终结报告 (also re-issued after 法制审核 补正, with the corrections and revised fine)."""
    correcting = ctx.variant == "correction"
    fine = ctx.get("revised_fine") if correcting else ctx.get("proposed_fine")
    proposal = label(OUTCOMES, ctx.get("proposed_outcome"))
    if correcting:
        proposal = join([proposal, f"补正内容：{ctx.text('corrections')}"], "。")
    return InvestigationFinalReport(
        **_head(ctx), party=party(ctx), cause=_cause(ctx), facts=ctx.text("facts"), evidence=evidence(ctx),
        characterization=ctx.text("legal_basis"), legal_basis=ctx.text("legal_basis"), discretion=discretion_text(ctx),
        proposal=proposal, proposed_penalties=penalties(ctx.get("proposed_warning"), fine), handlers=handlers(ctx),
    )
