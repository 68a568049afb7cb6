"""Chinese working days (工作日) with 调休 make-up days, and which years the calendar really knows.

行政处罚法 Art 85: "二日""三日""五日""七日" are working days, excluding statutory holidays; 调休 make-up
days are working days. A year's days off and make-up days are whatever the State Council's notice
(国务院办公厅关于某年部分节假日安排的通知, usually published in November) says: they cannot be derived
from a rule. A year is covered (`Coverage`) when its notice is known to the calendar:

- OFFICIAL: the `chinesecalendar` package, which carries each notice once published and raises
  NotImplementedError for later years (docs/calendar.md: which release covers which years, and why no
  other package on PyPI serves as a second source);
- SCHEDULE: an administrator entered the year's announced schedule as overrides and declared it complete
  (engine/usecases/calendar.py), or settings.json lists the year under `working_day_overrides.schedules`;
- NONE: Mon–Fri is assumed, and every deadline counted into the year is provisional (`uncovered_years`):
  a wrong deadline is worse than a loud one. Single overrides alone never make a year covered.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import chinese_calendar


class Coverage(enum.StrEnum):
    OFFICIAL = "official"
    SCHEDULE = "schedule"
    NONE = "none"


@dataclass(frozen=True)
class CalendarWarning:
    year: int
    message: str


@lru_cache(maxsize=256)
def official_covers(year: int) -> bool:
    """Whether the installed chinesecalendar carries the State Council's notice for `year`."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@dataclass
class WorkingCalendar:
    """Decides whether a day is a working day: overrides first, then the official calendar, then Mon–Fri.

    `schedules` maps a year to the reference of the announced schedule (通知文号) that `overrides` carry in
    full for it: such a year counts as covered though the package does not know it. Days are the agency's
    local days in `zone` (settings.json `agency.timezone`, `Settings.zone`): `local_date` turns a moment into one.
    """

    overrides: Mapping[dt.date, bool] = field(default_factory=dict)
    warnings: list[CalendarWarning] = field(default_factory=list)
    schedules: Mapping[int, str] = field(default_factory=dict)
    zone: dt.tzinfo = field(kw_only=True)

    def local_date(self, moment: dt.datetime) -> dt.date:
        """The agency's day `moment` falls on."""
        if moment.tzinfo is None:
            raise ValueError("a moment must be timezone-aware to fall on a local day")
        return moment.astimezone(self.zone).date()

    def start_of_day(self, day: dt.date) -> dt.datetime:
        """The UTC moment the agency's `day` begins."""
        return dt.datetime.combine(day, dt.time(0, 0), self.zone).astimezone(dt.UTC)

    def end_of_day(self, day: dt.date) -> dt.datetime:
        """The UTC moment of the last second of the agency's `day`."""
        return dt.datetime.combine(day, dt.time(23, 59, 59), self.zone).astimezone(dt.UTC)

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if official_covers(day.year):
            return bool(chinese_calendar.is_workday(day))
        if day.year not in self.schedules:
            self._warn_uncovered(day.year)
        return day.weekday() < 5

    def coverage(self, year: int) -> Coverage:
        """Where the year's holidays and make-up days come from; an entered schedule wins over the package
        (overrides are consulted first, so a revised notice entered for a packaged year is what counts)."""
        if year in self.schedules:
            return Coverage.SCHEDULE
        return Coverage.OFFICIAL if official_covers(year) else Coverage.NONE

    def covers(self, year: int) -> bool:
        """True when the year's announced schedule is known: from the package or entered in full."""
        return self.coverage(year) is not Coverage.NONE

    def uncovered_years(self, start: dt.date, end: dt.date) -> tuple[int, ...]:
        """The years from `start` to `end` (either order) whose schedule is not known: a deadline counted
        across them is provisional — its day may move once the notice is in."""
        low, high = sorted((start.year, end.year))
        return tuple(y for y in range(low, high + 1) if not self.covers(y))

    def _warn_uncovered(self, year: int) -> None:
        if any(w.year == year for w in self.warnings):
            return
        self.warnings.append(CalendarWarning(
            year,
            f"{year} 年的法定节假日数据未覆盖：按周一至周五计算工作日，期限为暂定，请录入该年放假安排"
            f" (no holiday data for {year}: Mon–Fri assumed, deadlines are provisional; enter the year's schedule)",
        ))

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The day on which a period of `days` working days starting on `start` ends.

        民事诉讼法 Art 85 (applied to 送达 and by analogy): the day the period starts is not counted.
        """
        if days < 0:
            raise ValueError("days must be >= 0")
        current = start
        remaining = days
        while remaining > 0:
            current += dt.timedelta(days=1)
            if self.is_workday(current):
                remaining -= 1
        return current

    def subtract_working_days(self, end: dt.date, days: int) -> dt.date:
        current = end
        remaining = days
        while remaining > 0:
            current -= dt.timedelta(days=1)
            if self.is_workday(current):
                remaining -= 1
        return current

    def add_calendar_days(self, start: dt.date, days: int) -> dt.date:
        """A calendar-day period; if it ends on a day off it moves to the next working day (民诉法 Art 85)."""
        end = start + dt.timedelta(days=days)
        while not self.is_workday(end):
            end += dt.timedelta(days=1)
        return end

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (negative when end is before start)."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        current = start
        while current < end:
            current += dt.timedelta(days=1)
            if self.is_workday(current):
                count += 1
        return count
