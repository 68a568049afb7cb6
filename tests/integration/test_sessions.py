"""Sessions kept on the server (issue 13 item 3): what ends one, at once, and that the table stays bounded."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, func, inspect, select

from engine.db.admin_tables import AdminEventRow
from engine.db.tables import Base, LoginSessionRow
from engine.errors import ValidationError
from engine.usecases.logins import log_in
from engine.usecases.sessions import (
    MAX_SESSIONS_PER_USER,
    end_session,
    open_sessions,
    resume_session,
)
from engine.usecases.users import (
    add_user,
    change_password,
    deactivate_user,
    end_all_sessions,
    rekey_user,
    revoke_user_key,
    set_password,
)
from engine.values import (
    AddUser,
    ChangeAccount,
    ChangePassword,
    EndAllSessions,
    EndSession,
    LogIn,
    RekeyUser,
    RevokeUserKey,
    SetPassword,
    fixed_clock,
)
from tests.conftest import at

PASSWORD = "correct-horse-2026"
NEW_PASSWORD = "lantern-quay-2027"
T0 = at("2026-09-14 09:00")


@pytest.fixture
def users(svc):
    clock = fixed_clock(T0)
    add_user(AddUser(user_id="officer1", name="王承办", password=PASSWORD, roles=["officer"], pin="123456"),
             svc=svc, clock=clock)
    add_user(AddUser(user_id="admin", name="蒋管理", password=PASSWORD, roles=["admin"]), svc=svc, clock=clock)
    return svc


def _login(svc, user_id="officer1", moment=T0):
    return log_in(LogIn(user_id=user_id, password=PASSWORD, source="10.0.0.5"),
                  svc=svc, clock=fixed_clock(moment)).session_id


def _user(svc, session_id, moment=T0):
    user = resume_session(svc, session_id, clock=fixed_clock(moment))
    return None if user is None else user.id


def test_the_cookie_id_is_stored_only_as_its_hash(users):
    session_id = _login(users)
    with users.uow.read() as session:
        stored = session.scalars(select(LoginSessionRow.id_hash)).all()
    assert _user(users, session_id) == "officer1"
    assert session_id not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_a_logged_out_session_is_gone_while_another_of_the_user_stays(users):
    laptop, phone = _login(users), _login(users)
    end_session(EndSession(laptop), svc=users, clock=fixed_clock(T0))
    assert _user(users, laptop) is None
    assert _user(users, phone) == "officer1"


def test_an_unknown_or_malformed_session_id_is_nobody(users):
    assert _user(users, "not-a-session") is None
    assert _user(users, "") is None
    assert _user(users, "x" * 10_000) is None


def test_a_session_ends_after_the_idle_time_and_a_request_keeps_it_alive(users):
    idle = users.settings.security.session_idle
    assert idle == dt.timedelta(minutes=30)
    kept, left = _login(users), _login(users)
    assert _user(users, kept, T0 + idle - dt.timedelta(minutes=1)) == "officer1"
    assert _user(users, kept, T0 + idle + dt.timedelta(minutes=5)) == "officer1"
    assert _user(users, left, T0 + idle) is None


def test_a_session_ends_eight_hours_after_login_however_busy(users):
    lifetime = users.settings.security.session_lifetime
    assert lifetime == dt.timedelta(hours=8)
    session_id = _login(users)
    moment = T0
    while moment < T0 + lifetime - dt.timedelta(minutes=10):
        moment += dt.timedelta(minutes=10)
        assert _user(users, session_id, moment) == "officer1"
    assert _user(users, session_id, T0 + lifetime) is None


def test_last_seen_is_written_at_most_once_a_minute(users):
    session_id = _login(users)
    writes: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE LOGIN_SESSIONS"):
            writes.append(statement)

    event.listen(users.engine, "before_cursor_execute", count)
    try:
        for second in range(0, 180, 5):  # a page every five seconds for three minutes
            assert _user(users, session_id, T0 + dt.timedelta(seconds=second)) == "officer1"
    finally:
        event.remove(users.engine, "before_cursor_execute", count)
    assert len(writes) == 2  # at 60 s and at 120 s


def test_each_request_looks_the_session_up_in_one_query(users):
    session_id = _login(users)
    queries: list[str] = []
    listener = lambda conn, cursor, statement, *args: queries.append(statement)  # noqa: E731
    event.listen(users.engine, "before_cursor_execute", listener)
    try:
        assert _user(users, session_id, T0 + dt.timedelta(seconds=10)) == "officer1"
    finally:
        event.remove(users.engine, "before_cursor_execute", listener)
    selects = [q for q in queries if q.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1 and "login_sessions" in selects[0] and "user_roles" in selects[0]


def test_deactivation_ends_every_session_of_the_user(users):
    session_id = _login(users)
    deactivate_user(ChangeAccount(user_id="officer1", by="admin", reason="离职"), svc=users,
                    clock=fixed_clock(T0))
    assert _user(users, session_id) is None


def test_revoking_the_signing_certificate_ends_every_session(users):
    session_id = _login(users)
    revoke_user_key(RevokeUserKey(user_id="officer1", by="admin", reason="密钥遗失"), svc=users,
                    clock=fixed_clock(T0))
    assert _user(users, session_id) is None


def test_a_new_key_ends_every_session_too(users):
    session_id = _login(users)
    rekey_user(RekeyUser(user_id="officer1", pin="654321", by="admin", reason="PIN 泄露"), svc=users,
               clock=fixed_clock(T0))
    assert _user(users, session_id) is None


def test_changing_the_password_ends_every_session_and_is_journalled(users):
    laptop, phone = _login(users), _login(users)
    assert change_password(ChangePassword(user_id="officer1", current=PASSWORD, new=NEW_PASSWORD),
                           svc=users, clock=fixed_clock(T0)) == 2
    assert _user(users, laptop) is None and _user(users, phone) is None
    assert log_in(LogIn(user_id="officer1", password=NEW_PASSWORD, source="10.0.0.5"),
                  svc=users, clock=fixed_clock(T0)).user.id == "officer1"
    with users.uow.read() as session:
        kinds = session.scalars(select(AdminEventRow.kind).where(AdminEventRow.subject == "officer1")).all()
    assert "password_changed" in kinds


def test_a_password_change_needs_the_current_password_and_a_good_new_one(users):
    session_id = _login(users)
    with pytest.raises(ValidationError) as wrong:
        change_password(ChangePassword(user_id="officer1", current="guess", new=NEW_PASSWORD),
                        svc=users, clock=fixed_clock(T0))
    assert "current" in wrong.value.errors
    with pytest.raises(ValidationError) as weak:
        change_password(ChangePassword(user_id="officer1", current=PASSWORD, new="1234567890"),
                        svc=users, clock=fixed_clock(T0))
    assert "password" in weak.value.errors
    assert _user(users, session_id) == "officer1"  # nothing changed, nothing ended


def test_an_administrator_setting_a_password_ends_every_session(users):
    session_id = _login(users)
    assert set_password(SetPassword(user_id="officer1", password=NEW_PASSWORD, by="admin", reason="忘记密码"),
                        svc=users, clock=fixed_clock(T0)) == 1
    assert _user(users, session_id) is None


def test_an_administrator_ends_all_sessions_of_a_user_with_a_reason_journalled(users):
    sessions = [_login(users) for _ in range(3)]
    admin_session = _login(users, "admin")
    assert open_sessions(users, "officer1", clock=fixed_clock(T0)).count == 3
    with pytest.raises(ValidationError):
        end_all_sessions(EndAllSessions(user_id="officer1", by="admin", reason=" "),
                         svc=users, clock=fixed_clock(T0))
    assert end_all_sessions(EndAllSessions(user_id="officer1", by="admin", reason="电脑遗失"),
                            svc=users, clock=fixed_clock(T0)) == 3
    assert all(_user(users, s) is None for s in sessions)
    assert _user(users, admin_session) == "admin"
    assert open_sessions(users, "officer1", clock=fixed_clock(T0)).count == 0
    with users.uow.read() as session:
        event_row = session.scalars(select(AdminEventRow).where(AdminEventRow.kind == "sessions_ended")).one()
    assert (event_row.subject, event_row.actor, event_row.detail["reason"]) == ("officer1", "admin", "电脑遗失")


def test_expired_sessions_are_deleted_at_the_next_login(users):
    for hour in range(10):
        _login(users, moment=T0 + dt.timedelta(hours=hour))
    with users.uow.read() as session:
        rows = session.scalar(select(func.count()).select_from(LoginSessionRow))
    assert rows == 8  # those of 09:00 and 10:00 ran out by the last login (18:00) and are gone


def test_a_user_holds_at_most_twenty_sessions_the_oldest_ending_first(users):
    first = _login(users)
    later = [_login(users, moment=T0 + dt.timedelta(seconds=n + 1)) for n in range(MAX_SESSIONS_PER_USER)]
    moment = T0 + dt.timedelta(minutes=1)
    assert _user(users, first, moment) is None
    assert all(_user(users, s, moment) == "officer1" for s in later)


def test_the_migrated_schema_matches_the_tables(svc):
    mine = {"login_sessions", "login_throttle", "server_secrets", "failed_logins"}
    with svc.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    assert [d for d in diffs if any(t in repr(d) for t in mine)] == []
    assert "failed_logins" not in tables and {"login_sessions", "login_throttle"} <= tables
