"""Builders for 合议、告知、听证、审核、决定、送达、公示、结案 (《卫生行政执法文书规范》; docs/documents.md): `(StepContext) -> DocumentData | None`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from documents import DocumentData, Opinion, Vote
from documents.kinds.closing import CaseClosingReport, PublicationRecord, ServedDocument, ServiceReceipt
from documents.kinds.decision import (
    NoPenaltyDecision,
    OnTheSpotPenaltyDecision,
    PenaltyDecision,
    PenaltyPriorNotice,
)
from documents.kinds.hearing import HearingNotice, HearingRecord, HearingReport
from documents.kinds.review import (
    CollegialDeliberationRecord,
    LegalReviewOpinion,
    MajorCaseDiscussionRecord,
    ReviewConclusion,
    StatementDefenseRecord,
)

from .context import (
    CLOSING_REASONS,
    OUTCOMES,
    SERVICE_METHODS,
    VIOLATIONS,
    StepContext,
    amount,
    evidence,
    handlers,
    join,
    label,
    lines_as_evidence,
    party,
    penalties,
)
from .intake import discretion_text, question_answers


def _head(ctx: StepContext, doc_number: str = "") -> dict[str, Any]:
    return {"agency": ctx.agency.name, "case_number": ctx.case_number,
            "doc_number": ctx.doc_number or doc_number, "date": ctx.date}


def _cause(ctx: StepContext) -> str:
    return ctx.text("case_cause") or label(VIOLATIONS, ctx.get("violation_type"))


def _remedy(ctx: StepContext) -> dict[str, Any]:
    """⑤ 复议/诉讼: standing wording of the agency (settings), not typed per case."""
    return {"review_agency": ctx.agency.review_agency, "court": ctx.agency.court}


def _yuan(value: Any) -> str:
    fine = amount(value)
    return f"{fine:,.2f}元" if fine is not None else ""


# -- 合议 (deliberation.bpmn: parallel multi-instance vote, tallied by majority())
def collegial_deliberation_record(ctx: StepContext) -> DocumentData | None:
    """合议记录, produced by the vote that completes a round (earlier ballots exist only after the round).

    Every member's ballot is printed with its opinion; a ballot for another option than the majority is a
    dissent (不同意见如实记录). A round without majority is recorded too (the panel then votes again).
    """
    after = ctx.case_data_after
    if after is None:
        return None
    rounds_before = int(ctx.case_data.get("deliberation_rounds") or 0)
    if int(after.get("deliberation_rounds") or 0) <= rounds_before:
        return None  # not the last ballot of the round
    tally = after.get("tally") or {}
    decision = str(tally.get("decision") or "none")
    ballots = list(after.get("ballots") or ()) or list(tally.get("dissent") or ())  # reset after a failed round
    chair = str(ctx.get("presiding_member") or "")
    members = tuple(_opinion(ctx, b, chair, decision) for b in ballots if isinstance(b, Mapping))
    if decision == "none":
        conclusion = f"第{rounds_before + 1}轮合议未形成过半数意见，重新合议。"
    else:
        conclusion = f"合议意见（过半数）：{label(OUTCOMES, decision)}。"
    return CollegialDeliberationRecord(
        **_head(ctx), held_at=ctx.local_time, place="", chair=ctx.name(chair),
        recorder=ctx.name(ctx.get("recorder")) if ctx.get("recorder") else "", party=party(ctx), cause=_cause(ctx),
        case_summary=ctx.text("facts"), evidence_summary=ctx.text("evidence_summary"),
        characterization=ctx.text("legal_basis"), legal_basis=ctx.text("legal_basis"),
        discretion=discretion_text(ctx), members=members, conclusion=conclusion,
    )


def _opinion(ctx: StepContext, ballot: Mapping[str, Any], chair: str, decision: str) -> Opinion:
    choice = str(ballot.get("vote") or "")
    fine = _yuan(ballot.get("suggested_fine")) if choice == "penalty" else ""
    text = join([f"表决意见：{label(OUTCOMES, choice)}", f"建议罚款{fine}" if fine else "",
                 str(ballot.get("opinion") or "")], "；")
    member = str(ballot.get("member") or "")
    return Opinion(name=ctx.name(member), role="主持人" if member == chair else "合议人员", opinion=text,
                   vote=Vote.AGREE if choice == decision else Vote.DISAGREE)


# -- 告知、送达、陈述申辩
def penalty_prior_notice(ctx: StepContext) -> DocumentData:
    """行政处罚事先告知书 (Art 44): the notified facts and penalty; 听证 right from the hearing_right DMN."""
    basis = ctx.text("legal_basis")
    return PenaltyPriorNotice(
        **_head(ctx, ctx.text("notice_number")), party=party(ctx), facts=ctx.text("notified_facts"),
        evidence=evidence(ctx), violated_provision=basis, legal_basis=basis,
        discretion=ctx.text("notified_reasons"),
        penalties=penalties(ctx.get("notified_warning"), ctx.get("notified_fine"), ctx.get("notified_other")),
        statement_deadline_days=ctx.agency.statement_days,
        hearing_right=bool(ctx.get("hearing_right") or ctx.get("hearing_right_informed")),
        hearing_deadline_days=ctx.agency.hearing_request_days, contact=ctx.actor_name,
    )


# The 文书 a service serves, and where the case recorded its 文号 (the engine numbers it: x-document-number).
_SERVED = {"serves_notice": ("行政处罚事先告知书", ("notice_number",)),
           "serves_decision": ("行政处罚决定书", ("decision_number", "no_penalty_number"))}


def service_receipt(ctx: StepContext) -> DocumentData:
    """送达回执: which 文书 (title + 文号), to whom, how, when; refusal with witness (WJ13 Arts 53–55).
    The 文号 is the case's; a receipt signed before it was (typed in `document_number`) reads as it was."""
    title, number_keys = _SERVED.get(ctx.variant or "", ("", ()))
    recorded = (str(ctx.case_data.get(key) or "") for key in number_keys)
    number = ctx.text("document_number") or next((n for n in recorded if n), "")
    p = party(ctx)
    return ServiceReceipt(
        **_head(ctx), documents=(ServedDocument(title=title, doc_number=number),), recipient=p.name,
        method=label(SERVICE_METHODS, ctx.get("service_method")), served_at=ctx.moment("served_at") or ctx.local_time,
        receiver=ctx.text("recipient"), servers=(ctx.actor_name,), witness=ctx.text("witness"),
        refusal_note=ctx.text("refusal_note"),
    )


