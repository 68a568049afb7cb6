"""A year's announced holiday schedule (放假安排), entered in one go, and the deadlines it moves.

The State Council's notice for a year (usually published in November) names the days off and the 调休
make-up working days. Until a package carries it (docs/calendar.md), an administrator enters it here: every
day becomes a stored override with the notice's reference as its reason, journalled like a single change;
declared complete, the year counts as covered and its deadlines are no longer provisional. The deadlines
already computed for open cases into that year were counted Mon–Fri, so they are counted again under the
new calendar in the same transaction — a deadline must not stay wrong once the notice is known — and the
journal entry lists every one that moved.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from engine.db.admin_tables import AdminEventRow
from engine.db.tables import CaseRow, TaskRow
from engine.enums import CaseStatus, TaskStatus
from engine.errors import ValidationError
from engine.rules.deadlines import schedule_horizon
from engine.rules.workdays import Coverage, WorkingCalendar
from engine.stored_calendar import SCHEDULE_EVENT
from engine.usecases.access import require_platform_admin
from engine.usecases.calendar import ADMIN_ONLY, checked_reason, store_day
from engine.usecases.tasksync import sync_tasks
from engine.values import Clock, EnterHolidaySchedule

if TYPE_CHECKING:
    from engine.services import Services

FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_DAYS = 120  # a year's notice names some 30 days off and make-up days; more is a typing accident
_RANGE_MARK = re.compile(r"\s*(?:\.\.|～|~|至)\s*")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class MovedDeadline:
    case_number: str
    timer: str
    before: dt.datetime
    after: dt.datetime


@dataclass(frozen=True)
class ScheduleEntered:
    year: int
    reference: str
    complete: bool
    days_off: tuple[dt.date, ...]
    workdays: tuple[dt.date, ...]
    moved: tuple[MovedDeadline, ...]


@dataclass(frozen=True)
class HolidaySchedule:
    """The newest journalled schedule entry of a year."""

    year: int
    reference: str
    complete: bool
    days_off: int
    workdays: int
    entered_by: str
    entered_at: dt.datetime
    moved: int


def parse_days(text: str) -> list[dt.date]:
    """Dates from a list typed by a person: one date or a range `a..b` (also 至, ~) per line or comma."""
    days: list[dt.date] = []
    for item in re.split(r"[,，;；、\s]+", _RANGE_MARK.sub("..", text)):
        if not item:
            continue
        match = _RANGE.match(item)
        try:
            if match:
                first, last = dt.date.fromisoformat(match[1]), dt.date.fromisoformat(match[2])
                if last < first or (last - first).days > 31:
                    raise ValueError(item)
                days.extend(first + dt.timedelta(days=n) for n in range((last - first).days + 1))
            else:
                days.append(dt.date.fromisoformat(item))
        except ValueError as exc:
            raise ValueError(f"无法识别的日期 (not a date or range YYYY-MM-DD..YYYY-MM-DD): {item}") from exc
    return days


def _checked(year: int, days_off: list[dt.date], workdays: list[dt.date]) -> None:
    errors: dict[str, str] = {}
    if not FIRST_YEAR <= year <= LAST_YEAR:
        errors["year"] = f"年份应在 {FIRST_YEAR} 到 {LAST_YEAR} 之间 (year out of range)"
    if not days_off:
        errors["days_off"] = "请填写放假日期 (the days off are required)"
    for name, days in (("days_off", days_off), ("workdays", workdays)):
        stray = sorted({d for d in days if d.year != year})
        if stray:
            errors[name] = (f"不属于 {year} 年 (not in {year}): {', '.join(d.isoformat() for d in stray[:5])}；"
                            "跨年的调休日请在单日调整中录入 (enter a day of another year as a single override)")
    both = sorted(set(days_off) & set(workdays))
    if both:
        errors["workdays"] = f"同一天不能既放假又上班 (a day cannot be both): {', '.join(d.isoformat() for d in both)}"
    if len(set(days_off) | set(workdays)) > MAX_DAYS:
        errors["days_off"] = f"日期过多，最多 {MAX_DAYS} 天 (more than {MAX_DAYS} days)"
    if errors:
        raise ValidationError(next(iter(errors.values())), errors)


def enter_holiday_schedule(cmd: EnterHolidaySchedule, *, svc: Services, clock: Clock) -> ScheduleEntered:
    """Store a year's announced schedule as overrides, and — when `complete` — mark the year covered and
    count the open cases' deadlines into it again. One transaction: all of it or nothing."""
    year, days_off, workdays, user_id = cmd.year, list(cmd.days_off), list(cmd.workdays), cmd.user_id
    reference, complete = cmd.reference, cmd.complete
    reference = checked_reason(reference, "reference")
    _checked(year, days_off, workdays)
    now = clock()
    reason = f"{reference}（{year} 年放假安排 / {year} holiday schedule）"
    off, on = tuple(sorted(set(days_off))), tuple(sorted(set(workdays)))
    with svc.uow() as work:
        session = work.session
        require_platform_admin(session, user_id, ADMIN_ONLY)
        for day in off:
            store_day(session, day, False, reason=reason, user_id=user_id, now=now)
        for day in on:
            store_day(session, day, True, reason=reason, user_id=user_id, now=now)
        entry = AdminEventRow(kind=SCHEDULE_EVENT, subject=str(year), actor=user_id, at=now, detail={
            "year": year, "reference": reference, "complete": complete,
            "days_off": [d.isoformat() for d in off], "workdays": [d.isoformat() for d in on], "moved": []})
        session.add(entry)
        session.flush()
        moved = _recount_deadlines(svc, session, svc.calendar_store.read(session), year, clock) if complete else []
        entry.detail = {**entry.detail, "moved": [
            {"case": m.case_number, "timer": m.timer, "before": m.before.isoformat(), "after": m.after.isoformat()}
            for m in moved]}
        work.commit()
    svc.calendar_store.invalidate()
    return ScheduleEntered(year, reference, complete, off, on, tuple(moved))


