"""挂牌督办 (issue 16): the supervising agency's 督办通知书 and the handling agency's 督办情况报告 (with the 销号 opinion).

Neither is served on the party: they pass between a superior agency and the agency handling the case, each signed
by the person who took the step (the supervisor's key, the reporting officer's key)."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import DocumentData, Party, dt


@dataclass(frozen=True, kw_only=True)
class SupervisionNotice(DocumentData):
    """督办通知书: which case, why, what the supervisor requires, by when, and how often progress is reported."""

    KIND = "supervision_notice"
    TITLE = "案件督办通知书"
    TITLE_EN = "Notice of case supervision"

    supervising_agency: str  # 督办机关 (the supervisor's agency)
    handling_agency: str  # 承办机关 (the case's agency)
    party: Party
    cause: str
    reason: str = ""
    instructions: str
    due_date: dt.date
    report_cycle: str  # e.g. "每10个工作日" (settings.json time_limits.supervision_report)
    supervisor: str


@dataclass(frozen=True, kw_only=True)
class SupervisionReport(DocumentData):
    """督办情况报告: the handling agency's progress (or final) report; at 销号 the supervisor's opinion is added."""

    KIND = "supervision_report"
    TITLE = "督办案件情况报告"
    TITLE_EN = "Report on a supervised case"

    supervising_agency: str
    handling_agency: str
    party: Party
    cause: str
    instructions: str
    progress: str
    next_steps: str = ""
    final: bool = False
    reporter: str = ""
    closing_opinion: str = ""  # 督办机关意见 at 销号
    closed: bool | None = None  # None: not yet answered
    supervisor: str = ""
