"""Which years the working-day calendar knows, and which deadlines are therefore provisional (暂定)."""

import datetime as dt

import chinese_calendar

from engine.rules.deadlines import calendar_for
from engine.rules.settings import load_settings, parse_settings
from engine.rules.workdays import Coverage, WorkingCalendar

D = dt.date
CHINA = dt.timezone(dt.timedelta(hours=8))
# TEST DATA, not the State Council's 2027 notice (none was published in any source we found): a made-up
# schedule that makes Mon 2027-03-08 a day off and Sat 2027-03-13 a working day.
TEST_SCHEDULE_2027 = {D(2027, 1, 1): False, D(2027, 3, 8): False, D(2027, 3, 13): True}


def test_the_packaged_years_are_official_and_the_next_year_is_not_covered():
    cal = WorkingCalendar(zone=CHINA)
    assert cal.coverage(2026) is Coverage.OFFICIAL
    assert cal.coverage(2004) is Coverage.OFFICIAL
    assert cal.coverage(2027) is Coverage.NONE
    assert not cal.covers(2027)


def test_a_deadline_counted_into_an_uncovered_year_is_provisional_from_the_start_without_counting():
    cal = WorkingCalendar(zone=CHINA)
    assert cal.uncovered_years(D(2026, 12, 6), D(2027, 3, 8)) == (2027,)
    assert cal.uncovered_years(D(2026, 9, 1), D(2026, 12, 31)) == ()
    assert cal.uncovered_years(D(2027, 3, 8), D(2026, 12, 6)) == (2027,)  # either order
    assert cal.warnings == []  # known up front: nothing was counted


def test_an_entered_schedule_covers_its_year_and_moves_its_days():
    plain = WorkingCalendar(zone=CHINA)
    scheduled = WorkingCalendar(overrides=TEST_SCHEDULE_2027, schedules={2027: "测试数据 TEST-2027"}, zone=CHINA)
    assert scheduled.coverage(2027) is Coverage.SCHEDULE
    assert scheduled.uncovered_years(D(2026, 12, 6), D(2027, 3, 8)) == ()
    assert plain.add_calendar_days(D(2026, 12, 6), 90) == D(2027, 3, 8)  # Sat 6 Mar -> Mon 8 Mar
    assert scheduled.add_calendar_days(D(2026, 12, 6), 90) == D(2027, 3, 9)  # 8 Mar is off in the test data
    assert scheduled.is_workday(D(2027, 3, 13))
    assert not plain.is_workday(D(2027, 3, 13))
    assert scheduled.warnings == []  # a covered year is counted without a fallback warning
    assert [w.year for w in plain.warnings] == [2027]


def test_settings_can_carry_a_whole_years_schedule():
    raw = dict(load_settings().raw)
    raw["working_day_overrides"] = {"days": {"2027-01-01": False}, "schedules": {"2027": "测试数据 TEST-2027"}}
    cal = calendar_for(parse_settings(raw))
    assert cal.coverage(2027) is Coverage.SCHEDULE
    assert calendar_for(load_settings()).coverage(2027) is Coverage.NONE


def test_the_official_coverage_is_what_the_installed_package_raises_on():
    # Guards the probe in official_covers: the package refuses the years it lacks.
    last = max(d.year for d in chinese_calendar.holidays)
    assert WorkingCalendar(zone=CHINA).covers(last)
    assert not WorkingCalendar(zone=CHINA).covers(last + 1)
