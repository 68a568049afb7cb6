"""Published penalty decisions (双公示): written when the publication steps complete, read by /public.

行政处罚法 第四十八条: decisions of a certain public impact are published; if a decision is changed, revoked or
found void the publication is withdrawn within three working days with the reason. Which decisions are
published is the officers' call in the step the model marks `publication="prepare"` (never a minor, 政府信息公开条例
第十五条); the `release` step records that it went online, and the `withdraw` step that it was withdrawn, with
the content of the `decision` step. Which steps those are the model says (the `publication` property of its user
tasks, `LoadedDefinition.publication_steps`): this module knows the parts, never the step ids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.db.publication_tables import PublicationRow
from engine.db.tables import CaseRow
from engine.errors import NotFound, ValidationError
from engine.services import Services
from engine.usecases.signed import SignedStep, intake_of, list_fields, signed_steps

# The parts a step may play in the register (the model's `publication` property).
PREPARE, DECISION, RELEASE, WITHDRAW = "prepare", "decision", "release", "withdraw"
MAX_PAGE = 200


@dataclass(frozen=True, kw_only=True)
class PublishedDecision:
    """What /public shows of one published decision, as stored: engine/rules/redaction.py masks it on the way out."""

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
    withdrawn: bool = False
    withdrawn_at: dt.datetime | None = None
    withdrawal_reason: str = ""


@dataclass(frozen=True, kw_only=True)
class PublicationView(PublishedDecision):
    """A published decision of a case, as /public reads it."""

    case_id: int


@dataclass(frozen=True)
class PublicationList:
    items: tuple[PublicationView, ...]
    total: int


# --- what the records publish: written inside complete_task's transaction, checked by `verify` -------------
@dataclass(frozen=True, kw_only=True)
class Published(PublishedDecision):
    """What a publications row holds, as the signed records of its case give it."""

    release_task_id: str | None
    withdraw_task_id: str | None = None
    release_seq: int | None = None  # the records that released and withdrew it (not stored in the row)
    withdraw_seq: int | None = None


def released(intake: Mapping[str, Any], prepared: Mapping[str, Any], decision: Mapping[str, Any],
             release: Mapping[str, Any], *, at: dt.datetime, task_id: str | None, zone: dt.tzinfo) -> Published | None:
    """The publication a release makes from the intake, the latest 公示 preparation and the latest decision
    (None: not to be published). `zone`: the agency's, in which a form's date-time without one was typed."""
    if prepared.get("publish") is False or prepared.get("party_is_minor"):
        return None  # the model routes these past the release step; this is the second lock on the door
    respondent = intake.get("respondent")
    respondent = respondent if isinstance(respondent, dict) else {}
    listed = list_fields(dict(intake))
    return Published(
        decision_number=str(decision.get("decision_number", "")), party=listed.respondent,
        party_credit_code=str(respondent.get("credit_code", "")) if respondent.get("kind") == "organisation" else "",
        violation=listed.violation, warning=bool(decision.get("final_warning")), fine=_amount(decision.get("final_fine")),
        other_measures=str(decision.get("other_measures", "")), basis=str(decision.get("basis", "")),
        decision_date=_day(decision.get("decision_date"), zone), summary=str(prepared.get("redacted_summary", "")),
        released_at=_moment(release.get("released_at"), zone) or at, url=str(release.get("url", "")), release_task_id=task_id)


def withdrawn(published: Published, withdrawal: Mapping[str, Any], *, at: dt.datetime,
              task_id: str | None, zone: dt.tzinfo) -> Published:
    return replace(published, withdrawn=True, withdrawn_at=_moment(withdrawal.get("withdrawn_at"), zone) or at,
                   withdrawal_reason=str(withdrawal.get("withdrawal_reason", "")), withdraw_task_id=task_id)


def published_by(steps: Sequence[SignedStep], parts: Mapping[str, str], zone: dt.tzinfo) -> Published | None:
    """The publication a case's signed steps make, step by step as `record_publication_step` writes it.

    `parts`: step id -> its part in the register (`LoadedDefinition.publication_steps` of the case's model)."""
    intake = intake_of(steps)
    forms: dict[str, Mapping[str, Any]] = {}
    out: Published | None = None
    for step in steps:
        part = parts.get(step.record.task_spec_id)
        if part == RELEASE:
            made = released(intake.form_data if intake else {}, forms.get(PREPARE, {}),
                            forms.get(DECISION, {}), step.form_data, at=step.at, task_id=step.task_id, zone=zone)
            if made is not None:  # a release again over an existing row keeps its withdrawal, as the writer does
                keep = {} if out is None else {k: getattr(out, k) for k in _WITHDRAWAL}
                out = replace(made, release_seq=step.seq, **keep)
        elif part == WITHDRAW and out is not None:
            out = replace(withdrawn(out, step.form_data, at=step.at, task_id=step.task_id, zone=zone),
                          withdraw_seq=step.seq)
        elif part in (PREPARE, DECISION):
            forms[part] = step.form_data
    return out


_WITHDRAWAL = ("withdrawn", "withdrawn_at", "withdrawal_reason", "withdraw_task_id", "withdraw_seq")
ROW_FIELDS = tuple(f.name for f in fields(Published) if not f.name.endswith("_seq"))  # what a row stores


def record_publication_step(session: Session, *, case: CaseRow, task_id: str, spec_id: str,
                            form_data: dict[str, Any], now: dt.datetime, parts: Mapping[str, str],
                            zone: dt.tzinfo) -> None:
    """Keep `publications` in step with the case: a release inserts the row, a withdrawal marks it.

    Called for every completed step (in the step's transaction, so the row commits with the step or not
    at all); steps other than release and withdrawal change nothing. What is published is read from the
    case's signed records (the intake, the 公示 preparation, the decision), never from their copies.
    `parts`: step id -> its part in the register, as the case's model says (`published_by`).
    """
    part = parts.get(spec_id)
    if part == RELEASE:
        steps = signed_steps(session, case.id)
        forms = {parts.get(s.record.task_spec_id): s.form_data for s in steps}  # in seq order: the latest wins
        intake = intake_of(steps)
        made = released(intake.form_data if intake else {}, forms.get(PREPARE, {}), forms.get(DECISION, {}),
                        form_data, at=now, task_id=task_id, zone=zone)
        if made is not None:
            _store(session, case, made, fields=[f for f in ROW_FIELDS if f not in _WITHDRAWAL])
    elif part == WITHDRAW:
        row = session.scalar(select(PublicationRow).where(PublicationRow.case_id == case.id))
        if row is None:
            return  # never published (a minor, or not to be published): nothing to take down
        made = withdrawn(_view_of(row), form_data, at=now, task_id=task_id, zone=zone)
        _store(session, case, made, fields=_WITHDRAWAL[:-1])


def _store(session: Session, case: CaseRow, published: Published, *, fields: Sequence[str]) -> None:
    row = session.scalar(select(PublicationRow).where(PublicationRow.case_id == case.id))
    if row is None:
        row = PublicationRow(case_id=case.id, withdrawn=False, withdrawal_reason="")
        session.add(row)
    for name in fields:
        setattr(row, name, getattr(published, name))


def _view_of(row: PublicationRow) -> Published:
    return Published(**{name: getattr(row, name) for name in ROW_FIELDS})


def _amount(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _moment(text: Any, zone: dt.tzinfo) -> dt.datetime | None:
    """A form's date-time; one typed without a zone is the agency's local time."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _day(text: Any, zone: dt.tzinfo) -> dt.date | None:
    """The decision's date in the agency's local time, where it was signed."""
    moment = _moment(text, zone)
    if moment is not None:
        return moment.astimezone(zone).date()
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
    with svc.uow.read(lagging=True) as session:  # the public page: a replica's copy will do
        if query and query.strip():
            conditions.append(_contains(session, query.strip()))
        total = session.scalar(select(func.count()).select_from(PublicationRow).where(*conditions)) or 0
        rows = session.scalars(
            select(PublicationRow).where(*conditions)
            .order_by(PublicationRow.released_at.desc(), PublicationRow.id.desc()).limit(limit).offset(offset)
        )
        return PublicationList(tuple(_view(r) for r in rows), total)


def get_publication(svc: Services, case_id: int) -> PublicationView:
    with svc.uow.read(lagging=True) as session:
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
