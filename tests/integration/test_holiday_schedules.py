"""Deadlines in a year without a known holiday schedule are provisional in every process, and an administrator's
announced schedule, entered in one go, covers the year and moves the deadlines already counted into it.

Today is Sunday 2026-12-06. chinesecalendar 1.11.0 knows 2004–2026 and no package carries 2027's notice
(docs/calendar.md), so the 90-day decision clock (行政处罚法 Art 60) of a case filed today — 90 days end on
Saturday 2027-03-06, a day off, so Monday 2027-03-08 under Mon–Fri — is provisional.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from engine.db.admin_tables import AdminEventRow, WorkingDayOverrideRow
from engine.demo import SCENARIOS, play
from engine.errors import Forbidden, ValidationError
from engine.rules.settings import load_settings
from engine.rules.workdays import Coverage
from engine.services import Services
from engine.startup import build_services
from engine.stored_calendar import CALENDAR_KINDS
from engine.usecases.calendar import working_day_changes
from engine.usecases.cases import case_deadlines
from engine.usecases.schedules import (
    calendar_coverage,
    enter_holiday_schedule,
    holiday_schedules,
    missing_schedules,
    parse_days,
)
from engine.usecases.tasks import list_tasks, show_task
from engine.values import EnterHolidaySchedule, fixed_clock
from tests.conftest import TEST_KDF_COST, at

TODAY = at("2026-12-06 09:00")
CLOCK = fixed_clock(TODAY)
# TEST DATA — not the State Council's 2027 notice, which no source we found carries yet: a made-up
# schedule in which Monday 2027-03-08 is a day off and Saturday 2027-03-13 a working day.
TEST_REFERENCE = "测试数据 TEST-2027（非真实通知 not a real notice）"
TEST_DAYS_OFF = "2027-01-01, 2027-03-08"
TEST_WORKDAYS = "2027-03-13"
INVESTIGATION = "investigation_report"  # the first step under the decision clock (warn("decision_deadline", …))


def _local(moment: dt.datetime) -> dt.date:
    return moment.astimezone(load_settings().zone).date()


@pytest.fixture
def filed(ready_svc):
    """A case filed (立案) today and waiting for its investigation report."""
    steps = [s.spec_id for s in SCENARIOS["penalty_waiver"].steps]
    return play(ready_svc, SCENARIOS["penalty_waiver"], start=TODAY, stop_before=steps.index(INVESTIGATION)).case


@pytest.fixture
def other_worker(ready_svc, db_url, tmp_path):
    """Another process on the same database (another gunicorn worker, the timer worker, a CLI run)."""
    services = build_services(db_url, settings=load_settings(), keys_dir=tmp_path / "agency-keys",
                              kdf_cost=TEST_KDF_COST, upgrade=False, calendar_max_age=0)
    yield services
    services.engine.dispose()


def _enter(svc: Services, *, complete: bool = True, user_id: str = "admin", days_off: str = TEST_DAYS_OFF,
           workdays: str = TEST_WORKDAYS, reference: str = TEST_REFERENCE, year: int = 2027):
    return enter_holiday_schedule(EnterHolidaySchedule(year=year, days_off=tuple(parse_days(days_off)),
                                                       workdays=tuple(parse_days(workdays)), reference=reference,
                                                       complete=complete, user_id=user_id),
                                  svc=svc, clock=CLOCK)


def _investigation(svc: Services, number: str):
    [task] = [t for t in list_tasks(svc, case=number) if t.spec_id == INVESTIGATION]
    return task


def _decision_clock(svc: Services, number: str):
    [decision] = [d for d in case_deadlines(svc, number, now=TODAY) if d.task_id is None]
    return decision


def test_a_deadline_in_an_uncovered_year_is_provisional_in_a_process_that_counted_nothing(filed, other_worker):
    task = _investigation(other_worker, filed.number)
    assert other_worker.calendar_store.warnings == []  # listing counted no day: the flag comes from coverage
    assert _local(task.due_at) == dt.date(2027, 3, 8)
    assert task.provisional and task.uncovered_years == (2027,)
    assert task.to_json()["provisional"] is True
    assert show_task(other_worker, task.id).provisional
    decision = _decision_clock(other_worker, filed.number)
    assert (_local(decision.due_at), decision.provisional) == (dt.date(2027, 3, 8), True)
    assert decision.to_json()["uncovered_years"] == [2027]
    # A step due within 2026 is as certain as before: 受理审查's 7 working days end on 2026-12-15.
    opened = play(other_worker, SCENARIOS["penalty_waiver"], start=TODAY, stop_before=0).case
    [review] = list_tasks(other_worker, case=opened.number)
    assert (_local(review.due_at), review.provisional) == (dt.date(2026, 12, 15), False)


def test_an_entered_schedule_covers_the_year_and_moves_the_deadlines_seen_from_another_process(
        filed, ready_svc, other_worker):
    assert missing_schedules(other_worker, now=TODAY) == [2027]
    entered = _enter(ready_svc)
    assert [(m.case_number, m.timer, _local(m.before), _local(m.after)) for m in entered.moved] == [
        (filed.number, "warn_investigation_report", dt.date(2027, 3, 8), dt.date(2027, 3, 9))]
    task = _investigation(other_worker, filed.number)
    assert (_local(task.due_at), task.provisional) == (dt.date(2027, 3, 9), False)
    decision = _decision_clock(other_worker, filed.number)
    assert (_local(decision.due_at), decision.provisional) == (dt.date(2027, 3, 9), False)
    assert decision.due_at == task.due_at  # the stored step deadline and the live clock agree again
    assert other_worker.calendar.coverage(2027) is Coverage.SCHEDULE
    assert missing_schedules(other_worker, now=TODAY) == []
    [year_2027] = [c for c in calendar_coverage(other_worker, now=TODAY) if c.year == 2027]
    assert (year_2027.coverage, year_2027.reference, year_2027.needed) == (Coverage.SCHEDULE, TEST_REFERENCE, False)


def test_the_schedule_is_journalled_day_by_day_and_as_a_whole(filed, ready_svc):
    _enter(ready_svc)
    changes = working_day_changes(ready_svc)
    assert sorted((c.day.isoformat(), c.is_workday) for c in changes) == [
        ("2027-01-01", False), ("2027-03-08", False), ("2027-03-13", True)]
    assert all(TEST_REFERENCE in c.reason and c.actor == "admin" for c in changes)
    [schedule] = holiday_schedules(ready_svc)
    assert (schedule.year, schedule.reference, schedule.complete, schedule.days_off, schedule.workdays,
            schedule.moved) == (2027, TEST_REFERENCE, True, 2, 1, 1)


def test_an_incomplete_schedule_moves_days_but_leaves_the_year_uncovered_and_its_deadlines_provisional(
        filed, ready_svc, other_worker):
    entered = _enter(ready_svc, complete=False)
    assert entered.moved == ()
    assert other_worker.calendar.coverage(2027) is Coverage.NONE
    assert other_worker.calendar.is_workday(dt.date(2027, 3, 8)) is False  # the days are stored all the same
    task = _investigation(other_worker, filed.number)
    assert (_local(task.due_at), task.provisional) == (dt.date(2027, 3, 8), True)
    _enter(ready_svc)  # declared complete later: covered, and the deadline moves then
    assert _investigation(other_worker, filed.number).provisional is False


@pytest.mark.parametrize(("changes", "error"), [
    ({"user_id": "officer1"}, Forbidden),
    ({"reference": "  "}, ValidationError),
    ({"days_off": ""}, ValidationError),
    ({"days_off": "2026-12-31, 2027-01-01"}, ValidationError),  # a day of another year
    ({"workdays": "2027-03-08"}, ValidationError),  # both off and working
    ({"year": 1999}, ValidationError),
])
def test_a_refused_schedule_writes_nothing(ready_svc, changes, error):
    with pytest.raises(error):
        _enter(ready_svc, **changes)
    with ready_svc.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(AdminEventRow)
                              .where(AdminEventRow.kind.in_(CALENDAR_KINDS))) == 0
        assert session.scalar(select(func.count()).select_from(WorkingDayOverrideRow)) == 0
    assert ready_svc.calendar.coverage(2027) is Coverage.NONE
