"""Counting a waiting timer again once the holiday schedule of the year it reaches is known (docs/calendar.md)."""

from __future__ import annotations

import datetime as dt

from engine.rules.workdays import WorkingCalendar
from engine.spiff.clocks import MutableClock
from engine.spiff.driving import intake_data
from engine.spiff.instance import ProcessInstance

BEIJING = dt.timezone(dt.timedelta(hours=8))
# TEST DATA, not the State Council's 2027 notice (no source carries it yet): New Year's Day off.
TEST_2027 = WorkingCalendar(overrides={dt.date(2027, 1, 1): False}, schedules={2027: "测试数据 TEST-2027"}, zone=BEIJING)
NEW_YEAR = dt.datetime(2027, 1, 1, tzinfo=BEIJING)


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=BEIJING)


def _registered(definition, settings, calendar, moment):
    return ProcessInstance.start(definition, intake_data(now=moment), clock=MutableClock(moment), settings=settings,
                                 calendar=calendar)


def _restored(definition, settings, instance, calendar, moment):
    return ProcessInstance.restore(definition, instance.serialize(), clock=MutableClock(moment), settings=settings,
                                   calendar=calendar)


def test_a_deadline_counted_mon_fri_into_an_uncovered_year_moves_when_the_schedule_is_known(definition, settings):
    # Registered Mon 2026-12-28: 7 working days are 12/29, 12/30, 12/31, 1/1 (a Friday: Mon–Fri), 1/4, 1/5, 1/6.
    instance = _registered(definition, settings, WorkingCalendar(zone=BEIJING), _at("2026-12-28T10:00:00"))
    [review] = instance.ready_user_tasks()
    assert review.due == _at("2027-01-06T23:59:59")
    later = _restored(definition, settings, instance, TEST_2027, _at("2026-12-30T10:00:00"))
    [moved] = later.recompute_timers(NEW_YEAR)
    assert (moved.timer, moved.deadline_before[:10], moved.deadline_after[:10]) == (
        "warn_acceptance_review", "2027-01-06", "2027-01-07")
    [review] = later.ready_user_tasks()
    assert review.due == _at("2027-01-07T23:59:59")  # 1/1 is off in the entered schedule
    assert later.next_timer_due() == _at("2027-01-05T00:00:00")  # the 督办 warning two working days before
    assert later.recompute_timers(NEW_YEAR) == []  # counted under the same calendar: nothing moves again


def test_a_deadline_before_the_year_is_left_alone(definition, settings):
    # Registered Tue 2026-12-01: due Thu 2026-12-10, before the year the schedule concerns.
    instance = _registered(definition, settings, WorkingCalendar(zone=BEIJING), _at("2026-12-01T10:00:00"))
    [before] = instance.ready_user_tasks()
    later = _restored(definition, settings, instance, TEST_2027, _at("2026-12-02T10:00:00"))
    assert later.recompute_timers(NEW_YEAR) == []
    assert [t.due for t in later.ready_user_tasks()] == [before.due]