def statement_defense_record(ctx: StepContext) -> DocumentData:
    """陈述和申辩笔录 + 复核意见 (Art 45): the party's statement as recorded, and the officer's review."""
    p = party(ctx)
    attachments = ctx.get("attachments") if ctx.case_data.get("response") == "statement" else ()
    submitted = lines_as_evidence("\n".join(str(a.get("name") or "") for a in attachments or ()
                                            if isinstance(a, Mapping)))
    return StatementDefenseRecord(
        **_head(ctx), party=p, held_at=ctx.moment("response_at") or ctx.local_time, place="",
        speaker=p.legal_representative or p.name, recorder=ctx.actor_name, handlers=handlers(ctx),
        statement=ctx.text("statement_text"), evidence_submitted=submitted,
        review_opinion=join([ctx.text("review_opinion"),
                             f"复核后拟罚款{_yuan(ctx.get('revised_fine'))}" if amount(ctx.get("revised_fine")) else ""]),
        review_adopted=bool(ctx.get("statement_adopted")), reviewer=ctx.actor_name,
    )


# -- 听证 (hearing.bpmn)
def hearing_notice(ctx: StepContext) -> DocumentData:
    return HearingNotice(
        **_head(ctx), party=party(ctx), cause=_cause(ctx), hearing_at=ctx.moment("hearing_at") or ctx.local_time,
        place=ctx.text("hearing_place"), presider=ctx.name(ctx.get("hearing_chair")),
        clerk=ctx.name(ctx.get("hearing_clerk")) if ctx.get("hearing_clerk") else "",
        public=bool(ctx.get("public_hearing", True)), contact=ctx.actor_name,
    )


