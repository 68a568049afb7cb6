"""The indicators' rollup: the measures of engine/usecases/indicator_measures.py summed per agency and local day
(`indicator_days`) and per agency and month (`indicator_months`), so a province's year is some 6,000 month rows
instead of a third of a million cases (docs/performance.md, bench/province.py).

Kept by a job (`rebuild_indicators`: each round of `casetrail worker`, and `casetrail indicators rebuild`), not in
the steps' transactions: one row per agency and day would be a lock every officer of the agency queues on. The
job builds the days before today (the agency's calendar) and records the first day it has not built
(`indicator_rollup.built_through`): that day and after are read live from `case_figures`. A step that changes a
case's figures inserts marks of the moments whose days change (engine/usecases/case_figures.py); until the job
rebuilds a marked day, the page takes that agency's day out of the sums and reads it live — so what the page
shows is always what `case_figures` says, whenever the job last ran.

Idempotent and incremental: a run claims the marks (DELETE … RETURNING: a mark committed meanwhile is not seen,
stays, and is taken by the next run), builds the missing days and rebuilds the marked ones, and the months they
fall in, in one transaction; the state row, locked first, keeps two runs from building at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal, or_, select, tuple_, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.agencies import among, subtree_branches
from engine.db.indicator_tables import COUNTS, FEN, IndicatorDirtyRow, IndicatorRollupRow
from engine.db.indicator_tables import CaseFiguresRow as F
from engine.db.indicator_tables import IndicatorDayRow as D
from engine.db.indicator_tables import IndicatorMonthRow as M
from engine.db.tables import AgencyRow
from engine.errors import NotFound, ValidationError
from engine.services import Services
from engine.usecases.indicator_measures import DATES, MEASURES, local_day, rolled_aggregate, rolled_column
from engine.values import Clock, RebuildIndicators

STATE_ID = 1
ROLLED = COUNTS + FEN
Days = tuple[dt.date | None, dt.date]  # first (None: the first there is) and last day, inclusive


@dataclass(frozen=True)
class RollupBuilt:
    built_through: dt.date  # the first day not in the rollup (today, the agency's calendar)
    days: int  # agency-days rebuilt because marked, besides the ranges
    ranges: tuple[tuple[str, str], ...]  # (first, last) days built whole; "" first: from the first there is
    marks: int  # marks claimed
    busy: bool = False  # another run was building: nothing done


# --- the job ---------------------------------------------------------------------------------------------------
def rebuild_indicators(cmd: RebuildIndicators, *, svc: Services, clock: Clock) -> RollupBuilt:
    """Build the days missing from the rollup and rebuild those marked changed; with `agency`, `start` or `end`,
    also rebuild that range whole (the agency with its subtree; `start` default: the first day there is)."""
    agency, start, end = _checked(cmd)
    now = clock()
    zone = svc.settings.zone
    today = now.astimezone(zone).date()
    with svc.uow() as work:
        session = work.session
        state = _locked_state(session)
        if state is None:
            return RollupBuilt(today, 0, (), 0, busy=True)
        old = state.built_through
        through = max(old or today, today)
        claimed = session.execute(delete(IndicatorDirtyRow).returning(IndicatorDirtyRow.agency_code,
                                                                      IndicatorDirtyRow.at)).all()
        ranges: list[tuple[Days, list[str] | None]] = []
        if old is None:
            ranges.append(((None, through - dt.timedelta(days=1)), None))
        elif old < through:
            ranges.append(((old, through - dt.timedelta(days=1)), None))
        if agency is not None or start is not None or end is not None:
            codes = _subtree(session, agency) if agency is not None else None
            last = min(end or through, through - dt.timedelta(days=1))
            if start is None or start <= last:
                ranges.append(((start, last), codes))
        marked: dict[dt.date, set[str]] = {}
        for code, at in claimed:  # a day at or after `old` is built whole above; one from today on, later
            day = at.astimezone(zone).date()
            if old is not None and day < old and not _covered(ranges, code, day):
                marked.setdefault(day, set()).add(code)
        months: dict[dt.date, set[str] | None] = {}
        for days, codes in ranges:
            _build_days(session, svc, days, codes)
            _touch(months, _months_of(session, days, codes), codes)
        for day, codes_of_day in sorted(marked.items()):
            _build_days(session, svc, (day, day), sorted(codes_of_day))
            _touch(months, [day.replace(day=1)], codes_of_day)
        _build_months(session, months)
        state.built_through, state.built_at = through, now
        work.commit()
    return RollupBuilt(through, sum(len(c) for c in marked.values()),
                       tuple((a.isoformat() if a else "", b.isoformat()) for (a, b), _ in ranges), len(claimed))


def _checked(cmd: RebuildIndicators) -> tuple[str | None, dt.date | None, dt.date | None]:
    """The command's agency code stripped and its days checked, before anything is read: an empty code or a
    reversed range is a typing slip, not a request to rebuild everything."""
    agency = cmd.agency.strip() if cmd.agency is not None else None
    if agency == "":
        raise ValidationError("请填写机构代码 (the agency code is empty)", {"agency": "必填 (required)"})
    for name, day in (("start", cmd.start), ("end", cmd.end)):
        # A datetime is a date to Python, but compared with the rollup's days it fails or misleads: refused here.
        if day is not None and (isinstance(day, dt.datetime) or not isinstance(day, dt.date)):
            raise ValidationError(f"日期须为日历日 (a day is wanted, YYYY-MM-DD): {day!r}",
                                  {name: "须为日期 (a date, not a time)"})
    if cmd.start is not None and cmd.end is not None and cmd.start > cmd.end:
        raise ValidationError(f"起始日期晚于截止日期 (the period starts after it ends): {cmd.start} > {cmd.end}",
                              {"start": "晚于截止日期 (after the end)"})
    return agency, cmd.start, cmd.end


def _locked_state(session: Session) -> IndicatorRollupRow | None:
    """The state row, locked until the commit (PostgreSQL; SQLite writes one at a time anyway), or None while
    another run holds it: a worker does not wait on another's build (its timers would) — it skips the round.
    Made on the first run; two first runs at once: the second's insert waits for the first's, does nothing."""
    query = select(IndicatorRollupRow).where(IndicatorRollupRow.id == STATE_ID).with_for_update(skip_locked=True)
    state = session.scalar(query)
    if state is None and session.scalar(select(IndicatorRollupRow.id).where(IndicatorRollupRow.id == STATE_ID)) is None:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(dialect.insert(IndicatorRollupRow).values(id=STATE_ID).on_conflict_do_nothing())
        state = session.scalar(query)
    return state


def _subtree(session: Session, code: str) -> list[str]:
    if session.get(AgencyRow, code) is None:
        raise NotFound(f"机构不存在 (no such agency): {code}")
    return sorted(subtree_branches(session, code))


def _covered(ranges: Sequence[tuple[Days, list[str] | None]], code: str, day: dt.date) -> bool:
    return any((first is None or first <= day) and day <= last and (codes is None or code in codes)
               for (first, last), codes in ranges)


def _touch(months: dict[dt.date, set[str] | None], touched: Iterable[dt.date], codes: Iterable[str] | None) -> None:
    for month in touched:
        if codes is None or months.get(month, set()) is None:
            months[month] = None
        else:
            months.setdefault(month, set()).update(codes)  # type: ignore[union-attr]


def _where_days(svc: Services, column: Any, days: Days) -> list[Any]:
    first, last = days
    calendar = svc.calendar
    out = [column < calendar.start_of_day(last + dt.timedelta(days=1))]
    if first is not None:
        out.append(column >= calendar.start_of_day(first))
    return out


def _build_days(session: Session, svc: Services, days: Days, codes: Sequence[str] | None) -> None:
    """Replace the day rows of `days` (of `codes`; None: every agency) by the sums of `case_figures`: one
    grouped scan per date the measures count by, summed per agency and day."""
    first, last = days
    gone = [D.day <= last] + ([D.day >= first] if first is not None else [])
    if codes is not None:
        gone.append(D.agency_code.in_(codes))
    session.execute(delete(D).where(*gone))
    zone = svc.settings.zone
    parts = []
    for date in DATES:
        day, month = local_day(date, zone), local_day(date, zone, month=True)
        where = _where_days(svc, date, days)
        if codes is not None:
            where.append(F.agency_code.in_(codes))
        columns = [(rolled_aggregate(k) if MEASURES[k].date is date else literal(0)).label(rolled_column(k))
                   for k in MEASURES]
        parts.append(select(F.agency_code.label("agency_code"), day.label("day"), month.label("month"), *columns)
                     .where(*where).group_by(F.agency_code, day, month))
    both = union_all(*parts).subquery()
    rows = (select(both.c.agency_code, both.c.day, func.min(both.c.month),
                   *(func.sum(both.c[name]) for name in ROLLED))
            .group_by(both.c.agency_code, both.c.day))
    session.execute(insert(D).from_select(["agency_code", "day", "month", *ROLLED], rows))


def _months_of(session: Session, days: Days, codes: Sequence[str] | None) -> list[dt.date]:
    """The months of `days` that hold a day row or a month row (both may need rewriting)."""
    first, last = days
    if first is not None:
        out, month = [], first.replace(day=1)
        while month <= last:
            out.append(month)
            month = _next_month(month)
        return out
    found: set[dt.date] = set()
    for table in (D, M):
        query = select(table.month).distinct().where(table.month <= last)
        if codes is not None:
            query = query.where(table.agency_code.in_(codes))
        found.update(session.scalars(query))
    return sorted(found)


def _build_months(session: Session, months: Mapping[dt.date, set[str] | None]) -> None:
    """Replace the month rows of `months` (of the agencies given; None: all) by the sums of their day rows."""
    whole = sorted(m for m, codes in months.items() if codes is None)
    batches: list[tuple[list[dt.date], list[str] | None]] = [(whole, None)] if whole else []
    batches += [([m], sorted(codes)) for m, codes in sorted(months.items()) if codes is not None]
    for chosen, codes in batches:
        gone = [M.month.in_(chosen)] + ([M.agency_code.in_(codes)] if codes is not None else [])
        session.execute(delete(M).where(*gone))
        where = [D.month.in_(chosen)] + ([D.agency_code.in_(codes)] if codes is not None else [])
        rows = (select(D.agency_code, D.month, *(func.sum(getattr(D, name)) for name in ROLLED)).where(*where)
                .group_by(D.agency_code, D.month))
        session.execute(insert(M).from_select(["agency_code", "month", *ROLLED], rows))


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _last_day(month: dt.date) -> dt.date:
    return _next_month(month) - dt.timedelta(days=1)


# --- reading -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rolled:
    """What the rollup gives for a period: sums per row key, and what must still be read live from
    `case_figures` and added — days from `live` on, and the marked (agency, day)s, whose rollup rows are already
    taken out of `sums`."""

    sums: dict[str, dict[str, float]]
    live: Days | None
    marked: dict[dt.date, list[str]]


def built_through(session: Session) -> dt.date | None:
    return session.scalar(select(IndicatorRollupRow.built_through).where(IndicatorRollupRow.id == STATE_ID))


def rolled(session: Session, svc: Services, *, codes: Sequence[str], branches: Mapping[str, str], by: str,
           days: tuple[dt.date, dt.date], keys: Sequence[str], suffix: str, through: dt.date) -> Rolled:
    """The sums of `keys` over `days` (inclusive) for the agencies `codes`, by agency (rolled up to `branches`)
    or by month ('YYYY-MM'), from the days before `through`: whole months from the month rows, the rest from
    the day rows, marked days subtracted."""
    start, end = days
    last = min(end, through - dt.timedelta(days=1))
    live = (max(start, through), end) if end >= through else None
    sums: dict[str, dict[str, float]] = {}
    if start > last:
        return Rolled(sums, live, {})
    months = []
    month = start if start.day == 1 else _next_month(start)
    while month <= last and _last_day(month) <= end:
        months.append(month)
        month = _next_month(month)
    spans = ([(start, months[0] - dt.timedelta(days=1)), (_last_day(months[-1]) + dt.timedelta(days=1), last)]
             if months else [(start, last)])
    spans = [(a, b) for a, b in spans if a <= b]
    names = [rolled_column(k) for k in keys]

    labels = [k + suffix for k in keys]

    def add(rows: Iterable[Any], sign: int) -> None:  # in fen until the end: sums of integers are exact
        for row in rows:
            key = branches[row[0]] if by == "agency" else f"{row[1]:%Y-%m}"
            values = sums.setdefault(key, dict.fromkeys(labels, 0))
            for label, value in zip(labels, row[2:], strict=True):
                if value:  # PostgreSQL sums to numeric
                    values[label] += sign * int(value)

    def summed(table: Any, where: Any) -> Any:
        group = table.agency_code if by == "agency" else table.month
        first = group if by == "agency" else func.min(table.agency_code)
        return session.execute(select(first, func.min(table.month), *(func.sum(getattr(table, n)) for n in names))
                               .where(among(session, table.agency_code, codes), where).group_by(group))

    if months:
        add(summed(M, M.month.in_(months)), 1)
    if spans:
        add(summed(D, or_(*(and_(D.day >= a, D.day <= b) for a, b in spans))), 1)
    calendar = svc.calendar
    marked: dict[dt.date, set[str]] = {}
    for code, at in session.execute(select(IndicatorDirtyRow.agency_code, IndicatorDirtyRow.at).distinct().where(
            among(session, IndicatorDirtyRow.agency_code, codes), IndicatorDirtyRow.at >= calendar.start_of_day(start),
            IndicatorDirtyRow.at < calendar.start_of_day(last + dt.timedelta(days=1)))):
        marked.setdefault(at.astimezone(svc.settings.zone).date(), set()).add(code)
    pairs = [(code, day) for day, day_codes in marked.items() for code in day_codes]
    for i in range(0, len(pairs), 500):
        add(session.execute(select(D.agency_code, D.month, *(getattr(D, n) for n in names))
                            .where(tuple_(D.agency_code, D.day).in_(pairs[i:i + 500]))), -1)
    money = [label for label, name in zip(labels, names, strict=True) if name in FEN]
    for values in sums.values():
        for label in money:
            values[label] /= 100
    return Rolled(sums, live, {day: sorted(day_codes) for day, day_codes in sorted(marked.items())})


__all__ = ["ROLLED", "Rolled", "RollupBuilt", "built_through", "rebuild_indicators", "rolled"]