def _recount_deadlines(svc: Services, session: Session, calendar: WorkingCalendar, year: int,
                       clock: Clock) -> list[MovedDeadline]:
    """Open cases with a deadline or timer at or after the start of `year`: their waiting timers evaluated
    again under `calendar` (from the moment each was first evaluated); task rows follow."""
    from engine.spiff.instance import ProcessInstance

    since = calendar.start_of_day(dt.date(year, 1, 1))
    later_task = exists().where(TaskRow.case_id == CaseRow.id, TaskRow.status == TaskStatus.READY, TaskRow.due_at >= since)
    cases = session.scalars(select(CaseRow).where(CaseRow.status == CaseStatus.OPEN,
                                                  or_(CaseRow.next_timer_at >= since, later_task))
                            .order_by(CaseRow.id).with_for_update())
    moved: list[MovedDeadline] = []
    for case in cases:
        definition = svc.definition(session, case.definition_id)
        instance = ProcessInstance.restore(definition, case.state, clock=clock, settings=svc.settings,
                                           calendar=calendar)
        changed = instance.recompute_timers(since)
        if not changed:
            continue
        sync_tasks(session, case, instance, definition, clock)
        case.state = instance.serialize()
        moved.extend(MovedDeadline(case.number, m.timer, dt.datetime.fromisoformat(m.deadline_before),
                                   dt.datetime.fromisoformat(m.deadline_after)) for m in changed)
    return moved


def holiday_schedules(svc: Services) -> list[HolidaySchedule]:
    """Per year, the newest schedule entry, newest year first."""
    newest: dict[int, Any] = {}
    with svc.uow.read() as session:
        for row in session.scalars(select(AdminEventRow).where(AdminEventRow.kind == SCHEDULE_EVENT)
                                   .order_by(AdminEventRow.id)):
            newest[int(row.subject)] = row
    return [HolidaySchedule(year, str(r.detail.get("reference", "")), bool(r.detail.get("complete")),
                            len(r.detail.get("days_off", [])), len(r.detail.get("workdays", [])), r.actor, r.at,
                            len(r.detail.get("moved", [])))
            for year, r in sorted(newest.items(), reverse=True)]


@dataclass(frozen=True)
class YearCoverage:
    """One year of the calendar: where its schedule comes from, and whether it is needed now (deadlines
    computed today may reach it) but missing."""

    year: int
    coverage: Coverage
    reference: str
    needed: bool

    def to_json(self) -> dict[str, Any]:
        return {"year": self.year, "coverage": str(self.coverage), "reference": self.reference,
                "needed": self.needed}


def calendar_coverage(svc: Services, *, now: dt.datetime, first: int | None = None,
                      count: int = 4) -> list[YearCoverage]:
    """From `first` (default: last year) for `count` years, and at least up to the schedule horizon."""
    calendar = svc.calendar
    this_year = calendar.local_date(now).year
    horizon = schedule_horizon(svc.settings, calendar, now).year
    first = this_year - 1 if first is None else first
    package = f"chinesecalendar {version('chinesecalendar')}"
    out = []
    for year in range(first, max(first + count, horizon + 1)):
        source = calendar.coverage(year)
        reference = {Coverage.OFFICIAL: package, Coverage.SCHEDULE: calendar.schedules.get(year, "")}.get(source, "")
        out.append(YearCoverage(year, source, reference,
                                needed=source is Coverage.NONE and this_year <= year <= horizon))
    return out


def missing_schedules(svc: Services, *, now: dt.datetime) -> list[int]:
    """The years whose schedule an administrator is asked for now."""
    return [c.year for c in calendar_coverage(svc, now=now, count=1) if c.needed]
