"""Which cases each indicator counts (engine/usecases/indicators.py) and what it sums: said once here, for the
figures computed from `case_figures`, for the rollup built from them (engine/usecases/indicator_rollup.py) and for
the drill-down to the cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Date, Float, and_, cast, func, literal, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from engine.db.indicator_tables import CaseFiguresRow as F
from engine.rules.indicators import SATISFIED


@dataclass(frozen=True)
class Measure:
    """Which cases a figure counts — those whose `date` falls in the period and that meet `where` — and, for
    amounts, what it sums."""

    date: Any
    where: Any = None
    total: Any = None


_COMPLAINT = F.complaint.is_(True)
_GENERAL_TO_PUBLISH = and_(F.procedure == "general", F.publication_due.is_not(None),
                           func.coalesce(F.not_published, False).is_(False))
_ZERO = literal(0.0, Float())
MEASURES: dict[str, Measure] = {
    "received": Measure(F.received_at),
    "complaints": Measure(F.received_at, _COMPLAINT),
    "handled": Measure(F.received_at, and_(_COMPLAINT, F.handled_at.is_not(None))),
    "handled_on_time": Measure(F.received_at, and_(_COMPLAINT, F.handled_at <= F.handled_due)),
    "feedback": Measure(F.received_at, and_(_COMPLAINT, F.feedback_at.is_not(None))),
    "substantiated_recorded": Measure(F.received_at, and_(_COMPLAINT, F.substantiated.is_not(None))),
    "substantiated": Measure(F.received_at, and_(_COMPLAINT, F.substantiated.is_(True))),
    "satisfaction_recorded": Measure(F.received_at, and_(_COMPLAINT, F.satisfaction.is_not(None))),
    "satisfied": Measure(F.received_at, and_(_COMPLAINT, F.satisfaction.in_(SATISFIED))),
    "closed": Measure(F.closed_at),
    "filed_cases": Measure(F.filed_at),
    "summary": Measure(F.decided_at, F.procedure == "summary"),
    "general": Measure(F.decided_at, F.procedure == "general"),
    "warnings": Measure(F.decided_at, F.warning.is_(True)),
    "licences_revoked": Measure(F.decided_at, F.licence_revoked.is_(True)),
    "suspended": Measure(F.decided_at, F.suspension_months > 0),
    "fines_yuan": Measure(F.decided_at, F.fine > 0, func.coalesce(F.fine, _ZERO)),
    "penalties_yuan": Measure(F.decided_at, or_(F.fine > 0, F.confiscated_income > 0, F.confiscated_property > 0),
                              func.coalesce(F.fine, _ZERO) + func.coalesce(F.confiscated_income, _ZERO)
                              + func.coalesce(F.confiscated_property, _ZERO)),
    "to_publish": Measure(F.decided_at, _GENERAL_TO_PUBLISH),
    "published_on_time": Measure(F.decided_at, and_(_GENERAL_TO_PUBLISH, F.published_at <= F.publication_due)),
}
MONEY = frozenset(k for k, m in MEASURES.items() if m.total is not None)
# The dates figures count by: a change to a case's figures changes the days these fall on.
DATES = (F.received_at, F.closed_at, F.filed_at, F.decided_at)


def rolled_column(key: str) -> str:
    """The rollup's column of a measure: amounts are kept in fen (分), so sums of sums stay exact."""
    return key.removesuffix("_yuan") + "_fen" if key in MONEY else key


def rolled_aggregate(key: str) -> Any:
    """The measure's aggregate as the rollup stores it, over rows whose date is in the day (0 when none)."""
    m = MEASURES[key]
    agg = (func.sum(cast(func.round(m.total * 100), BigInteger)) if m.total is not None
           else func.count())
    return func.coalesce(agg.filter(m.where) if m.where is not None else agg, 0)


class local_day(FunctionElement[dt.date]):  # noqa: N801 - named as the SQL function it stands for
    """The agency's calendar day (with `month`: the first day of its month) of a UTC timestamp column."""

    type = Date()
    name = "local_day"
    inherit_cache = True

    def __init__(self, column: Any, zone: ZoneInfo, *, month: bool = False) -> None:
        # As reports.local_month: PostgreSQL converts by the zone's rules; SQLite adds the zone's offset, exact for
        # a zone without daylight saving time (China's since 1991).
        minutes = int((zone.utcoffset(dt.datetime(2000, 1, 1)) or dt.timedelta()).total_seconds() // 60)
        super().__init__(column, literal(zone.key), literal(f"{minutes:+d} minutes"),
                         literal("month" if month else "day"))


@compiles(local_day)
def _local_day_postgresql(element: local_day, compiler: Any, **kw: Any) -> str:
    column, zone, _, unit = element.clauses.clauses
    moment = f"timezone({compiler.process(zone, **kw)}, {compiler.process(column, **kw)})"
    if unit.value == "month":
        return f"CAST(date_trunc('month', {moment}) AS DATE)"
    return f"CAST({moment} AS DATE)"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element: local_day, compiler: Any, **kw: Any) -> str:
    column, _, offset, unit = element.clauses.clauses
    start = ", 'start of month'" if unit.value == "month" else ""
    return f"date({compiler.process(column, **kw)}, {compiler.process(offset, **kw)}{start})"


__all__ = ["DATES", "MEASURES", "MONEY", "Measure", "local_day", "rolled_aggregate", "rolled_column"]
