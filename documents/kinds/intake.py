"""Intake and filing: 投诉举报登记表, 案件受理记录, 案件移送书, 立案报告, 不予立案通知书."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import AttachedFile, DocumentData, Evidence, Officer, Party, dt
from ._checks import at_least_two_officers


@dataclass(frozen=True, kw_only=True)
class ComplaintRegistration(DocumentData):
    """投诉举报登记表 (local form). An anonymous complaint is still registered as a clue."""

    KIND = "complaint_registration"
    TITLE = "投诉举报登记表"
    TITLE_EN = "Complaint registration form"

    channel: str  # 12345 / 12320 / 来信 / 来访 / 网络
    received_at: dt.datetime
    anonymous: bool = False
    complainant_name: str = ""
    complainant_phone: str = ""
    complainant_address: str = ""
    respondent: Party
    content: str
    registrar: str
    assignment_opinion: str = ""  # 分办意见
    assigned_by: str = ""
    material: tuple[AttachedFile, ...] = ()  # what the complainant handed in, as the registration's record lists it


@dataclass(frozen=True, kw_only=True)
class CaseAcceptance(DocumentData):
    """案件受理记录 (WS87 Art 25): 案情摘要 with time, place, key evidence, harm; 负责人意见."""

    KIND = "case_acceptance"
    TITLE = "案件受理记录"
    TITLE_EN = "Case acceptance record"

    source: str  # 监督检查发现 / 投诉举报 / 上级交办 / 部门移送 …
    source_detail: str = ""
    party: Party
    summary: str
    accepted_by: str
    head_opinion: str = ""
    head: str = ""


@dataclass(frozen=True, kw_only=True)
class CaseTransfer(DocumentData):
    """案件移送书: to the competent agency or (涉嫌犯罪, Art 27) the judicial organ."""

    KIND = "case_transfer"
    TITLE = "案件移送书"
    TITLE_EN = "Case transfer letter"

    recipient: str
    party: Party
    reason: str
    summary: str
    legal_basis: str = ""
    evidence: tuple[Evidence, ...] = ()
    contact: str = ""
    contact_phone: str = ""


@dataclass(frozen=True, kw_only=True)
class CaseFilingReport(DocumentData):
    """立案报告 (WS87 Art 26): after 初步核实; ≥2 承办人; the 负责人 approves."""

    KIND = "case_filing_report"
    TITLE = "立案报告"
    TITLE_EN = "Case filing report"

    cause: str  # 案由
    party: Party
    source: str
    summary: str
    filing_basis: str
    handlers: tuple[Officer, ...]
    handler_opinion: str = ""
    approval_opinion: str = ""
    approver: str = ""
    filing_date: dt.date | None = None

    def __post_init__(self) -> None:
        at_least_two_officers(self.handlers, "handlers")


@dataclass(frozen=True, kw_only=True)
class NonFilingNotice(DocumentData):
    """不予立案通知书: tells the complainant or referring body why no case is filed."""

    KIND = "non_filing_notice"
    TITLE = "不予立案通知书"
    TITLE_EN = "Notice of non-filing"
    SEALED = True

    recipient: str
    subject: str
    received_date: dt.date | None = None
    reason: str
    legal_basis: str = ""
    remedy: str = ""
