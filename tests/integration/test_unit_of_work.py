"""The unit of work commits only when the use case says so; the repositories load each aggregate one way."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select

from engine.db.repositories import Cases, Tasks, Users
from engine.db.tables import UserRoleRow, UserRow
from engine.errors import Forbidden, NotFound
from engine.services import Services

NOW = dt.datetime(2026, 9, 1, 8, tzinfo=dt.UTC)


def _user(user_id: str, *roles: str, active: bool = True) -> UserRow:
    row = UserRow(id=user_id, name=user_id, password_hash="!", unit="", active=active, created_at=NOW,
                  agency_code="cz")
    row.roles = [UserRoleRow(role=r) for r in roles]
    return row


def _stored(svc: Services, user_id: str) -> bool:
    with svc.uow.read() as session:
        return session.scalar(select(UserRow.id).where(UserRow.id == user_id)) is not None


def test_a_block_left_without_commit_writes_nothing(svc):
    with svc.uow() as work:
        work.session.add(_user("forgotten", "officer"))
        work.session.flush()  # even flushed: the transaction is rolled back at the end of the block
    assert not _stored(svc, "forgotten")


def test_an_exception_writes_nothing_and_is_raised(svc):
    with pytest.raises(ValueError, match="midway"), svc.uow() as work:
        work.session.add(_user("halfway", "officer"))
        work.session.flush()
        raise ValueError("midway")
    assert not _stored(svc, "halfway")


def test_commit_writes_once(svc):
    with svc.uow() as work:
        work.session.add(_user("kept", "officer"))
        work.commit()
        with pytest.raises(RuntimeError):
            work.commit()  # a second commit would be a second transaction: refused
    assert _stored(svc, "kept")


def test_users_repository_refuses_once_in_both_languages(svc):
    with svc.uow() as work:
        work.session.add_all([_user("clerk", "intake"), _user("gone", "intake", active=False)])
        work.commit()
    with svc.uow.read() as session:
        users = Users(session)
        assert users.holding("clerk", "intake").id == "clerk"
        assert users.holding("clerk", ["head", "intake"]).id == "clerk"
        with pytest.raises(Forbidden, match=r"没有此角色 \(lacks role\): head"):
            users.holding("clerk", "head")
        with pytest.raises(Forbidden, match=r"用户不存在或已停用 \(unknown or inactive user\): gone"):
            users.active("gone")
        with pytest.raises(Forbidden, match=r"^只有管理员 \(admins only\): clerk$"):
            users.holding("clerk", "admin", refusal="只有管理员 (admins only)")
        with pytest.raises(NotFound, match=r"用户不存在 \(no such user\): nobody"):
            users.get("nobody")
        assert users.get("gone").active is False  # `get` loads whoever it is; `active` is the check
        with pytest.raises(NotFound, match=r"案件不存在 \(no such case\): 99"):
            Cases(session).find(99)
        with pytest.raises(NotFound, match=r"案件不存在 \(no such case\): 2026-X"):
            Cases(session).find("2026-X")
        with pytest.raises(NotFound, match=r"任务不存在 \(no such task\): t-1"):
            Tasks(session).get("t-1")


def test_the_active_user_and_their_roles_are_one_query(svc):
    """The completion path loads the acting user on each of its two transactions: one statement each."""
    with svc.uow() as work:
        work.session.add(_user("officer9", "officer", "panel"))
        work.commit()
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE, issued by the engine, is no lookup
            statements.append(statement)

    event.listen(svc.engine, "before_cursor_execute", count)
    try:
        with svc.uow.read() as session:
            user = Users(session).active("officer9")
            assert {r.role for r in user.roles} == {"officer", "panel"}
    finally:
        event.remove(svc.engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements
