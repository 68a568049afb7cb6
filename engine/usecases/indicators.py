"""The indicators (考核指标) of an agency with its subtree, per agency, officer or month, for a period.

Every figure is an SQL aggregate over `case_figures` (engine/db/indicator_tables.py): grouped by agency or
officer, one query per period for all its figures (each FILTERed on its own date); by month, one query per date
and period. The agency's subtree is read once (a recursive CTE that carries each agency's
branch) and the agencies' totals are rolled up to the branches (one row per agency, never per case). The
measures below say, once, which cases each figure counts: the aggregates and the drill-down to the cases use the
same condition. The page, the CLI and the exports all call `indicators`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Float, and_, func, or_, select
from sqlalchemy.orm import Session

from engine.agencies import among, lineage, subtree_branches
from engine.db.indicator_tables import CaseFiguresRow as F
from engine.db.indicator_tables import CaseHandlerRow
from engine.db.repositories import Users, role_names
from engine.db.tables import AgencyRow, CaseRow, TaskRow, UserRoleRow, UserRow
from engine.enums import TaskStatus
from engine.errors import Forbidden, NotFound, ValidationError
from engine.rules.duties import AUDITOR_ROLE, HEAD_ROLE, SUPERVISOR_ROLE
from engine.rules.indicators import (
    BY_KEY,
    RATES,
    YEAR_ON_YEAR,
    per_officer,
    rate,
    same_period_a_year_before,
    year_on_year,
)
from engine.services import Services
from engine.usecases.indicator_measures import MEASURES, MONEY
from engine.usecases.indicator_rollup import built_through, rolled
from engine.usecases.reports import local_month

BY = ("agency", "officer", "month")
OFFICER_ROLE = "officer"  # 执法人员: those counted by 人均办案数 hold it with a valid 执法证
CASES_SHOWN = 200  # a drill-down lists this many cases; the count covers all


@dataclass(frozen=True)
class IndicatorQuery:
    user_id: str | None  # who asks (None: the server's command line)
    agency: str | None = None  # default: the user's own agency
    start: dt.date | None = None  # default: 1 January of `end`'s year
    end: dt.date | None = None  # default: today (the agency's calendar)
    by: str = "agency"


@dataclass(frozen=True)
class IndicatorRow:
    """One row of the report: an agency with its subtree, an officer or a month, and `total` for the whole."""

    key: str
    label: str
    values: Mapping[str, float | int | None]
    change: Mapping[str, float | None] = field(default_factory=dict)  # 同比 of YEAR_ON_YEAR figures


@dataclass(frozen=True)
class Indicators:
    agency: str
    agency_name: str
    start: dt.date
    end: dt.date
    by: str
    rows: tuple[IndicatorRow, ...]
    total: IndicatorRow
    overdue_by_step: tuple[tuple[str, str, int], ...]  # open steps overdue now: (step, its name, count)


@dataclass(frozen=True)
class IndicatorCase:
    id: int
    number: str
    respondent: str
    stage: str
    status: str


@dataclass(frozen=True)
class IndicatorCases:
    figure: str
    key: str | None
    total: int
    cases: tuple[IndicatorCase, ...]


# --- scope: who reads which agencies -------------------------------------------------------------------------
@dataclass(frozen=True)
class Tree:
    """An agency's subtree, read once: each agency's code -> its branch (the child of the root it lies under; the
    root for itself). The figures then filter on `agency_code IN (…)` — an index range per agency, where a join
    with the recursive CTE left the planner guessing its size — and roll agencies up to branches here (at most
    one row per agency: never a loop over cases)."""

    root: str
    branches: Mapping[str, str]

    @property
    def codes(self) -> list[str]:
        return sorted(self.branches)

    def of(self, branch: str) -> list[str]:
        return sorted(c for c, b in self.branches.items() if b == branch)


def _tree(session: Session, code: str) -> Tree:
    return Tree(code, subtree_branches(session, code))


def _scope(session: Session, user_id: str | None, agency: str | None, home: str) -> AgencyRow:
    """The agency whose figures `user_id` asked for, if they may read them: a head their own agency, a
    supervisor or auditor any agency of their subtree; anyone else is refused. No user: the server's command
    line (its operator holds the database), any agency, the platform's home agency by default."""
    user = Users(session).active(user_id) if user_id is not None else None
    code = agency or (user.agency_code if user is not None else home)
    row = session.get(AgencyRow, code)
    if row is None:
        raise NotFound(f"机构不存在 (no such agency): {code}")
    if user is None:
        return row
    roles = role_names(user)
    if roles & {SUPERVISOR_ROLE, AUDITOR_ROLE}:
        # Up from the agency asked for (a few rows), not down the supervisor's subtree (a province: 500).
        if user.agency_code in {a.code for a in lineage(session, code)}:
            return row
    elif HEAD_ROLE in roles and code == user.agency_code:
        return row
    raise Forbidden(f"无权查看该机构的考核指标 (you may not read the indicators of agency {code}): {user_id}")


