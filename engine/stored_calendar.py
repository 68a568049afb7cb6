"""The working-day calendar every process sees: the province's base overrides (workflows/settings.json) with
those an administrator stored on top (engine/usecases/calendar.py, engine/usecases/schedules.py), re-read
when another process changed them.

`Services` holds one `StoredCalendar`; the use cases that store a day or a schedule write the journal kinds
named here, and the version read below is what tells every other process that they did.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db.admin_tables import AdminEventRow, WorkingDayOverrideRow
from engine.rules.workdays import CalendarWarning, WorkingCalendar

if TYPE_CHECKING:
    from engine.db.session import UnitOfWork

CALENDAR_EVENT = "working_day_override"
# A year's announced schedule entered (engine/usecases/schedules.py): the journal is also where the
# calendar reads which years it covers, the newest entry per year deciding.
SCHEDULE_EVENT = "holiday_schedule"
CALENDAR_KINDS = (CALENDAR_EVENT, SCHEDULE_EVENT)
# How stale another process's view may be: a change is seen by every worker within this many seconds (the
# process that made it sees it at once). One indexed read per second and process at most, however many
# deadlines are computed — an audit of 100,000 cases asks for the calendar twice per case.
CALENDAR_MAX_AGE = 1.0


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
        self._zone = base.zone
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
                                                 schedules={**self._base_schedules, **schedules}, zone=self._zone)
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
                               schedules={**self._base_schedules, **stored_schedules(session)}, zone=self._zone)

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
