"""Working-day overrides (工作日调整) stored in the database, journalled, and seen by every process.

行政处罚法 第八十五条 counts most short periods in working days, so a day the agency declares a working day
or a day off moves deadlines. The official calendar (chinesecalendar) and `working_day_overrides` in
workflows/settings.json are the base; what an administrator stores here overrides both, and every
`Services` on the same database — another gunicorn worker, the timer worker — picks it up on its next
deadline computation (see `StoredCalendar`).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db.admin_tables import AdminEventRow, WorkingDayOverrideRow
from engine.errors import Conflict, ValidationError
from engine.roles import require_admin
from engine.rules.workdays import CalendarWarning, WorkingCalendar
from engine.values import Clock

if TYPE_CHECKING:
    from engine.db.session import UnitOfWork
    from engine.services import Services

CALENDAR_EVENT = "working_day_override"
# A year's announced schedule entered (engine/usecases/schedules.py): the journal is also where the
# calendar reads which years it covers, the newest entry per year deciding.
SCHEDULE_EVENT = "holiday_schedule"
CALENDAR_KINDS = (CALENDAR_EVENT, SCHEDULE_EVENT)
# How stale another process's view may be: a change is seen by every worker within this many seconds (the
# process that made it sees it at once). One indexed read per second and process at most, however many
# deadlines are computed — an audit of 100,000 cases asks for the calendar twice per case.
CALENDAR_MAX_AGE = 1.0
MAX_REASON = 500


@dataclass(frozen=True)
class WorkingDayOverride:
    day: dt.date
    is_workday: bool
    reason: str
    set_by: str  # "settings.json" for the base overrides of the province settings
    set_at: dt.datetime | None
    stored: bool


@dataclass(frozen=True)
class WorkingDayChange:
    """One entry of the journal: `is_workday` None means the stored override was removed."""

    day: dt.date
    is_workday: bool | None
    previous: bool | None
    reason: str
    actor: str
    at: dt.datetime


def set_working_day_override(svc: Services, day: dt.date, workday: bool | None, *, user_id: str, reason: str,
                             clock: Clock) -> None:
    """Declare `day` a working day (True) or a day off (False), or remove the stored override (None).

    The change and its journal entry commit together; the reason is required because a moved deadline
    must be explainable to the party and to the court.
    """
    reason = checked_reason(reason, "reason")
    now = clock()
    with svc.uow() as session:
        require_admin(session, user_id, ADMIN_ONLY)
        store_day(session, day, workday, reason=reason, user_id=user_id, now=now)
    svc.calendar_store.invalidate()


ADMIN_ONLY = "只有系统管理员可以调整工作日 (only an administrator may change working days)"


def checked_reason(reason: str, field: str) -> str:
    """The reason stripped; refused when empty or too long (it is shown to the party and the court)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError("请填写调整理由 (a reason is required)", {field: "请填写调整理由 (required)"})
    if len(reason) > MAX_REASON:
        raise ValidationError("调整理由过长 (reason too long)", {field: f"最多 {MAX_REASON} 字 (max {MAX_REASON})"})
    return reason


def store_day(session: Session, day: dt.date, workday: bool | None, *, reason: str, user_id: str,
              now: dt.datetime) -> None:
    """Store (or remove, None) one day's override with its journal entry, in the caller's transaction."""
    row = session.get(WorkingDayOverrideRow, day, with_for_update=True)
    previous = None if row is None else row.is_workday
    if workday is None:
        if row is None:
            raise Conflict(f"{day.isoformat()} 没有已保存的调整 (no stored override for that day)")
        session.delete(row)
    elif row is None:
        session.add(WorkingDayOverrideRow(day=day, is_workday=workday, reason=reason, set_by=user_id, set_at=now))
    else:
        row.is_workday, row.reason, row.set_by, row.set_at = workday, reason, user_id, now
    session.add(AdminEventRow(kind=CALENDAR_EVENT, subject=day.isoformat(), actor=user_id, at=now,
                              detail={"day": day.isoformat(), "is_workday": workday, "previous": previous,
                                      "reason": reason}))


