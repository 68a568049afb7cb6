"""Working-day overrides: stored, journalled, and seen by every Services on the database (two here, as two
gunicorn workers would be), on top of settings.json's overrides."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from engine.db.admin_tables import AdminEventRow, WorkingDayOverrideRow
from engine.demo import SCENARIOS, play
from engine.errors import Conflict, Forbidden, ValidationError
from engine.rules.deadlines import calendar_for
from engine.rules.settings import load_settings
from engine.services import Services
from engine.startup import build_services
from engine.stored_calendar import StoredCalendar
from engine.usecases.calendar import set_working_day_override, working_day_changes, working_day_overrides
from engine.values import SetWorkingDayOverride, fixed_clock
from tests.conftest import TEST_KDF_COST, at

SHANGHAI = ZoneInfo("Asia/Shanghai")
NATIONAL_DAY = dt.date(2026, 10, 1)  # a statutory holiday in the official calendar
ORDINARY_MONDAY = dt.date(2026, 11, 16)
CLOCK = fixed_clock(at("2026-09-10 10:00"))


@pytest.fixture
def admin_svc(ready_svc):
    """The demo users include the administrator `admin`."""
    return ready_svc


@pytest.fixture
def other_worker(admin_svc, db_url, tmp_path):
    """A second Services on the same database: what another gunicorn worker holds. It reads the version on
    every use (production: at most once a second, see the throttle test below)."""
    services = build_services(db_url, settings=load_settings(), keys_dir=tmp_path / "agency-keys",
                              kdf_cost=TEST_KDF_COST, upgrade=False, calendar_max_age=0)
    yield services
    services.engine.dispose()


def _set(svc: Services, day: dt.date, workday: bool | None, reason: str = "市政府通知调休") -> None:
    set_working_day_override(SetWorkingDayOverride(day=day, workday=workday, user_id="admin", reason=reason),
                             svc=svc, clock=CLOCK)


def test_a_stored_override_reaches_another_worker_and_its_removal_too(admin_svc, other_worker):
    assert other_worker.calendar.is_workday(ORDINARY_MONDAY) is True  # loaded before the change
    assert admin_svc.calendar.is_workday(ORDINARY_MONDAY) is True
    assert other_worker.calendar.is_workday(NATIONAL_DAY) is False
    _set(admin_svc, ORDINARY_MONDAY, False)
    _set(admin_svc, NATIONAL_DAY, True, reason="抗洪抢险，全员到岗")
    assert other_worker.calendar.is_workday(ORDINARY_MONDAY) is False
    assert other_worker.calendar.is_workday(NATIONAL_DAY) is True
    assert admin_svc.calendar.is_workday(ORDINARY_MONDAY) is False  # the changing process: at once
    _set(admin_svc, ORDINARY_MONDAY, None, reason="通知撤回")
    assert other_worker.calendar.is_workday(ORDINARY_MONDAY) is True
    assert admin_svc.calendar.is_workday(ORDINARY_MONDAY) is True


def test_another_process_reads_the_version_at_most_once_per_max_age(admin_svc):
    ticks = [100.0]
    worker = StoredCalendar(calendar_for(admin_svc.settings), max_age=1.0, monotonic=lambda: ticks[0])
    assert worker.current(admin_svc.uow).is_workday(ORDINARY_MONDAY) is True
    _set(admin_svc, ORDINARY_MONDAY, False)
    ticks[0] += 0.9
    assert worker.current(admin_svc.uow).is_workday(ORDINARY_MONDAY) is True  # still the calendar it read
    ticks[0] += 0.1
    assert worker.current(admin_svc.uow).is_workday(ORDINARY_MONDAY) is False


def test_a_restarted_process_keeps_the_overrides(admin_svc, db_url, tmp_path):
    _set(admin_svc, ORDINARY_MONDAY, False)
    restarted = build_services(db_url, settings=load_settings(), keys_dir=tmp_path / "agency-keys", upgrade=False)
    assert restarted.calendar_max_age > 0  # the production default: the first use reads the overrides anyway
    try:
        assert restarted.calendar.is_workday(ORDINARY_MONDAY) is False
    finally:
        restarted.engine.dispose()


def test_stored_overrides_take_precedence_over_settings(admin_svc, db_url, tmp_path):
    settings = dataclasses.replace(load_settings(), working_day_overrides={ORDINARY_MONDAY: False,
                                                                           dt.date(2026, 11, 17): False})
    worker = build_services(db_url, settings=settings, keys_dir=tmp_path / "agency-keys", upgrade=False,
                            calendar_max_age=0)
    try:
        assert worker.calendar.is_workday(ORDINARY_MONDAY) is False
        _set(admin_svc, ORDINARY_MONDAY, True, reason="settings.json 有误")
        assert worker.calendar.is_workday(ORDINARY_MONDAY) is True
        assert worker.calendar.is_workday(dt.date(2026, 11, 17)) is False  # the base stays for other days
        listed = {(o.day, o.is_workday, o.stored) for o in working_day_overrides(worker)}
        assert listed == {(ORDINARY_MONDAY, True, True), (dt.date(2026, 11, 17), False, False)}
        _set(admin_svc, ORDINARY_MONDAY, None, reason="恢复")
        assert worker.calendar.is_workday(ORDINARY_MONDAY) is False  # back to settings.json
    finally:
        worker.engine.dispose()


def test_deadlines_computed_by_the_other_worker_use_the_override(admin_svc, other_worker):
    start = at("2026-11-09 09:00")  # a Monday
    first = _first_due(other_worker, start)
    assert first > start
    day_off = start.astimezone(SHANGHAI).date() + dt.timedelta(days=1)
    _set(admin_svc, day_off, False, reason="停电，全局停止办公")
    assert _first_due(other_worker, start) > first  # one working day fewer before it: due later
    _set(admin_svc, day_off, None, reason="恢复")
    assert _first_due(other_worker, start) == first


def _first_due(svc: Services, start: dt.datetime) -> dt.datetime:
    opened = play(svc, SCENARIOS["penalty_waiver"], start=start, stop_before=0).case
    due = [t.due_at for t in opened.open_tasks if t.due_at is not None]
    assert due, "the first step has a working-day deadline"
    return min(due)


def test_every_change_is_journalled_with_who_why_and_what_was_before(admin_svc):
    _set(admin_svc, ORDINARY_MONDAY, False, reason="第一次")
    _set(admin_svc, ORDINARY_MONDAY, True, reason="第二次")
    _set(admin_svc, ORDINARY_MONDAY, None, reason="第三次")
    changes = working_day_changes(admin_svc)
    assert [(c.is_workday, c.previous, c.reason, c.actor) for c in changes] == [
        (None, True, "第三次", "admin"), (True, False, "第二次", "admin"), (False, None, "第一次", "admin")]
    assert working_day_overrides(admin_svc) == []


@pytest.mark.parametrize(("user_id", "workday", "reason", "error"), [
    ("admin", False, "  ", ValidationError),
    ("admin", False, "理" * 501, ValidationError),
    ("officer1", False, "不是管理员", Forbidden),
    ("nobody", False, "不存在", Forbidden),
    ("admin", None, "没有可取消的调整", Conflict),
])
def test_refused_changes_write_nothing(admin_svc, user_id, workday, reason, error):
    with pytest.raises(error):
        set_working_day_override(SetWorkingDayOverride(day=ORDINARY_MONDAY, workday=workday, user_id=user_id,
                                                       reason=reason),
                                 svc=admin_svc, clock=CLOCK)
    with admin_svc.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(AdminEventRow)) == 0
        assert session.scalar(select(func.count()).select_from(WorkingDayOverrideRow)) == 0
    assert admin_svc.calendar.is_workday(ORDINARY_MONDAY) is True
