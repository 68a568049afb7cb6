"""Shared value types for the 文书: the common header and the parts several documents reuse.

Every document is a frozen, keyword-only dataclass, so the engine cannot build one positionally by
mistake and a rendered record can be reproduced from its data alone (see `render.verification_code`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import ClassVar


class PartyKind(Enum):
    """当事人 type: the 决定书 prints 统一社会信用代码 for organisations, 身份证号 for citizens."""

    ORGANIZATION = "organization"
    INDIVIDUAL = "individual"


class Vote(Enum):
    """A 合议/集体讨论 member's vote."""

    AGREE = "agree"
    DISAGREE = "disagree"
    ABSTAIN = "abstain"

    @property
    def label(self) -> str:
        return {"agree": "同意", "disagree": "不同意", "abstain": "弃权"}[self.value]


@dataclass(frozen=True, kw_only=True)
class Party:
    """当事人 / 被投诉对象 / 受送达人."""

    name: str
    kind: PartyKind = PartyKind.ORGANIZATION
    credit_code: str = ""  # 统一社会信用代码
    legal_representative: str = ""  # 法定代表人/负责人
    id_number: str = ""  # 身份证号 (individuals; redacted on publication)
    address: str = ""
    phone: str = ""


@dataclass(frozen=True, kw_only=True)
class Officer:
    """执法人员 with 执法证号 (Art 42: shown to the party; ≥2 officers)."""

    name: str
    cert_number: str = ""


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """One item of evidence (Art 46 types: 书证、物证、视听资料、电子数据、证人证言、当事人的陈述、鉴定意见、勘验笔录、现场笔录)."""

    name: str
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class AttachedFile:
    """A file the step's signed record lists (a photo, a recording, a letter handed in): the 文书 names it with
    its SHA-256, so the paper and the record point at the same bytes."""

    name: str
    media_type: str
    size: int
    sha256: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Penalty:
    """One penalty kind (警告, 罚款, 没收违法所得 …) and its amount where it has one."""

    kind: str
    amount: Decimal | None = None
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class Opinion:
    """A member's opinion and vote in 合议/集体讨论; dissent is kept verbatim (全过程记录)."""

    name: str
    role: str = ""
    opinion: str
    vote: Vote = Vote.AGREE


@dataclass(frozen=True, kw_only=True)
class QA:
    """One question/answer pair of an 询问笔录/听证笔录 (原话 for key facts)."""

    question: str
    answer: str
    speaker: str = ""


#: a drawn signature is embedded as this kind of data URL only (nothing else reaches an <img> of a template)
PNG_DATA_URL = "data:image/png;base64,"


@dataclass(frozen=True, kw_only=True)
class PartySignature:
    """The party's (被检查人/被询问人/当事人) signature on a 笔录 or 清单, taken on the terminal's screen: a drawn
    image (`image`, a PNG data URL), or 拒绝签名 with the officers' note of the refusal and a witness."""

    image: str = ""
    signer_name: str = ""
    refused: bool = False
    refusal_note: str = ""
    witness_name: str = ""
    witness_identity: str = ""  # 工作单位 or 身份证件号码
    witness_image: str = ""  # the witness's drawn signature, when taken
    av_record: str = ""  # the 执法记录仪 file that recorded the refusal

    def __post_init__(self) -> None:
        from .errors import DocumentDataError

        for name in ("image", "witness_image"):
            value = getattr(self, name)
            if value and not value.startswith(PNG_DATA_URL):
                raise DocumentDataError(f"{name}: a drawn signature must be a PNG data URL", field=name)
        if self.refused and not (self.refusal_note and self.witness_name):
            raise DocumentDataError("拒绝签名须注明情况并有见证人 (a refusal needs the officers' note and a witness)",
                                    field="refusal_note" if not self.refusal_note else "witness_name")
        if not self.refused and not self.image:
            raise DocumentDataError("image: a party signature is drawn or refused", field="image")


@dataclass(frozen=True, kw_only=True)
class DocumentData:
    """Common header: agency (制作机关), case number, 文号, date. Subclasses set KIND, TITLE and TITLE_EN (the
    title on English pages; the 文书 itself is always Chinese)."""

    KIND: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    TITLE_EN: ClassVar[str] = ""
    #: True for documents served on the party that bear the 机关印章 (sealed after signing).
    SEALED: ClassVar[bool] = False

    agency: str
    case_number: str
    doc_number: str = ""  # 文号, e.g. 呈卫罚〔2026〕001号
    date: dt.date

    @property
    def title(self) -> str:
        return self.TITLE


__all__ = [
    "QA",
    "AttachedFile",
    "DocumentData",
    "Evidence",
    "Officer",
    "Opinion",
    "Party",
    "PartySignature",
    "PartyKind",
    "Penalty",
    "Vote",
    "Decimal",
    "dt",
]
