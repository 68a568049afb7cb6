"""Notice and decision: 行政处罚事先告知书, 当场/普通 行政处罚决定书, 不予行政处罚决定书."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import DocumentData, Evidence, Officer, Party, Penalty, dt
from ._checks import at_least_two_officers


@dataclass(frozen=True, kw_only=True)
class PenaltyPriorNotice(DocumentData):
    """行政处罚事先告知书 (Art 44): 拟处罚内容, 事实, 理由, 依据, and the 陈述申辩/听证 rights.

    The law sets no reply window for 陈述申辩; 3 or 5 working days is form practice, hence a field.
    """

    KIND = "penalty_prior_notice"
    TITLE = "行政处罚事先告知书"
    TITLE_EN = "Prior notice of administrative penalty"
    SEALED = True

    party: Party
    facts: str
    evidence: tuple[Evidence, ...] = ()
    violated_provision: str
    legal_basis: str
    discretion: str = ""
    penalties: tuple[Penalty, ...]
    statement_deadline_days: int = 5
    hearing_right: bool = False
    hearing_deadline_days: int = 5
    contact: str = ""
    contact_phone: str = ""
    agency_address: str = ""


@dataclass(frozen=True, kw_only=True)
class PenaltyDecision(DocumentData):
    """行政处罚决定书 (普通程序), every Art 59 item; bears the 机关印章 (sealed after signing)."""

    KIND = "penalty_decision"
    TITLE = "行政处罚决定书"
    TITLE_EN = "Administrative penalty decision"
    SEALED = True

    party: Party
    facts: str  # ② 违法事实
    evidence: tuple[Evidence, ...]  # ② 证据
    violated_provision: str
    legal_basis: str  # ③ 依据
    discretion: str = ""
    procedure_note: str = ""  # 告知/陈述申辩/听证 history and the 复核 result
    penalties: tuple[Penalty, ...]  # ③ 种类
    correction: str = ""  # 责令改正 (Art 28: ordered with the penalty, not a penalty itself)
    payment_method: str  # ④ 履行方式
    payment_deadline_days: int = 15  # ④ 期限 (Art 67)
    review_agency: str  # ⑤ 复议机关
    review_days: int = 60  # 行政复议法: 60 days
    court: str  # ⑤ 人民法院
    litigation_months: int = 6  # 行政诉讼法 Art 46: 6 months


@dataclass(frozen=True, kw_only=True)
class OnTheSpotPenaltyDecision(DocumentData):
    """当场行政处罚决定书 (简易程序, Art 52): signed by the officers, 报机关备案."""

    KIND = "on_the_spot_penalty_decision"
    TITLE = "当场行政处罚决定书"
    TITLE_EN = "On-the-spot administrative penalty decision"

    party: Party
    occurred_at: dt.datetime
    place: str
    violation: str
    violated_provision: str
    legal_basis: str
    penalties: tuple[Penalty, ...]
    payment_method: str
    payment_deadline_days: int = 15
    review_agency: str
    review_days: int = 60
    court: str
    litigation_months: int = 6
    officers: tuple[Officer, ...]

    def __post_init__(self) -> None:
        at_least_two_officers(self.officers, "officers")


@dataclass(frozen=True, kw_only=True)
class NoPenaltyDecision(DocumentData):
    """不予行政处罚决定书 (Art 33 / Art 57(2)(3)): the ground and the education given."""

    KIND = "no_penalty_decision"
    TITLE = "不予行政处罚决定书"
    TITLE_EN = "Decision not to impose an administrative penalty"
    SEALED = True

    party: Party
    facts: str
    evidence: tuple[Evidence, ...] = ()
    ground: str
    legal_basis: str
    education: str = ""
    review_agency: str
    review_days: int = 60
    court: str
    litigation_months: int = 6
