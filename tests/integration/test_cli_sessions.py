"""The CLI's login commands: `user end-sessions`, `user set-password`, and weak passwords refused (exit 2)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.usecases.logins import log_in
from engine.usecases.sessions import resume_session
from engine.usecases.users import account_history, add_user
from engine.values import AddUser, LogIn, fixed_clock
from tests.conftest import at

PASSWORD = "correct-horse-2026"
T0 = at("2026-11-02 09:00")


@pytest.fixture
def cli(svc):
    for user_id, roles in (("officer1", ["officer"]), ("admin", ["admin"])):
        add_user(AddUser(user_id=user_id, name=user_id, password=PASSWORD, roles=roles), svc=svc,
                 clock=fixed_clock(T0))

    def run(*args: str):
        return CliRunner().invoke(main, list(args), obj={"clock": fixed_clock(T0), "svc": svc})

    return run


def _session(svc) -> str:
    return log_in(LogIn(user_id="officer1", password=PASSWORD, source="10.0.0.5"),
                  svc=svc, clock=fixed_clock(T0)).session_id


@pytest.mark.parametrize("weak", ["12345678", "1234567890", "password123", "qwertyuiop"])
def test_a_weak_password_is_refused_with_exit_2_and_one_line(cli, svc, weak):
    result = cli("user", "add", "officer9", "--name", "钱承办", "--role", "officer", "--password", weak)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "error:" in result.output
    assert "password" in result.output
    assert cli("user", "list", "--json").output.count('"officer9"') == 0


def test_set_password_ends_the_users_sessions_and_refuses_a_weak_one(cli, svc):
    session_id = _session(svc)
    weak = cli("user", "set-password", "officer1", "--password", "officer1officer1")
    assert weak.exit_code == 2 and "常见" in weak.output
    assert resume_session(svc, session_id, clock=fixed_clock(T0)) is not None
    done = cli("user", "set-password", "officer1", "--password", "lantern-quay-2027", "--reason", "忘记密码")
    assert done.exit_code == 0, done.output
    assert "1 logins ended" in done.output
    assert resume_session(svc, session_id, clock=fixed_clock(T0)) is None
    assert log_in(LogIn(user_id="officer1", password="lantern-quay-2027", source="10.0.0.5"),
                  svc=svc, clock=fixed_clock(T0)).user.id == "officer1"


def test_end_sessions_by_an_administrator_is_journalled_with_the_reason(cli, svc):
    session_id = _session(svc)
    no_reason = cli("user", "end-sessions", "officer1", "--by", "admin")
    assert no_reason.exit_code == 2 and "理由" in no_reason.output
    not_admin = cli("user", "end-sessions", "officer1", "--by", "officer1", "--reason", "试试")
    assert not_admin.exit_code == 2
    assert resume_session(svc, session_id, clock=fixed_clock(T0)) is not None
    done = cli("user", "end-sessions", "officer1", "--by", "admin", "--reason", "电脑遗失", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == {"user_id": "officer1", "ended": 1}
    assert resume_session(svc, session_id, clock=fixed_clock(T0)) is None
    newest = account_history(svc, "officer1")[0]
    assert (newest.kind, newest.actor, newest.reason) == ("sessions_ended", "admin", "电脑遗失")


def test_revoke_on_the_command_line_ends_the_users_sessions(cli, svc):
    from engine.journal import issue_officer_key

    with svc.uow() as work:
        issue_officer_key(svc, work.session, user_id="officer1", name="officer1", pin="123456", now=T0)
        work.commit()
    session_id = _session(svc)
    result = cli("user", "revoke", "officer1", "--reason", "密钥遗失")
    assert result.exit_code == 0, result.output
    assert resume_session(svc, session_id, clock=fixed_clock(T0)) is None