def hearing_record(ctx: StepContext) -> DocumentData:
    """听证笔录: the model keeps the record as one text; 问/答 lines become pairs."""
    start = ctx.moment("hearing_at") or ctx.local_time
    p = party(ctx)
    attendees = tuple([p.legal_representative or p.name] if ctx.get("party_appeared") else []) + \
        tuple(f"{a}（委托代理人）" for a in (ctx.get("agents") or ()) if a)
    return HearingRecord(
        **_head(ctx), party=p, cause=_cause(ctx), started_at=start, ended_at=max(start, ctx.local_time),
        place=ctx.text("hearing_place"), presider=ctx.name(ctx.get("hearing_chair")),
        clerk=ctx.name(ctx.get("hearing_clerk")) if ctx.get("hearing_clerk") else "",
        public=bool(ctx.get("public_hearing", True)), investigators=handlers(ctx), party_attendees=attendees,
        proceedings=question_answers(ctx.text("hearing_record_text")), refusal_note=ctx.text("refusal_note"),
    )


_RECOMMENDATION = {"maintain": "维持拟处罚意见", "reduce": "减轻处罚", "no_penalty": "不予行政处罚"}


def hearing_report(ctx: StepContext) -> DocumentData:
    """听证报告 (Art 65: the decision follows the 笔录)."""
    fine = _yuan(ctx.get("recommended_fine"))
    return HearingReport(
        **_head(ctx), party=party(ctx), cause=_cause(ctx), hearing_at=ctx.moment("hearing_at") or ctx.local_time,
        presider=ctx.name(ctx.get("hearing_chair")), summary=ctx.text("hearing_record_text"),
        investigators_view=ctx.text("notified_facts"), party_view=ctx.text("statement_text"),
        findings=ctx.text("reasoning"),
        opinion=join([label(_RECOMMENDATION, ctx.get("hearing_recommendation")), f"建议罚款{fine}" if fine else ""], "，"),
    )


# -- 法制审核、集体讨论
_CONCLUSIONS = {"approve": ReviewConclusion.APPROVE, "correct": ReviewConclusion.AMEND,
                "disagree": ReviewConclusion.REJECT}


def _check(ctx: StepContext, item: str, yes: str) -> str:
    """One of the five items as the reviewer judged it: confirmed, or not with the reason written for it (an
    unconfirmed item under 同意 needs one: the legal_review gate and form)."""
    if ctx.get(f"check_{item}"):
        return yes
    reason = str(ctx.form_data.get(f"reason_{item}") or "").strip()  # this review's own: not an earlier round's
    return f"未确认“{yes}”。理由：{reason}" if reason else f"未确认“{yes}”（见审核意见）"


def legal_review_opinion(ctx: StepContext) -> DocumentData:
    """法制审核意见书 (Art 58): the five checks as the reviewer ticked them, and the conclusion."""
    conclusion = _CONCLUSIONS.get(str(ctx.get("legal_conclusion")), ReviewConclusion.REJECT)
    return LegalReviewOpinion(
        **_head(ctx), party=party(ctx), cause=_cause(ctx),
        submitted_by="、".join(ctx.names(ctx.get("case_officers"))),
        jurisdiction=_check(ctx, "jurisdiction", "执法主体、管辖合法"),
        facts_evidence=_check(ctx, "facts", "事实清楚、证据确凿"),
        characterization_basis=_check(ctx, "basis", "定性准确、适用依据正确"),
        procedure=_check(ctx, "procedure", "程序合法"), discretion=_check(ctx, "discretion", "裁量适当"),
        conclusion=conclusion, conclusion_detail=ctx.text("legal_opinion"), reviewer=ctx.actor_name,
        reviewer_qualification="已取得法律职业资格" if ctx.get("reviewer_qualified") else "",
    )


def _own_line(text: str, name: str) -> str:
    for line in text.splitlines():
        if name and re.match(rf"\s*{re.escape(name)}\s*[:：]", line):
            return line.split("：", 1)[-1].split(":", 1)[-1].strip()
    return ""


def _vote_in(text: str) -> Vote:
    if "不同意" in text or "反对" in text:
        return Vote.DISAGREE
    if "弃权" in text:
        return Vote.ABSTAIN
    return Vote.AGREE