def _period(svc: Services, start: dt.date | None, end: dt.date | None, now: dt.datetime) -> tuple[dt.date, dt.date]:
    end = end or now.astimezone(svc.settings.zone).date()
    start = start or end.replace(month=1, day=1)
    if start > end:
        raise ValidationError(f"起始日期晚于截止日期 (the period starts after it ends): {start} > {end}")
    return start, end


# --- the aggregates ------------------------------------------------------------------------------------------
def _group(by: str, svc: Services, date: Any) -> tuple[Any, list[Any]]:
    """The row key of the report for a figure counted by `date` (by agency: the agency, rolled up to its branch
    afterwards), and the joins it needs."""
    if by == "agency":
        return F.agency_code, []
    if by == "officer":
        return CaseHandlerRow.user_id, [(CaseHandlerRow, CaseHandlerRow.case_id == F.case_id)]
    return local_month(date, svc.settings.zone), []


BEFORE = "@before"  # the suffix of a figure counted over the same period a year before


def _aggregate(session: Session, svc: Services, tree: Tree, by: str,
               parts: Sequence[tuple[tuple[dt.datetime, dt.datetime], Sequence[str], str]]) -> dict[str, dict[str, float]]:
    """{row key: {figure + suffix: value}} for each part (period bounds, figures, suffix).

    Grouped by agency or officer, one query per period: every figure is an aggregate FILTERed on its own date
    being in the period, over the rows with any of those dates in it (the year before, which needs only the
    YEAR_ON_YEAR figures, is a query of its own: scanning both periods' rows for every figure cost twice as
    much). By month the row key depends on the date, so one query per date and period."""
    batches: list[list[tuple[Any, tuple[dt.datetime, dt.datetime], str, str]]] = []
    for bounds, keys, suffix in parts:
        wanted = [(MEASURES[key].date, bounds, key, suffix) for key in keys]
        if by == "month":
            grouped: dict[Any, list[Any]] = {}
            for item in wanted:
                grouped.setdefault(item[0], []).append(item)
            batches += list(grouped.values())
        else:
            batches.append(wanted)
    out: dict[str, dict[str, float]] = {}
    for batch in batches:
        group, joins = _group(by, svc, batch[0][0])
        columns, spans = [], {}
        for date, bounds, name, suffix in batch:
            m = MEASURES[name]
            span = spans.setdefault((date, bounds), and_(date >= bounds[0], date < bounds[1]))
            agg = func.sum(m.total, type_=Float()) if m.total is not None else func.count()
            columns.append(agg.filter(and_(span, m.where) if m.where is not None else span).label(name + suffix))
        query = select(group.label("k"), *columns).select_from(F)
        for table, on in joins:
            query = query.join(table, on)
        query = query.where(among(session, F.agency_code, tree.codes), or_(*spans.values())).group_by(group)
        for row in session.execute(query).mappings():
            key = tree.branches[row["k"]] if by == "agency" else str(row["k"])
            values = out.setdefault(key, {})
            for _, _, name, suffix in batch:
                values[name + suffix] = values.get(name + suffix, 0) + (row[name + suffix] or 0)
    return out


def _bounds(svc: Services, days: tuple[dt.date, dt.date]) -> tuple[dt.datetime, dt.datetime]:
    return svc.calendar.start_of_day(days[0]), svc.calendar.start_of_day(days[1] + dt.timedelta(days=1))


def _figures(session: Session, svc: Services, tree: Tree, by: str,
             parts: Sequence[tuple[tuple[dt.date, dt.date], Sequence[str], str]], *,
             rollup: bool) -> dict[str, dict[str, float]]:
    """As `_aggregate` for each part (period, figures, suffix): from the rollup (engine/usecases/indicator_rollup.py)
    where it is built, plus what is read live — the days from the first it has not built, and the agency-days
    marked changed since. By officer, and before the rollup's first build, all live."""
    through = built_through(session) if rollup and by != "officer" else None
    if through is None:
        return _aggregate(session, svc, tree, by, [(_bounds(svc, days), keys, suffix) for days, keys, suffix in parts])
    out: dict[str, dict[str, float]] = {}
    for days, keys, suffix in parts:
        part = rolled(session, svc, codes=tree.codes, branches=tree.branches, by=by, days=days, keys=keys,
                      suffix=suffix, through=through)
        found = [part.sums]
        if part.live is not None:
            found.append(_aggregate(session, svc, tree, by, [(_bounds(svc, part.live), keys, suffix)]))
        for day, codes in part.marked.items():
            marked = Tree(tree.root, {c: tree.branches[c] for c in codes})
            found.append(_aggregate(session, svc, marked, by, [(_bounds(svc, (day, day)), keys, suffix)]))
        for sums in found:
            for key, values in sums.items():
                into = out.setdefault(key, {})
                for name, value in values.items():
                    into[name] = into.get(name, 0) + value
    return out


