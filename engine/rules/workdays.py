"""Chinese working days (工作日) with 调休 make-up days.

行政处罚法 Art 85: "二日""三日""五日""七日" are working days, excluding statutory holidays; 调休 make-up
days are working days. The official calendar comes from the `chinesecalendar` package, which only covers
years whose State Council notice has been published (it raises NotImplementedError beyond). Agencies
fill gaps or local changes with an override table; for a year neither covers we fall back to Mon–Fri
and record a warning, because a wrong deadline is worse than a loud one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import chinese_calendar


@dataclass(frozen=True)
class CalendarWarning:
    year: int
    message: str


@dataclass
class WorkingCalendar:
    """Decides whether a day is a working day: overrides first, then the official calendar, then Mon–Fri."""

    overrides: Mapping[dt.date, bool] = field(default_factory=dict)
    warnings: list[CalendarWarning] = field(default_factory=list)

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            self._warn_uncovered(day.year)
            return day.weekday() < 5

    def covers(self, year: int) -> bool:
        """True when the official calendar (or an override for that year) knows the year's holidays."""
        if any(d.year == year for d in self.overrides):
            return True
        try:
            chinese_calendar.is_workday(dt.date(year, 1, 1))
        except NotImplementedError:
            return False
        return True

    def _warn_uncovered(self, year: int) -> None:
        if any(w.year == year for w in self.warnings):
            return
        self.warnings.append(CalendarWarning(
            year,
            f"{year} 年的法定节假日数据未覆盖：按周一至周五计算工作日，请在工作日调整表中补录或升级 chinesecalendar"
            f" (no holiday data for {year}: Mon–Fri assumed; add overrides or upgrade chinesecalendar)",
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
