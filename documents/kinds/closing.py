"""Service, closing and follow-up: 送达回执, 结案报告, 公示 record, 投诉举报处理结果告知."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import DocumentData, Officer, Party, PartyKind, Penalty, dt


@dataclass(frozen=True, kw_only=True)
class ServedDocument:
    """One 文书 listed on a 送达回执."""

    title: str
    doc_number: str = ""


@dataclass(frozen=True, kw_only=True)
class ServiceReceipt(DocumentData):
    """送达回执 (WJ13 Arts 53–55): who received what, how, when; refusal with 见证人 or photo/video."""

    KIND = "service_receipt"
    TITLE = "送达回执"
    TITLE_EN = "Service receipt"

    documents: tuple[ServedDocument, ...]
    recipient: str
    method: str  # 直接送达 / 留置送达 / 邮寄送达 / 电子送达 / 委托送达
    place: str = ""
    served_at: dt.datetime
    receiver: str = ""  # 签收人 (may be 同住成年家属/收件人)
    receiver_relation: str = ""
    servers: tuple[str, ...]
    witness: str = ""
    refusal_note: str = ""


@dataclass(frozen=True, kw_only=True)
class CaseClosingReport(DocumentData):
    """结案报告: 处罚内容, 执行情况, 结案理由; the 负责人 approves."""

    KIND = "case_closing_report"
    TITLE = "结案报告"
    TITLE_EN = "Case closing report"

    party: Party
    cause: str
    decision_number: str = ""
    penalties: tuple[Penalty, ...] = ()
    execution: str
    closing_reason: str
    handlers: tuple[Officer, ...]
    approval_opinion: str = ""
    approver: str = ""


_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def redact(text: str) -> str:
    """Mask 身份证号 and mobile numbers in free text before publication (《政府信息公开条例》第十五条)."""
    text = _ID_NUMBER.sub(r"\1********\2", text)
    return _MOBILE.sub(r"\1****\2", text)


@dataclass(frozen=True, kw_only=True)
class PublicationRecord(DocumentData):
    """行政处罚信息公示 record: the 双公示 fields only, with personal data removed.

    Redaction happens here, not in the template, so every consumer of the record (PDF, public page)
    shows the same masked text: a natural person's 身份证号, address and phone are never published.
    """

    KIND = "publication_record"
    TITLE = "行政处罚信息公示"
    TITLE_EN = "Publication of the administrative penalty"

    decision_number: str
    penalty_name: str  # 处罚名称/类别
    party: Party
    reason: str  # 处罚事由
    legal_basis: str
    result: str  # 处罚结果
    decision_date: dt.date
    publication_period: str = ""

    @property
    def public_party_id(self) -> str:
        # A natural person's 身份证号 is never published, not even masked.
        return self.party.credit_code if self.party.kind is PartyKind.ORGANIZATION else ""

    @property
    def public_address(self) -> str:
        return self.party.address if self.party.kind is PartyKind.ORGANIZATION else ""

    @property
    def public_reason(self) -> str:
        return redact(self.reason)

    @property
    def public_result(self) -> str:
        return redact(self.result)


@dataclass(frozen=True, kw_only=True)
class ComplaintResultNotice(DocumentData):
    """投诉举报处理结果告知: to a 实名 complainant; never discloses more than the outcome (SAMR Art 33)."""

    KIND = "complaint_result_notice"
    TITLE = "投诉举报处理结果告知书"
    TITLE_EN = "Notice of the complaint's outcome"
    SEALED = True

    complainant_name: str
    received_date: dt.date
    channel: str
    subject: str
    handling: str
    result: str
    remedy: str = ""
    contact: str = ""
    contact_phone: str = ""
