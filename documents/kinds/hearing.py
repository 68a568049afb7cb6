"""Hearing (行政处罚法 Arts 63–65): 听证告知书, 听证通知书, 听证笔录, 听证报告."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import QA, DocumentData, Officer, Party, Penalty, dt


@dataclass(frozen=True, kw_only=True)
class HearingRightsNotice(DocumentData):
    """听证告知书: the party may request a hearing within 5 working days (Art 64)."""

    KIND = "hearing_rights_notice"
    TITLE = "听证告知书"
    TITLE_EN = "Notice of the right to a hearing"
    SEALED = True

    party: Party
    facts: str
    legal_basis: str
    penalties: tuple[Penalty, ...]
    request_deadline_days: int = 5
    contact: str = ""
    contact_phone: str = ""
    agency_address: str = ""


@dataclass(frozen=True, kw_only=True)
class HearingNotice(DocumentData):
    """听证通知书: served ≥7 working days before the hearing, names the 主持人 (回避 right)."""

    KIND = "hearing_notice"
    TITLE = "听证通知书"
    TITLE_EN = "Hearing notice"
    SEALED = True

    party: Party
    cause: str
    hearing_at: dt.datetime
    place: str
    presider: str
    clerk: str
    public: bool = True
    contact: str = ""
    contact_phone: str = ""


@dataclass(frozen=True, kw_only=True)
class HearingRecord(DocumentData):
    """听证笔录: checked and signed by the party; the 主持人 notes a refusal (Art 64(8))."""

    KIND = "hearing_record"
    TITLE = "听证笔录"
    TITLE_EN = "Hearing record"

    party: Party
    cause: str
    started_at: dt.datetime
    ended_at: dt.datetime
    place: str
    presider: str
    clerk: str
    public: bool = True
    investigators: tuple[Officer, ...]
    party_attendees: tuple[str, ...]
    proceedings: tuple[QA, ...]
    final_statement: str = ""
    refusal_note: str = ""


@dataclass(frozen=True, kw_only=True)
class HearingReport(DocumentData):
    """听证报告: the 主持人's summary and opinion; the decision follows the 笔录 (Art 65)."""

    KIND = "hearing_report"
    TITLE = "听证报告"
    TITLE_EN = "Hearing report"

    party: Party
    cause: str
    hearing_at: dt.datetime
    presider: str
    summary: str
    investigators_view: str
    party_view: str
    findings: str
    opinion: str