def _split(values: Mapping[str, Mapping[str, float]]) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """(this period's figures, the year before's) by row key."""
    now: dict[str, dict[str, float]] = {}
    before: dict[str, dict[str, float]] = {}
    for key, row in values.items():  # a month of the year before only is no row of this period
        # A row whose figures are all 0 is no row: what a marked day's rollup row left when taken out.
        if (this := {k: v for k, v in row.items() if not k.endswith(BEFORE)}) and any(this.values()):
            now[key] = this
        if earlier := {k[: -len(BEFORE)]: v for k, v in row.items() if k.endswith(BEFORE)}:
            before[key] = earlier
    return now, before


def _officers(session: Session, tree: Tree, by: str, on: dt.date) -> dict[str, int]:
    """Enforcement officers per row (行政处罚法 第四十二条: only officers with a valid 执法证 enforce); by officer or
    month, all of them under "all"."""
    query = (select(UserRow.agency_code, func.count(func.distinct(UserRow.id))).select_from(UserRow)
             .join(UserRoleRow, UserRoleRow.user_id == UserRow.id)
             .where(among(session, UserRow.agency_code, tree.codes), UserRoleRow.role == OFFICER_ROLE, UserRow.active.is_(True),
                    UserRow.cert_no.is_not(None), UserRow.cert_valid_until >= on).group_by(UserRow.agency_code))
    out: dict[str, int] = {}
    for code, n in session.execute(query):
        key = tree.branches[code] if by == "agency" else "all"
        out[key] = out.get(key, 0) + n
    return out


def _overdue(session: Session, tree: Tree, by: str,
             now: dt.datetime) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
    """Open steps past their due time now: per row (agency branch or assignee) and per step."""
    # The task row carries its case's agency (migration 0019): no join with every overdue task's case.
    who = TaskRow.assignee if by == "officer" else TaskRow.agency_code
    query = (select(TaskRow.spec_id, TaskRow.name, who, func.count())
             .where(TaskRow.status == TaskStatus.READY, among(session, TaskRow.agency_code, tree.codes),
                    TaskRow.sort_due < now)
             .group_by(TaskRow.spec_id, TaskRow.name, who))
    per_row: dict[str, int] = {}
    per_step: dict[tuple[str, str], int] = {}
    for spec, name, holder, n in session.execute(query):
        per_step[(spec, name)] = per_step.get((spec, name), 0) + n
        if by != "month":
            key = tree.branches[holder] if by == "agency" else str(holder)
            per_row[key] = per_row.get(key, 0) + n
    ranked = sorted(per_step.items(), key=lambda item: (-item[1], item[0][0]))
    return per_row, [(spec, name, n) for (spec, name), n in ranked]


def _values(raw: Mapping[str, float], officers: int | None, overdue: int | None) -> dict[str, float | int | None]:
    values: dict[str, float | int | None] = {k: (round(float(raw.get(k, 0)), 2) if k in MONEY else int(raw.get(k, 0)))
                                              for k in MEASURES}
    for name, (numerator, denominator) in RATES.items():
        values[name] = rate(int(values[numerator] or 0), int(values[denominator] or 0))
    values["officers"] = officers
    values["per_officer"] = per_officer(int(values["filed_cases"] or 0), officers) if officers is not None else None
    values["overdue"] = overdue
    return values


