"""Published penalty decisions (双公示): written when the publication steps complete, read by /public.

行政处罚法 第四十八条: decisions of a certain public impact are published; if a decision is changed, revoked or
found void the publication is withdrawn within three working days with the reason. Which decisions are
published is the officers' call in `prepare_publication` (never a minor, 政府信息公开条例 第十五条); the
`release_publication` step records that it went online, and `withdraw_publication` that it was withdrawn.
Those step ids are the process model's (workflows/publication.bpmn, case_procedure.bpmn).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.db.publication_tables import PublicationRow
from engine.db.tables import CaseEventRow, CaseRow, TaskRow
from engine.errors import NotFound, ValidationError
from engine.services import Services

PREPARE_STEP = "prepare_publication"
DECISION_STEP = "make_decision"
RELEASE_STEP = "release_publication"
WITHDRAW_STEP = "withdraw_publication"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_PAGE = 200


@dataclass(frozen=True)
class PublicationView:
    """What the public may read of one published decision, as stored: web/redaction.py masks it for /public."""

    case_id: int
    decision_number: str
    party: str
    party_credit_code: str
    violation: str
    warning: bool
    fine: float | None
    other_measures: str
    basis: str
    decision_date: dt.date | None
    summary: str
    released_at: dt.datetime
    url: str
    withdrawn: bool
    withdrawn_at: dt.datetime | None
    withdrawal_reason: str


@dataclass(frozen=True)
class PublicationList:
    items: tuple[PublicationView, ...]
    total: int


# --- writing: inside complete_task's transaction -----------------------------------------------------
def record_publication_step(session: Session, *, case: CaseRow, task_id: str, spec_id: str,
                            form_data: dict[str, Any], now: dt.datetime) -> None:
    """Keep `publications` in step with the case: a release inserts the row, a withdrawal marks it.

    Called for every completed step (in the step's transaction, so the row commits with the step or not
    at all); steps other than release and withdrawal change nothing.
    """
    if spec_id == RELEASE_STEP:
        _release(session, case, task_id, form_data, now)
    elif spec_id == WITHDRAW_STEP:
        _withdraw(session, case, task_id, form_data, now)


def _release(session: Session, case: CaseRow, task_id: str, released: dict[str, Any], now: dt.datetime) -> None:
    prepared = _last_form(session, case.id, PREPARE_STEP)
    if prepared.get("publish") is False or prepared.get("party_is_minor"):
        return  # the model routes these past the release step; this is the second lock on the door
    decision = _last_form(session, case.id, DECISION_STEP)
    respondent = _intake(session, case.id).get("respondent")
    respondent = respondent if isinstance(respondent, dict) else {}
    row = session.scalar(select(PublicationRow).where(PublicationRow.case_id == case.id))
    if row is None:
        row = PublicationRow(case_id=case.id, withdrawn=False, withdrawal_reason="")
        session.add(row)
    row.decision_number = str(decision.get("decision_number", ""))
    row.party = case.respondent
    row.party_credit_code = (str(respondent.get("credit_code", ""))
                             if respondent.get("kind") == "organisation" else "")
    row.violation = case.violation
    row.warning = bool(decision.get("final_warning"))
    row.fine = _amount(decision.get("final_fine"))
    row.other_measures = str(decision.get("other_measures", ""))
    row.basis = str(decision.get("basis", ""))
    row.decision_date = _day(decision.get("decision_date"))
    row.summary = str(prepared.get("redacted_summary", ""))
    row.released_at = _moment(released.get("released_at")) or now
    row.url = str(released.get("url", ""))
    row.release_task_id = task_id


def _withdraw(session: Session, case: CaseRow, task_id: str, withdrawal: dict[str, Any], now: dt.datetime) -> None:
    row = session.scalar(select(PublicationRow).where(PublicationRow.case_id == case.id))
    if row is None:
        return  # never published (a minor, or not to be published): nothing to take down
    row.withdrawn = True
    row.withdrawn_at = _moment(withdrawal.get("withdrawn_at")) or now
    row.withdrawal_reason = str(withdrawal.get("withdrawal_reason", ""))
    row.withdraw_task_id = task_id


def _last_form(session: Session, case_id: int, spec_id: str) -> dict[str, Any]:
    """The form data of the step's latest completion (a step sent back and done again counts once)."""
    data = session.scalar(
        select(TaskRow.form_data)
        .where(TaskRow.case_id == case_id, TaskRow.spec_id == spec_id, TaskRow.status == "completed",
               TaskRow.form_data.is_not(None))
        .order_by(TaskRow.completed_at.desc(), TaskRow.id.desc()).limit(1)
    )
    return dict(data or {})


