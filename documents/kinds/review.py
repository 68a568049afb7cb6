"""Deliberation and review: 合议记录, 陈述和申辩笔录/复核意见, 法制审核意见书, 重大案件集体讨论记录."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..model import DocumentData, Evidence, Officer, Opinion, Party, Vote, dt


def _tally(opinions: tuple[Opinion, ...]) -> dict[str, int]:
    counts = {v.label: 0 for v in Vote}
    for o in opinions:
        counts[o.vote.label] += 1
    return counts


@dataclass(frozen=True, kw_only=True)
class CollegialDeliberationRecord(DocumentData):
    """合议记录: every member's opinion and vote; dissent is recorded, never dropped (全过程记录).

    The number of members is not fixed by statute ("≥3, odd" is local practice: settings.json `panel.size`), so
    it is not enforced here; the workflow settings decide.
    """

    KIND = "collegial_deliberation_record"
    TITLE = "合议记录"
    TITLE_EN = "Collegial deliberation record"

    held_at: dt.datetime
    place: str
    chair: str
    recorder: str
    party: Party
    cause: str
    case_summary: str
    evidence_summary: str
    characterization: str
    legal_basis: str
    discretion: str = ""
    members: tuple[Opinion, ...]
    conclusion: str
    dissent: str = ""

    @property
    def tally(self) -> dict[str, int]:
        return _tally(self.members)

    @property
    def dissenters(self) -> tuple[Opinion, ...]:
        return tuple(m for m in self.members if m.vote is not Vote.AGREE)


@dataclass(frozen=True, kw_only=True)
class StatementDefenseRecord(DocumentData):
    """陈述和申辩笔录 with 复核意见 (Art 45: must 复核; 不得因陈述申辩加重处罚)."""

    KIND = "statement_defense_record"
    TITLE = "陈述和申辩笔录"
    TITLE_EN = "Statement and defence record"

    party: Party
    held_at: dt.datetime
    place: str
    speaker: str
    recorder: str
    handlers: tuple[Officer, ...] = ()
    statement: str
    evidence_submitted: tuple[Evidence, ...] = ()
    review_opinion: str
    review_adopted: bool
    reviewer: str = ""


class ReviewConclusion(Enum):
    """法制审核 conclusion (Art 58: 未经审核或审核未通过不得作出决定)."""

    APPROVE = "approve"
    AMEND = "amend"
    REJECT = "reject"

    @property
    def label(self) -> str:
        return {"approve": "同意", "amend": "补正后再审", "reject": "不同意"}[self.value]


@dataclass(frozen=True, kw_only=True)
class LegalReviewOpinion(DocumentData):
    """法制审核意见书: 主体/管辖, 事实证据, 定性依据, 程序, 裁量 and the conclusion."""

    KIND = "legal_review_opinion"
    TITLE = "法制审核意见书"
    TITLE_EN = "Legal review opinion"

    party: Party
    cause: str
    submitted_by: str
    jurisdiction: str
    facts_evidence: str
    characterization_basis: str
    procedure: str
    discretion: str
    conclusion: ReviewConclusion
    conclusion_detail: str = ""
    reviewer: str
    reviewer_qualification: str = ""  # 法律职业资格证书编号 (first-time reviewers)
    head: str = ""


@dataclass(frozen=True, kw_only=True)
class MajorCaseDiscussionRecord(DocumentData):
    """重大案件集体讨论记录 (Art 57 para 2): 负责人 each state an opinion; the decision follows."""

    KIND = "major_case_discussion_record"
    TITLE = "重大案件集体讨论记录"
    TITLE_EN = "Record of the collective discussion of a major case"

    held_at: dt.datetime
    place: str
    chair: str
    recorder: str
    participants: tuple[Opinion, ...]
    attendees: tuple[str, ...] = ()  # 列席
    party: Party
    cause: str
    report: str  # 承办人汇报
    decision: str

    @property
    def tally(self) -> dict[str, int]:
        return _tally(self.participants)
