import copy
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from engine.errors import ConfigurationError
from engine.rules.deadlines import calendar_for, due_at, warn_at
from engine.rules.settings import load_settings, parse_settings
from engine.rules.workdays import WorkingCalendar

D = dt.date
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def test_national_day_2026_is_skipped_and_make_up_saturday_counts():
    cal = WorkingCalendar(zone=SHANGHAI)
    # Served Tue 29 Sep 2026: 30 Sep is day 1; 1–7 Oct are off; 8, 9 Oct, Sat 10 Oct (调休) and Mon 12 Oct.
    assert cal.add_working_days(D(2026, 9, 29), 5) == D(2026, 10, 12)
    assert cal.is_workday(D(2026, 10, 10))  # make-up Saturday
    assert cal.is_workday(D(2026, 9, 20))  # make-up Sunday
    assert not cal.is_workday(D(2026, 10, 5))
    assert not cal.is_workday(D(2026, 10, 11))


def test_first_day_is_not_counted():
    cal = WorkingCalendar(zone=SHANGHAI)
    assert cal.add_working_days(D(2026, 11, 23), 1) == D(2026, 11, 24)
    assert cal.add_working_days(D(2026, 11, 27), 1) == D(2026, 11, 30)  # Fri -> Mon


def test_calendar_period_ending_on_holiday_moves_to_next_working_day():
    cal = WorkingCalendar(zone=SHANGHAI)
    # 15 calendar days from 20 Sep 2026 end on 5 Oct (holiday) -> 8 Oct.
    assert cal.add_calendar_days(D(2026, 9, 20), 15) == D(2026, 10, 8)
    assert cal.add_calendar_days(D(2026, 11, 2), 15) == D(2026, 11, 17)


def test_uncovered_year_falls_back_to_weekdays_with_a_warning():
    cal = WorkingCalendar(zone=SHANGHAI)
    assert not cal.covers(2027)
    assert cal.is_workday(D(2027, 1, 4))  # a Monday; no official data yet
    assert not cal.is_workday(D(2027, 1, 9))
    assert [w.year for w in cal.warnings] == [2027]
    assert "2027" in cal.warnings[0].message


def test_overrides_win_over_the_official_calendar():
    cal = WorkingCalendar(overrides={D(2027, 2, 8): False, D(2026, 10, 11): True}, zone=SHANGHAI)
    assert not cal.is_workday(D(2027, 2, 8))
    assert cal.is_workday(D(2026, 10, 11))
    assert not cal.covers(2027)  # one day off is not the year's schedule


def test_working_days_between_counts_both_directions():
    cal = WorkingCalendar(zone=SHANGHAI)
    assert cal.working_days_between(D(2026, 9, 29), D(2026, 10, 12)) == 5
    assert cal.working_days_between(D(2026, 10, 12), D(2026, 9, 29)) == -5


def test_hearing_request_deadline_is_end_of_local_day_in_utc():
    settings = load_settings()
    cal = WorkingCalendar(zone=SHANGHAI)
    served = dt.datetime(2026, 9, 29, 10, 0, tzinfo=SHANGHAI)
    due = due_at("hearing_request", served, settings, cal)
    assert due == dt.datetime(2026, 10, 12, 23, 59, 59, tzinfo=SHANGHAI)
    assert due.tzinfo == dt.UTC


def test_decision_deadline_is_90_calendar_days_and_warns_ten_days_before():
    settings = load_settings()
    cal = WorkingCalendar(zone=SHANGHAI)
    filed = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
    due = due_at("decision_deadline", filed, settings, cal)
    assert due.astimezone(SHANGHAI).date() == D(2026, 6, 1)  # 31 May is a Sunday -> Monday
    warn = warn_at("decision_deadline", filed, settings, cal)
    assert warn.astimezone(SHANGHAI).date() == D(2026, 5, 22)


def _settings_in(zone: str):
    raw = copy.deepcopy(dict(load_settings().raw))
    raw["agency"]["timezone"] = zone
    return parse_settings(raw)


def test_the_day_a_deadline_ends_is_the_day_in_the_agency_time_zone_of_the_settings():
    settings = _settings_in("Asia/Urumqi")  # UTC+6: the same served moment, a day that ends two hours later
    served = dt.datetime(2026, 9, 29, 10, 0, tzinfo=dt.UTC)
    due = due_at("hearing_request", served, settings, calendar_for(settings))
    assert due == dt.datetime(2026, 10, 12, 23, 59, 59, tzinfo=ZoneInfo("Asia/Urumqi"))
    assert due - due_at("hearing_request", served, load_settings(), calendar_for(load_settings())) == dt.timedelta(hours=2)


def test_an_unknown_agency_time_zone_is_refused_when_the_settings_load():
    with pytest.raises(ConfigurationError, match="timezone"):
        _settings_in("Asia/Nowhere")