def _intake(session: Session, case_id: int) -> dict[str, Any]:
    detail = session.scalar(select(CaseEventRow.detail).where(CaseEventRow.case_id == case_id,
                                                              CaseEventRow.kind == "opened")
                            .order_by(CaseEventRow.id).limit(1))
    form = (detail or {}).get("form_data")
    return dict(form) if isinstance(form, dict) else {}


def _amount(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _moment(text: Any) -> dt.datetime | None:
    """A form's date-time; one typed without a zone is Beijing time."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=SHANGHAI) if moment.tzinfo is None else moment


def _day(text: Any) -> dt.date | None:
    """The decision's date in Beijing, where it was signed."""
    moment = _moment(text)
    if moment is not None:
        return moment.astimezone(SHANGHAI).date()
    try:
        return dt.date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


# --- reading: /public ------------------------------------------------------------------------------
def list_publications(
    svc: Services, *, query: str | None = None, violation: str | None = None, date_from: dt.date | None = None,
    date_to: dt.date | None = None, limit: int = 50, offset: int = 0,
) -> PublicationList:
    """Published decisions, newest release first, withdrawn ones included (and marked).

    `query` matches part of the party's name or the decision number; the dates bound the decision date
    (both ends included).
    """
    if not 0 < limit <= MAX_PAGE or offset < 0:
        raise ValidationError(f"分页参数无效 (limit 1–{MAX_PAGE}, offset ≥ 0)")
    if date_from and date_to and date_from > date_to:
        raise ValidationError("起始日期晚于截止日期 (date_from is after date_to)")
    conditions: list[Any] = []
    if violation:
        conditions.append(PublicationRow.violation == violation)
    if date_from:
        conditions.append(PublicationRow.decision_date >= date_from)
    if date_to:
        conditions.append(PublicationRow.decision_date <= date_to)
    with svc.uow.read() as session:
        if query and query.strip():
            conditions.append(_contains(session, query.strip()))
        total = session.scalar(select(func.count()).select_from(PublicationRow).where(*conditions)) or 0
        rows = session.scalars(
            select(PublicationRow).where(*conditions)
            .order_by(PublicationRow.released_at.desc(), PublicationRow.id.desc()).limit(limit).offset(offset)
        )
        return PublicationList(tuple(_view(r) for r in rows), total)


def get_publication(svc: Services, case_id: int) -> PublicationView:
    with svc.uow.read() as session:
        row = session.scalar(select(PublicationRow).where(PublicationRow.case_id == case_id))
        if row is None:
            raise NotFound(f"未公示 (no published decision for case {case_id})")
        return _view(row)


def _contains(session: Session, text: str) -> Any:
    """Party or decision number contains `text`, ignoring the case of Latin letters.

    SQLite's LIKE already ignores ASCII case; its ILIKE would be lower() on every row, which no index
    serves (three times slower at 100,000 rows). PostgreSQL's ILIKE is native.
    """
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if session.get_bind().dialect.name == "postgresql":
        return or_(PublicationRow.party.ilike(pattern, escape="\\"),
                   PublicationRow.decision_number.ilike(pattern, escape="\\"))
    return or_(PublicationRow.party.like(pattern, escape="\\"), PublicationRow.decision_number.like(pattern, escape="\\"))


def _view(row: PublicationRow) -> PublicationView:
    return PublicationView(
        case_id=row.case_id, decision_number=row.decision_number, party=row.party,
        party_credit_code=row.party_credit_code, violation=row.violation, warning=row.warning, fine=row.fine,
        other_measures=row.other_measures, basis=row.basis, decision_date=row.decision_date, summary=row.summary,
        released_at=row.released_at, url=row.url, withdrawn=row.withdrawn, withdrawn_at=row.withdrawn_at,
        withdrawal_reason=row.withdrawal_reason,
    )
