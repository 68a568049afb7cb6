"""Writing `case_figures` and `case_handlers` (engine/db/indicator_tables.py) in the transactions of the steps.

The registration inserts the case's row; a step whose form marks indicator fields (engine/rules/indicators.py)
updates it with what the officer signed; the step that ends the process sets `closed_at`. What a step gives is
worked out while the step is prepared (`step_figures`, no lock: the calendar for the publication limit is
read there) and written under the lock (`write_step_figures`), one UPDATE. Each write also marks the moments
whose days' sums it changes — every date of the case the figures count by, before and after — for the
indicators' rollup (engine/usecases/indicator_rollup.py): plain INSERTs of new rows, never a shared row locked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from engine.db.indicator_tables import CaseFiguresRow, CaseHandlerRow, IndicatorDirtyRow
from engine.rules.deadlines import due_date
from engine.rules.indicators import COMPLAINT_HANDLED, OFFICERS, PUBLICATION_LIMIT, STEP, step_values
from engine.rules.settings import Settings
from engine.rules.workdays import WorkingCalendar
from engine.usecases.indicator_measures import DATES


def step_figures(schema: Mapping[str, Any] | None, data: Mapping[str, Any], *, now: dt.datetime,
                 due: dt.datetime | None, settings: Settings, calendar: WorkingCalendar) -> dict[str, Any]:
    """The columns a completed step sets (empty: the step counts for no indicator)."""
    values = step_values(schema, data, settings.zone)
    if values.pop("case_filed", None):
        values["filed_at"] = now  # 立案: the moment the approval is signed
    if schema and schema.get(STEP) == COMPLAINT_HANDLED:
        values["handled_at"], values["handled_due"] = now, due
    if "procedure" in values:
        values.setdefault("decided_at", now)
        if schema and schema.get(PUBLICATION_LIMIT):
            # 双公示 runs from the day of the decision (自作出行政决定之日起), in the limit's unit.
            last_day = due_date(settings.limit(schema[PUBLICATION_LIMIT]), values["decided_at"], calendar)
            values["publication_due"] = calendar.end_of_day(last_day)
    return values


def start_case_figures(session: Session, *, case_id: int, agency_code: str, received_at: dt.datetime,
                       values: Mapping[str, Any]) -> None:
    """The registered case's row: its agency, time and whether a complainant brought it (from the intake)."""
    session.execute(insert(CaseFiguresRow).values(case_id=case_id, agency_code=agency_code, received_at=received_at,
                                                  complaint=bool(values.get("complaint"))))
    _mark(session, agency_code, [received_at])


def write_step_figures(session: Session, case_id: int, values: Mapping[str, Any]) -> None:
    """Copy what the step signed into the case's row; a list of case officers replaces the one before."""
    values = dict(values)
    officers = values.pop(OFFICERS, None)
    values.pop("complaint", None)
    if values:
        _mark_changed(session, case_id, values)
        _set_figures(session, case_id, values)
    if officers is not None:
        session.execute(_DROP_HANDLERS, {"figures_case_id": case_id})
        if officers:
            session.execute(_INSERT_HANDLERS, [{"case_id": case_id, "user_id": u} for u in sorted(set(officers))])


def close_case_figures(session: Session, case_id: int, closed_at: dt.datetime) -> None:
    _mark_changed(session, case_id, {"closed_at": closed_at})
    _set_figures(session, case_id, {"closed_at": closed_at})


def _set_figures(session: Session, case_id: int, values: Mapping[str, Any]) -> None:
    # The columns set are the parameters' keys (the tables' column names, as the row's attributes are named).
    session.execute(_UPDATE_FIGURES, {**values, "figures_case_id": case_id})


def _mark_changed(session: Session, case_id: int, values: Mapping[str, Any]) -> None:
    """Mark the case's dates as they are (the figures counted on those days change) and as `values` sets them."""
    row = session.execute(_DATES_OF_CASE, {"figures_case_id": case_id}).one_or_none()
    if row is not None:
        _mark(session, row[0], [*row[1:], *(values.get(d.key) for d in DATES)])


def _mark(session: Session, agency_code: str, moments: list[dt.datetime | None]) -> None:
    seen = sorted({m for m in moments if m is not None})
    if seen:
        session.execute(_INSERT_DIRTY, [{"agency_code": agency_code, "at": m} for m in seen])


# The tables' own statements, built once (a step that counts for an indicator runs them under the write lock).
_figures, _handlers = CaseFiguresRow.__table__, CaseHandlerRow.__table__
_UPDATE_FIGURES = update(_figures).where(_figures.c.case_id == bindparam("figures_case_id"))
_DATES_OF_CASE = select(_figures.c.agency_code, *(_figures.c[d.key] for d in DATES)).where(
    _figures.c.case_id == bindparam("figures_case_id"))
_DROP_HANDLERS = delete(_handlers).where(_handlers.c.case_id == bindparam("figures_case_id"))
_INSERT_HANDLERS, _INSERT_DIRTY = _handlers.insert(), IndicatorDirtyRow.__table__.insert()


__all__ = ["close_case_figures", "start_case_figures", "step_figures", "write_step_figures"]