def major_case_discussion_record(ctx: StepContext) -> DocumentData:
    """重大案件集体讨论记录 (Art 57 para 2).

    The form keeps 各人意见 as one text: a line "姓名：意见" is that participant's row and its vote is read
    from it (不同意/反对, 弃权, else 同意); the full text is kept in the 汇报 field so nothing is lost.
    """
    text = ctx.text("individual_opinions")
    rows = []
    for uid in ctx.get("participants") or ():
        own = _own_line(text, ctx.name(uid))
        rows.append(Opinion(name=ctx.name(uid), role="负责人", opinion=own or "（见各人意见）", vote=_vote_in(own)))
    return MajorCaseDiscussionRecord(
        **_head(ctx), held_at=ctx.local_time, place="", chair=ctx.actor_name, recorder=ctx.actor_name,
        participants=tuple(rows), attendees=ctx.names(ctx.get("attendees")), party=party(ctx), cause=_cause(ctx),
        report=join([ctx.text("discussion_summary"), f"各人意见：{text}" if text else ""], "\n"),
        decision=label(OUTCOMES, ctx.get("collective_decision")),
    )


# -- 决定
def procedure_note(ctx: StepContext) -> str:
    """告知/陈述申辩/听证/法制审核 history, from what the case recorded (printed in the 决定书)."""
    served = ctx.moment("notice_served_at")
    parts = []
    if served:
        number = f"（{ctx.text('notice_number')}）" if ctx.get("notice_number") else ""
        parts.append(f"本机关于{served:%Y年%m月%d日}向你（单位）送达《行政处罚事先告知书》{number}")
    response = ctx.case_data.get("party_response") or ctx.case_data.get("response")
    parts.append({"statement": "你（单位）提出陈述申辩，经复核，" + ("理由成立，予以采纳" if ctx.get("statement_adopted")
                                                               else "理由不成立，不予采纳"),
                  "hearing_request": "你（单位）要求举行听证，本机关依法举行了听证" if ctx.get("hearing_held")
                  else "你（单位）要求举行听证",
                  "waiver": "你（单位）明确放弃陈述申辩和听证的权利"}.get(str(response), ""))
    if not response and ctx.get("response_window_closed"):
        parts.append("你（单位）在规定期限内未提出陈述申辩或听证申请")
    if ctx.get("legal_review_passed"):
        parts.append("本案已经法制审核")
    return join(parts, "；") + ("。" if any(parts) else "")


def penalty_decision(ctx: StepContext) -> DocumentData:
    """行政处罚决定书 (Art 59 ①–⑥); the 文号 is the engine's allocation, else the one typed in the form."""
    basis = ctx.text("basis") or ctx.text("legal_basis")
    decided = ctx.moment("decision_date")
    head = _head(ctx, ctx.text("decision_number"))
    if decided:
        head["date"] = decided.date()
    return PenaltyDecision(
        **head, party=party(ctx), facts=ctx.text("facts_and_evidence") or ctx.text("facts"), evidence=evidence(ctx),
        violated_provision=ctx.text("legal_basis"), legal_basis=basis, discretion=discretion_text(ctx),
        procedure_note=procedure_note(ctx),
        penalties=penalties(ctx.get("final_warning"), ctx.get("final_fine"), ctx.get("other_measures"), ctx.form_data),
        correction=ctx.text("correction_order"),
        payment_method=ctx.text("performance"), payment_deadline_days=ctx.agency.payment_days, **_remedy(ctx),
    )


_GROUNDS = {  # 不予处罚 ground -> (wording, legal basis)
    "minor": ("违法行为轻微并及时改正，没有造成危害后果", "《中华人民共和国行政处罚法》第三十三条第一款"),
    "first_offence": ("初次违法且危害后果轻微并及时改正", "《中华人民共和国行政处罚法》第三十三条第一款"),
    "no_fault": ("当事人有证据足以证明没有主观过错", "《中华人民共和国行政处罚法》第三十三条第二款"),
    "facts_not_established": ("违法事实不能成立", "《中华人民共和国行政处罚法》第五十七条第一款第三项"),
}


