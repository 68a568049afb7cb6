"""Logging in: the password check, and the lock after repeated failures (GB/T 22239-2019 登录失败处理)."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.errors import Forbidden
from engine.usecases.users import LOCKOUT, MAX_FAILED_LOGINS, LoginRefused, add_user, authenticate
from engine.values import fixed_clock
from tests.conftest import at

PASSWORD = "correct-horse-2026"
T0 = at("2026-09-14 09:00")


@pytest.fixture
def officer(svc):
    add_user(svc, user_id="officer1", name="王承办", password=PASSWORD, roles=["officer"], clock=fixed_clock(T0))
    return svc


def _fail(svc, user_id: str, times: int, moment: dt.datetime = T0) -> LoginRefused:
    refusal = None
    for _ in range(times):
        with pytest.raises(LoginRefused) as info:
            authenticate(svc, user_id, "guess", clock=fixed_clock(moment))
        refusal = info.value
    assert refusal is not None
    return refusal


def test_the_right_password_gives_the_user(officer):
    user = authenticate(officer, "officer1", PASSWORD, clock=fixed_clock(T0))
    assert user.id == "officer1"
    assert user.roles == ("officer",)


def test_the_user_name_is_matched_without_case_or_surrounding_spaces(officer):
    assert authenticate(officer, "  Officer1 ", PASSWORD, clock=fixed_clock(T0)).id == "officer1"


def test_a_wrong_password_is_refused_as_forbidden_without_a_lock(officer):
    refusal = _fail(officer, "officer1", 1)
    assert isinstance(refusal, Forbidden)
    assert refusal.http_status == 403
    assert refusal.locked_until is None
    assert "用户名或密码错误" in refusal.message


def test_an_unknown_user_gets_the_same_refusal_as_a_wrong_password(officer):
    unknown = _fail(officer, "nobody", 1)
    wrong = _fail(officer, "officer1", 1)
    assert unknown.message == wrong.message
    assert unknown.locked_until is None


def test_a_deactivated_user_cannot_log_in_even_with_the_right_password(officer):
    from sqlalchemy import update

    from engine.db.tables import UserRow

    with officer.uow() as session:
        session.execute(update(UserRow).where(UserRow.id == "officer1").values(active=False))
    with pytest.raises(LoginRefused) as info:
        authenticate(officer, "officer1", PASSWORD, clock=fixed_clock(T0))
    assert info.value.locked_until is None


def test_five_failures_lock_the_account_for_fifteen_minutes_even_for_the_right_password(officer):
    assert (5, dt.timedelta(minutes=15)) == (MAX_FAILED_LOGINS, LOCKOUT)
    last = _fail(officer, "officer1", MAX_FAILED_LOGINS)
    assert last.locked_until == T0 + LOCKOUT
    assert "锁定" in last.message
    with pytest.raises(LoginRefused) as info:
        authenticate(officer, "officer1", PASSWORD, clock=fixed_clock(T0 + LOCKOUT - dt.timedelta(seconds=1)))
    assert info.value.locked_until == T0 + LOCKOUT


def test_four_failures_do_not_lock(officer):
    _fail(officer, "officer1", MAX_FAILED_LOGINS - 1)
    assert authenticate(officer, "officer1", PASSWORD, clock=fixed_clock(T0)).id == "officer1"


def test_the_lock_runs_out_after_fifteen_minutes(officer):
    _fail(officer, "officer1", MAX_FAILED_LOGINS)
    later = fixed_clock(T0 + LOCKOUT + dt.timedelta(seconds=1))
    assert authenticate(officer, "officer1", PASSWORD, clock=later).id == "officer1"


def test_after_the_lock_runs_out_a_fresh_series_of_failures_starts(officer):
    _fail(officer, "officer1", MAX_FAILED_LOGINS)
    later = T0 + LOCKOUT + dt.timedelta(minutes=1)
    refusal = _fail(officer, "officer1", 1, later)
    assert refusal.locked_until is None  # one failure after the lock is not a new lock
    assert _fail(officer, "officer1", MAX_FAILED_LOGINS - 1, later).locked_until == later + LOCKOUT


def test_a_success_resets_the_failure_count(officer):
    _fail(officer, "officer1", MAX_FAILED_LOGINS - 1)
    authenticate(officer, "officer1", PASSWORD, clock=fixed_clock(T0))
    assert _fail(officer, "officer1", MAX_FAILED_LOGINS - 1).locked_until is None
    assert authenticate(officer, "officer1", PASSWORD, clock=fixed_clock(T0)).id == "officer1"


def test_failures_for_unknown_user_names_are_counted_and_locked_too(officer):
    last = _fail(officer, "ghost", MAX_FAILED_LOGINS)
    assert last.locked_until == T0 + LOCKOUT
    # a user created under that name meanwhile is locked as well: the name was being probed
    add_user(officer, user_id="ghost", name="新用户", password=PASSWORD, roles=["officer"], clock=fixed_clock(T0))
    with pytest.raises(LoginRefused) as info:
        authenticate(officer, "ghost", PASSWORD, clock=fixed_clock(T0))
    assert info.value.locked_until is not None


def test_one_locked_account_does_not_lock_another(officer):
    add_user(officer, user_id="officer2", name="赵承办", password=PASSWORD, roles=["officer"], clock=fixed_clock(T0))
    _fail(officer, "officer1", MAX_FAILED_LOGINS)
    assert authenticate(officer, "officer2", PASSWORD, clock=fixed_clock(T0)).id == "officer2"


def test_an_empty_user_name_is_refused(officer):
    with pytest.raises(LoginRefused):
        authenticate(officer, "   ", PASSWORD, clock=fixed_clock(T0))
