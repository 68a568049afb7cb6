"""The heads' dashboard: case and step figures, each an aggregate computed by the database."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, String, and_, case, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, defer
from sqlalchemy.sql.functions import FunctionElement

from engine.db.repositories import Users
from engine.db.tables import CaseRow, TaskRow
from engine.enums import CaseStatus, TaskStatus
from engine.errors import ValidationError
from engine.services import Services
from engine.usecases.access import agencies_in_reach, in_agencies, person_of, readable_agencies, within
from engine.values import Dashboard, FinesInMonth
from engine.views import task_view

OVERDUE_SHOWN = 50  # the dashboard lists this many overdue steps; the count covers all of them


class local_month(FunctionElement[str]):  # noqa: N801 - named as the SQL function it stands for
    """'YYYY-MM' of a UTC timestamp column in the agency's time zone (cases are counted by its calendar)."""

    type = String()
    name = "local_month"
    inherit_cache = True

    def __init__(self, column: Any, zone: ZoneInfo) -> None:
        # PostgreSQL converts by the zone's rules; SQLite knows no time zones and adds the zone's offset, exact
        # for a zone without daylight saving time (China's since 1991).
        minutes = int((zone.utcoffset(dt.datetime(2000, 1, 1)) or dt.timedelta()).total_seconds() // 60)
        super().__init__(column, literal(zone.key), literal(f"{minutes:+d} minutes"))


@compiles(local_month)
def _local_month_postgresql(element: local_month, compiler: Any, **kw: Any) -> str:
    column, zone, _ = element.clauses.clauses
    return f"to_char(timezone({compiler.process(zone, **kw)}, {compiler.process(column, **kw)}), 'YYYY-MM')"


@compiles(local_month, "sqlite")
def _local_month_sqlite(element: local_month, compiler: Any, **kw: Any) -> str:
    column, _, offset = element.clauses.clauses
    return f"strftime('%Y-%m', {compiler.process(column, **kw)}, {compiler.process(offset, **kw)})"


def dashboard(svc: Services, *, now: dt.datetime, overdue_shown: int = OVERDUE_SHOWN, viewer_id: str | None = None,
              agency: str | None = None) -> Dashboard:
    """Open cases per stage, overdue open steps (the `overdue_shown` most overdue, and how many there are),
    cases per violation type, per month registered and per outcome, and fines decided per month — of the
    agencies `viewer_id` oversees (a head: their agency; a supervisor or an auditor: their agency and those
    under it; engine.rules.duties `oversees`), narrowed to `agency` and those under it when given; without a
    viewer, of the whole platform."""
    if now.tzinfo is None:
        raise ValidationError("now 必须带时区 (now must be timezone-aware)")
    with svc.uow.read(lagging=True) as session:  # counts a moment old are as good: the replica, if any
        viewer = None if viewer_id is None else person_of(Users(session).active(viewer_id))
        reach = None if viewer is None else readable_agencies(viewer)
        cases_in = and_(in_agencies(CaseRow.agency_code, reach), within(session, CaseRow.agency_code, agency))
        tasks_in = and_(in_agencies(TaskRow.agency_code, reach), within(session, TaskRow.agency_code, agency))
        open_by_stage = _ranked(session, CaseRow.stage, CaseRow.status == CaseStatus.OPEN, cases_in)
        overdue_where = and_(TaskRow.status == TaskStatus.READY, TaskRow.sort_due < now, tasks_in)
        overdue_total = session.scalar(select(func.count()).select_from(TaskRow).where(overdue_where)) or 0
        overdue = tuple(
            task_view(session, task, case_row, with_users=False, calendar=svc.calendar)
            for task, case_row in session.execute(
                select(TaskRow, CaseRow).join(CaseRow, CaseRow.id == TaskRow.case_id).options(defer(CaseRow.state))
                .where(overdue_where).order_by(TaskRow.sort_due, TaskRow.id).limit(overdue_shown))
        )
        by_violation = _ranked(session, CaseRow.violation, cases_in)
        by_outcome = _ranked(session, CaseRow.outcome, cases_in)
        month = local_month(CaseRow.created_at, svc.settings.zone)
        by_month = tuple((m, n) for m, n in session.execute(
            select(month, func.count()).where(cases_in).group_by(month).order_by(month)))
        return Dashboard(
            open_by_stage=open_by_stage, overdue=overdue, overdue_total=overdue_total,
            by_violation=by_violation, by_month=by_month, by_outcome=by_outcome,
            fines_by_month=_fines_by_month(session, _fine_fields(svc, session), svc.settings.zone, tasks_in),
            open_cases=sum(n for _, n in open_by_stage),
            total_cases=sum(n for _, n in by_outcome),
            agencies=() if viewer is None else agencies_in_reach(session, viewer),
        )


def _ranked(session: Session, column: Any, *where: Any) -> tuple[tuple[str, int], ...]:
    count = func.count()
    query = select(column, count).where(*where).group_by(column).order_by(count.desc(), column)
    return tuple((value, n) for value, n in session.execute(query))


def _fine_fields(svc: Services, session: Session) -> dict[str, str]:
    """The steps that impose a fine and the form field holding its amount (CNY), as the models in use say
    (their `fineField` property), over every version a case runs on."""
    found: dict[str, str] = {}
    for definition_id in session.scalars(select(CaseRow.definition_id).distinct().order_by(CaseRow.definition_id)):
        found.update(svc.definition(session, definition_id).fine_fields)
    return found


def _fines_by_month(session: Session, fine_fields: dict[str, str], zone: ZoneInfo,
                    tasks_in: Any) -> tuple[FinesInMonth, ...]:
    """Completed decision steps with a fine above zero, per month of completion (the agency's local time)."""
    if not fine_fields:
        return ()
    amount = case(*((TaskRow.spec_id == spec, TaskRow.form_data[f].as_float()) for spec, f in sorted(fine_fields.items())))
    rows = (
        select(local_month(TaskRow.completed_at, zone).label("month"), amount.label("amount"))
        .where(TaskRow.spec_id.in_(fine_fields), TaskRow.status == TaskStatus.COMPLETED, tasks_in)
    ).subquery()
    fined = rows.c.amount > 0
    query = (select(rows.c.month, func.count(), func.sum(rows.c.amount, type_=Float())).where(fined)
             .group_by(rows.c.month).order_by(rows.c.month))
    return tuple(FinesInMonth(month, n, float(total or 0)) for month, n, total in session.execute(query))
