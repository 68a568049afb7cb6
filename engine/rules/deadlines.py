"""Statutory deadlines: a time limit from the settings applied to a start moment.

A deadline falls at the end of its last day in the agency's local time (settings.json `agency.timezone`,
carried by the working calendar): a party who acts on the last day acts in time.
"""

from __future__ import annotations

import datetime as dt

from engine.rules.settings import DayUnit, Settings, TimeLimit
from engine.rules.workdays import WorkingCalendar


def due_date(limit: TimeLimit, start: dt.datetime, calendar: WorkingCalendar) -> dt.date:
    """The local date on which `limit` runs out when it starts at `start`."""
    day = calendar.local_date(start)
    if limit.unit is DayUnit.WORKING:
        return calendar.add_working_days(day, limit.days)
    return calendar.add_calendar_days(day, limit.days)


def due_at(limit_id: str, start: dt.datetime, settings: Settings, calendar: WorkingCalendar) -> dt.datetime:
    """The UTC moment at which the time limit `limit_id` started at `start` has run out."""
    return calendar.end_of_day(due_date(settings.limit(limit_id), start, calendar))


def warn_at(limit_id: str, start: dt.datetime, settings: Settings, calendar: WorkingCalendar) -> dt.datetime:
    """When a step guarded by `limit_id` counts as soon due (督办 is raised): warn_before_days before the end.

    The warning is the start of that local day, in the limit's own unit.
    """
    limit = settings.limit(limit_id)
    end = due_date(limit, start, calendar)
    if limit.unit is DayUnit.WORKING:
        day = calendar.subtract_working_days(end, limit.warn_before_days)
    else:
        day = end - dt.timedelta(days=limit.warn_before_days)
    return calendar.start_of_day(max(day, calendar.local_date(start)))


def schedule_horizon(settings: Settings, calendar: WorkingCalendar, now: dt.datetime) -> dt.date:
    """The day the longest statutory period started at `now` would end: every year up to it needs its
    holiday schedule now, or deadlines computed today are provisional (from about October, the next year).
    Counted on a copy, so this look-ahead is not mistaken for a deadline computed into an uncovered year."""
    probe = WorkingCalendar(overrides=calendar.overrides, schedules=calendar.schedules, zone=calendar.zone)
    return max(due_date(limit, now, probe) for limit in settings.time_limits.values())


def calendar_for(settings: Settings) -> WorkingCalendar:
    return WorkingCalendar(overrides=dict(settings.working_day_overrides),
                           schedules=dict(settings.announced_schedules), zone=settings.zone)