def _sum(rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for row in rows:
        for k, v in row.items():
            total[k] = total.get(k, 0) + v
    return total


def indicators(query: IndicatorQuery, *, svc: Services, now: dt.datetime, rollup: bool = True) -> Indicators:
    """The figures of `query.agency` (with its subtree) for the period, in rows `query.by`, with 同比; without
    `rollup`, every figure straight from `case_figures` (what the rollup must always equal)."""
    if query.by not in BY:
        raise ValidationError(f"--by 须为 {'/'.join(BY)} (by must be one of {', '.join(BY)}): {query.by}")
    start, end = _period(svc, query.start, query.end, now)
    with svc.uow.read(lagging=True) as session:  # figures a moment old are as good: the replica, if any
        agency = _scope(session, query.user_id, query.agency, svc.settings.agency.code)
        tree = _tree(session, agency.code)
        before = same_period_a_year_before(start, end)
        parts = (((start, end), list(MEASURES), ""), (before, YEAR_ON_YEAR, BEFORE))
        current, previous = _split(_figures(session, svc, tree, query.by, parts, rollup=rollup))
        # The whole counts each case once: a case of two officers is in both their rows.
        whole, whole_before = ((current, previous) if query.by == "agency" else
                               _split(_figures(session, svc, tree, "agency", parts, rollup=rollup)))
        officers = _officers(session, tree, query.by, end)
        overdue, per_step = _overdue(session, tree, query.by, now)
        labels = _labels(session, query.by, tree, current)
    if query.by == "month":  # a month compares with the same month a year before
        previous = {_month_later(k): v for k, v in previous.items()}
    rows = tuple(
        _row(key, labels.get(key, key), current.get(key, {}), previous.get(key, {}),
             officers.get(key, 0) if query.by == "agency" else (officers.get("all", 0) if query.by == "month" else None),
             overdue.get(key, 0) if query.by != "month" else None)
        for key in _row_keys(query.by, labels, current))
    total = _row("total", "合计", _sum(list(whole.values())), _sum(list(whole_before.values())),
                 sum(officers.values()), sum(n for _, _, n in per_step))
    return Indicators(agency.code, agency.name, start, end, query.by, rows, total, tuple(per_step))


def _row(key: str, label: str, raw: Mapping[str, float], before: Mapping[str, float], officers: int | None,
         overdue: int | None) -> IndicatorRow:
    values = _values(raw, officers, overdue)
    # Amounts compared as shown (to the fen): a sum's last float bits depend on the order it was added in.
    change = {k: year_on_year(values[k], round(float(before.get(k, 0)), 2) if k in MONEY else float(before.get(k, 0)))
              for k in YEAR_ON_YEAR}
    return IndicatorRow(key, label, values, change)


def _labels(session: Session, by: str, tree: Tree, current: Mapping[str, Any]) -> dict[str, str]:
    """Row key -> what the row is called: every branch of the agency (listed even without cases), officers'
    names, months as they are."""
    if by == "agency":
        tops = sorted({b for b in tree.branches.values()})
        return {code: name for code, name in session.execute(
            select(AgencyRow.code, AgencyRow.name).where(AgencyRow.code.in_(tops)).order_by(AgencyRow.code))}
    if by == "officer":
        return {uid: name for uid, name in session.execute(select(UserRow.id, UserRow.name)
                                                           .where(UserRow.id.in_(list(current))))}
    return {k: k for k in current}


def _row_keys(by: str, labels: Mapping[str, str], current: Mapping[str, Any]) -> list[str]:
    return list(labels) if by == "agency" else sorted(current)


def _month_later(month: str) -> str:
    return f"{int(month[:4]) + 1:04d}{month[4:]}"


# --- drill-down ------------------------------------------------------------------------------------------------
def indicator_cases(query: IndicatorQuery, figure: str, key: str | None, *, svc: Services, now: dt.datetime,
                    limit: int = CASES_SHOWN) -> IndicatorCases:
    """The cases a figure counts (a rate: those of its numerator), for one row `key` of the report or all."""
    name = RATES.get(figure, (figure, ""))[0]
    if name not in MEASURES:
        known = sorted(k for k, f in BY_KEY.items() if f.drill)
        raise ValidationError(f"未知指标 (unknown figure) {figure!r}; one of {', '.join(known)}")
    if query.by not in BY:
        raise ValidationError(f"by must be one of {', '.join(BY)}: {query.by}")
    start, end = _period(svc, query.start, query.end, now)
    measure = MEASURES[name]
    with svc.uow.read(lagging=True) as session:  # figures a moment old are as good: the replica, if any
        agency = _scope(session, query.user_id, query.agency, svc.settings.agency.code)
        tree = _tree(session, agency.code)
        calendar = svc.calendar
        where = [among(session, F.agency_code, tree.codes), measure.date >= calendar.start_of_day(start),
                 measure.date < calendar.start_of_day(end + dt.timedelta(days=1))]
        if measure.where is not None:
            where.append(measure.where)
        group, joins = _group(query.by, svc, measure.date)
        if key is not None and key != "total":
            where.append(F.agency_code.in_(tree.of(key)) if query.by == "agency" else group == key)
        base = select(F.case_id)
        for table, on in joins:
            base = base.join(table, on)
        ids = base.where(*where).distinct().subquery()
        total = session.scalar(select(func.count()).select_from(ids)) or 0
        rows = session.execute(select(CaseRow.id, CaseRow.number, CaseRow.respondent, CaseRow.stage, CaseRow.status)
                               .where(CaseRow.id.in_(select(ids.c.case_id))).order_by(CaseRow.id.desc()).limit(limit))
        return IndicatorCases(figure, key, total, tuple(IndicatorCase(*r) for r in rows))


__all__ = ["BY", "IndicatorCase", "IndicatorCases", "IndicatorQuery", "IndicatorRow", "Indicators", "MEASURES",
           "indicator_cases", "indicators"]