def working_day_overrides(svc: Services) -> list[WorkingDayOverride]:
    """Every override in force, by day: the stored ones, and those of settings.json they do not replace."""
    with svc.uow.read() as session:
        stored = {r.day: WorkingDayOverride(r.day, r.is_workday, r.reason, r.set_by, r.set_at, True)
                  for r in session.scalars(select(WorkingDayOverrideRow))}
    base = {day: WorkingDayOverride(day, work, "", "settings.json", None, False)
            for day, work in svc.settings.working_day_overrides.items()}
    return [v for _, v in sorted({**base, **stored}.items())]


def working_day_changes(svc: Services, *, limit: int = 50) -> list[WorkingDayChange]:
    """The journal of stored overrides, newest first."""
    with svc.uow.read() as session:
        rows = session.scalars(select(AdminEventRow).where(AdminEventRow.kind == CALENDAR_EVENT)
                               .order_by(AdminEventRow.id.desc()).limit(limit))
        return [WorkingDayChange(dt.date.fromisoformat(r.subject), r.detail.get("is_workday"),
                                 r.detail.get("previous"), str(r.detail.get("reason", "")), r.actor, r.at)
                for r in rows]


# --- every process sees the stored overrides ----------------------------------------------------------
class StoredCalendar:
    """The calendar a `Services` hands out: the base overrides plus the stored ones, reloaded when changed.

    At most every `max_age` seconds it reads the version — (number of journalled changes, newest journal
    id): the journal is append-only, so every commit raises the count, also when two administrators'
    changes commit out of id order — and reads the overrides only when the version moved.
    """

    def __init__(self, base: WorkingCalendar, *, max_age: float = CALENDAR_MAX_AGE,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._base = dict(base.overrides)
        self._base_schedules = dict(base.schedules)
        self._warnings = base.warnings  # shared: a warning found by any version stays visible
        self._calendar = base
        self._version: tuple[int, int] | None = None
        self._checked_at = 0.0
        self._max_age = max_age
        self._monotonic = monotonic
        self._lock = threading.Lock()

    def current(self, uow: UnitOfWork) -> WorkingCalendar:
        now = self._monotonic()
        if self._version is not None and now - self._checked_at < self._max_age:
            return self._calendar
        with uow.read() as session:
            version = _version(session)
            stored = None if version == self._version else (_stored_overrides(session), stored_schedules(session))
        with self._lock:
            if stored is not None:
                days, schedules = stored
                self._calendar = WorkingCalendar(overrides={**self._base, **days}, warnings=self._warnings,
                                                 schedules={**self._base_schedules, **schedules})
                self._version = version
            self._checked_at = now
            return self._calendar

    @property
    def warnings(self) -> list[CalendarWarning]:
        """The years deadlines were counted into without a schedule, by this process (any version)."""
        return self._warnings

    def read(self, session: Session) -> WorkingCalendar:
        """The calendar as `session` sees the database now (inside a transaction that just changed it)."""
        return WorkingCalendar(overrides={**self._base, **_stored_overrides(session)}, warnings=[],
                               schedules={**self._base_schedules, **stored_schedules(session)})

    def invalidate(self) -> None:
        """Read the version on the next use (this process just changed the overrides)."""
        self._version = None


def _version(session: Session) -> tuple[int, int]:
    count, newest = session.execute(select(func.count(), func.max(AdminEventRow.id))
                                    .where(AdminEventRow.kind.in_(CALENDAR_KINDS))).one()
    return int(count or 0), int(newest or 0)


def _stored_overrides(session: Session) -> Mapping[dt.date, bool]:
    return {day: work for day, work in session.execute(select(WorkingDayOverrideRow.day,
                                                              WorkingDayOverrideRow.is_workday))}


def stored_schedules(session: Session) -> dict[int, str]:
    """year -> reference of every year whose newest journalled schedule entry declared it complete."""
    newest: dict[int, dict] = {}
    for row in session.scalars(select(AdminEventRow).where(AdminEventRow.kind == SCHEDULE_EVENT)
                               .order_by(AdminEventRow.id)):
        newest[int(row.subject)] = row.detail
    return {year: str(d.get("reference", "")) for year, d in newest.items() if d.get("complete")}