def no_penalty_decision(ctx: StepContext) -> DocumentData:
    """不予行政处罚决定书 (Art 33 / Art 57(1)(3)); education per Art 33 para 3 when given."""
    ground, basis = _GROUNDS.get(str(ctx.get("no_penalty_ground")), (str(ctx.get("no_penalty_ground") or ""), ""))
    decided = ctx.moment("decision_date")
    head = _head(ctx, ctx.text("no_penalty_number"))
    if decided:
        head["date"] = decided.date()
    return NoPenaltyDecision(
        **head, party=party(ctx), facts=ctx.text("facts"), evidence=evidence(ctx), ground=ground, legal_basis=basis,
        education="本机关已对当事人进行教育（《中华人民共和国行政处罚法》第三十三条第三款）。" if ctx.get("education_given") else "",
        **_remedy(ctx),
    )


def on_the_spot_penalty_decision(ctx: StepContext) -> DocumentData:
    """当场行政处罚决定书 (Art 52), signed by the officers; 当场收缴 only under Art 68."""
    basis = ctx.text("legal_basis")
    payment = ("当场收缴罚款（《中华人民共和国行政处罚法》第六十八条）" if ctx.get("collected_on_spot")
               else f"自收到本决定书之日起{ctx.agency.payment_days}日内到指定的银行或者通过电子支付系统缴纳罚款"
                    "（《中华人民共和国行政处罚法》第六十七条）")
    return OnTheSpotPenaltyDecision(
        **_head(ctx, ctx.text("summary_number")), party=party(ctx),
        occurred_at=ctx.moment("summary_decided_at") or ctx.local_time, place=ctx.text("place"),
        violation=ctx.text("violation_facts"), violated_provision=basis, legal_basis=basis,
        penalties=penalties(ctx.get("penalty_warning"), ctx.get("summary_fine")), payment_method=payment,
        payment_deadline_days=ctx.agency.payment_days, officers=handlers(ctx), **_remedy(ctx),
    )


# -- 公示、结案
def publication_record(ctx: StepContext) -> DocumentData | None:
    """行政处罚信息公示 (双公示): prepared, released, or withdrawn; nothing when it is not published."""
    if ctx.variant == "prepare" and not ctx.get("publish"):
        return None
    record = public_record(ctx)
    if ctx.variant == "withdraw":
        when = ctx.moment("withdrawn_at") or ctx.local_time
        record = _replace(record, result=f"（已于{when:%Y年%m月%d日}撤回公示：{ctx.text('withdrawal_reason')}）"
                                         f"{record.result}")
    return record


def _replace(record: PublicationRecord, **changes: Any) -> PublicationRecord:
    from dataclasses import replace

    return replace(record, **changes)


def public_record(ctx: StepContext) -> PublicationRecord:
    """The 公示 record of the decision, as the officer redacted it (`redacted_summary`) or from the facts."""
    fines = penalties(ctx.get("final_warning"), ctx.get("final_fine"), ctx.get("other_measures"))
    decided = ctx.moment("decision_date")
    return PublicationRecord(
        **_head(ctx), decision_number=ctx.text("decision_number"),
        penalty_name="；".join(p.kind for p in fines), party=party(ctx),
        reason=ctx.text("redacted_summary") or _cause(ctx), legal_basis=ctx.text("basis") or ctx.text("legal_basis"),
        result="，".join(p.kind + (f"人民币{p.amount:,.2f}元" if p.amount is not None else "") for p in fines),
        decision_date=decided.date() if decided else ctx.date,
    )


def case_closing_report(ctx: StepContext) -> DocumentData:
    """结案报告: drafted by the 承办人 at 结案报告, approved by the 负责人 at 结案审批."""
    approving = ctx.variant == "approval"
    opinion = join(["同意结案" if ctx.get("closing_approved") else "不同意结案", ctx.text("closing_opinion")], "。")
    final = penalties(ctx.get("final_warning") or ctx.get("penalty_warning"),
                      ctx.get("final_fine") or ctx.get("summary_fine"), ctx.get("other_measures"))
    return CaseClosingReport(
        **_head(ctx), party=party(ctx), cause=_cause(ctx),
        decision_number=ctx.text("decision_number") or ctx.text("no_penalty_number") or ctx.text("summary_number"),
        penalties=final, execution=ctx.text("execution_summary"),
        closing_reason=join([label(CLOSING_REASONS, ctx.get("closing_reason")), ctx.text("closing_summary")], "。"),
        handlers=handlers(ctx), approval_opinion=opinion if approving else "",
        approver=ctx.actor_name if approving else "",
    )
