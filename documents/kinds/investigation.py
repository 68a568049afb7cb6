"""Investigation: 现场笔录, 询问笔录, 证据先行登记保存决定书, 案件调查终结报告."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import QA, DocumentData, Evidence, Officer, Party, PartySignature, Penalty, dt
from ._checks import at_least_two_officers


@dataclass(frozen=True, kw_only=True)
class OnSiteRecord(DocumentData):
    """现场笔录 (Art 55): objective description only, signed per page by the party and officers. The times are the
    ones the officer entered (the end is not the signing time); `party_signature` as taken on the screen."""

    KIND = "on_site_record"
    TITLE = "现场笔录"
    TITLE_EN = "On-site inspection record"

    party: Party
    started_at: dt.datetime
    ended_at: dt.datetime
    place: str
    officers: tuple[Officer, ...]
    present_person: str  # 现场负责人/在场人
    present_person_title: str = ""
    findings: str
    party_signature: PartySignature | None = None  # None: a blank line, signed on paper

    def __post_init__(self) -> None:
        at_least_two_officers(self.officers, "officers")


@dataclass(frozen=True, kw_only=True)
class InquiryRecord(DocumentData):
    """询问笔录: identity, 回避/如实陈述 notice, 问答 in the speaker's words, 核对无误."""

    KIND = "inquiry_record"
    TITLE = "询问笔录"
    TITLE_EN = "Inquiry record"

    interviewee_name: str
    interviewee_id_number: str = ""
    interviewee_position: str = ""
    interviewee_phone: str = ""
    relation: str = ""  # 与当事人关系
    party: Party
    started_at: dt.datetime
    ended_at: dt.datetime
    place: str
    interviewers: tuple[Officer, ...]
    recorder: str
    qa: tuple[QA, ...]
    party_signature: PartySignature | None = None  # 被询问人; None: a blank line, signed on paper

    def __post_init__(self) -> None:
        at_least_two_officers(self.interviewers, "interviewers")


@dataclass(frozen=True, kw_only=True)
class PreservedItem:
    """物品清单 row of a 先行登记保存 (名称、规格、批号、数量)."""

    name: str
    spec: str = ""
    batch: str = ""
    quantity: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class EvidencePreservationDecision(DocumentData):
    """证据先行登记保存决定书 (Art 56): 负责人批准; a 处理决定 within 7 working days."""

    KIND = "evidence_preservation_decision"
    TITLE = "证据先行登记保存决定书"
    TITLE_EN = "Decision to register and preserve evidence"
    SEALED = True

    party: Party
    reason: str
    legal_basis: str = "《中华人民共和国行政处罚法》第五十六条"
    items: tuple[PreservedItem, ...]
    storage_place: str
    period_start: dt.date
    period_end: dt.date
    approver: str = ""
    officers: tuple[Officer, ...] = ()
    party_signature: PartySignature | None = None  # 当事人 on the 清单; None: a blank line, signed on paper


@dataclass(frozen=True, kw_only=True)
class InvestigationFinalReport(DocumentData):
    """案件调查终结报告: facts, evidence, 定性/依据, 裁量情节, 处理建议."""

    KIND = "investigation_final_report"
    TITLE = "案件调查终结报告"
    TITLE_EN = "Final investigation report"

    party: Party
    cause: str
    facts: str
    evidence: tuple[Evidence, ...]
    characterization: str
    legal_basis: str
    discretion: str = ""
    proposal: str
    proposed_penalties: tuple[Penalty, ...] = ()
    handlers: tuple[Officer, ...]
