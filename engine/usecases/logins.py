"""Logging in: the password check, growing delays after failed logins, and the new session (issue 13 item 4).

OWASP's Authentication Cheat Sheet asks for throttling that slows guessing without letting anyone lock the real
owner out. Every failure is counted three times, each count with its own free number of failures after which
each further failure makes the next try wait twice as long as the one before (settings.json
`security.login_throttle`):

- per source address and account: a script hammering one account from one address soon waits up to 15 minutes
  per guess — and the owner, from another address, is not slowed by it at all;
- per source address, any account: the same script spraying many names;
- per account, any address: many addresses guessing one account; its delay stays short (a minute), so the
  owner is slowed at worst, never locked out.

While a delay runs, a try is refused without checking the password (HTTP 429 with the wait). The counts live in
a fixed number of slots, each key hashed with a secret kept in the database (an attacker cannot aim at another
key's slot): names typed at random add no rows, and the table never grows past `slots` rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.db.tables import LoginThrottleRow, ServerSecretRow, UserRow
from engine.errors import Forbidden
from engine.rules.settings import LoginThrottle
from engine.services import PasswordCost, Services
from engine.usecases.sessions import start_session
from engine.usecases.users import password_verifies
from engine.values import Clock, LogIn, UserView
from engine.views import user_view

THROTTLE_SECRET = "login_throttle"


class LoginRefused(Forbidden):
    """Wrong user name or password, or a try too soon after failures. The message never says which of user name
    and password was wrong; `retry_after` (seconds) is set when the next try must wait."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


_WRONG = "用户名或密码错误 (wrong user name or password)"


def _too_soon(seconds: int) -> str:
    return f"登录失败次数过多，请 {seconds} 秒后再试 (too many failed logins: try again in {seconds} s)"


@dataclass(frozen=True)
class Login:
    """A successful login: the user, and the new session's id for the cookie (engine/usecases/sessions.py)."""

    user: UserView
    session_id: str


@dataclass(frozen=True)
class _Count:
    """One of the three counts a failure adds to: its slot, and the policy that applies to it."""

    slot: int
    free: int
    max_delay: dt.timedelta


def log_in(cmd: LogIn, *, svc: Services, clock: Clock) -> Login:
    """Check the name and password typed from `source` (the client's address) and start a session, or raise
    LoginRefused. An unknown name costs the same time as a wrong password (no list of names by timing)."""
    password, source = cmd.password, cmd.source
    now = clock()
    name = cmd.user_id.strip().lower()[:64]
    if not name:
        raise LoginRefused(_WRONG)
    policy = svc.settings.security.login_throttle
    counts = _counts(_secret(svc), policy, name, (source or "-")[:64])
    with svc.uow.read() as session:
        wait = _wait(session, counts, now)
        user = session.get(UserRow, name)
        stored_hash = user.password_hash if user is not None and user.active else None
    if wait:
        raise LoginRefused(_too_soon(wait), wait)
    if _password_matches(svc, stored_hash, password):  # argon2 outside any write transaction: it is slow
        with svc.uow() as work:
            session = work.session
            pair = session.get(LoginThrottleRow, counts[0].slot, with_for_update=True)
            if pair is not None:  # this address proved it knows the password: its guesses at the account start over
                pair.failures, pair.delayed_until = 0, None
            row = work.users.find(name)
            if row is None or not row.active:  # deactivated while the password was being checked
                raise LoginRefused(_WRONG)
            started = start_session(session, name, now=now, security=svc.settings.security)
            login = Login(user_view(row), started)
            work.commit()
            return login
    wait = _count_failure(svc, counts, now, policy)
    raise LoginRefused(_WRONG if not wait else f"{_WRONG}; {_too_soon(wait)}", wait or None)


def _counts(secret: bytes, policy: LoginThrottle, name: str, source: str) -> list[_Count]:
    """The pair count first: a success resets it (and where two keys share a slot, the stricter one applies)."""
    keys = [(("pair", name, source), policy.per_account_and_source_free, policy.max_delay),
            (("source", source), policy.per_source_free, policy.max_delay),
            (("account", name), policy.per_account_free, policy.per_account_max_delay)]
    counts: dict[int, _Count] = {}
    for key, free, max_delay in keys:
        digest = hmac.new(secret, "\x00".join(key).encode(), hashlib.sha256).digest()
        slot = int.from_bytes(digest[:8], "big") % policy.slots
        counts.setdefault(slot, _Count(slot, free, max_delay))
    return list(counts.values())


def _wait(session: Session, counts: list[_Count], now: dt.datetime) -> int:
    """Seconds until the longest delay on any of the counts runs out (0: a try may be made now)."""
    rows = session.scalars(select(LoginThrottleRow).where(LoginThrottleRow.slot.in_([c.slot for c in counts])))
    until = [r.delayed_until for r in rows if r.delayed_until is not None and r.delayed_until > now]
    return math.ceil((max(until) - now).total_seconds()) if until else 0


def _count_failure(svc: Services, counts: list[_Count], now: dt.datetime, policy: LoginThrottle) -> int:
    """Add one failure to each count, in one transaction; returns the seconds the next try must wait (0: none)."""
    with svc.uow() as work:
        longest = dt.timedelta(0)
        for count in counts:
            row = _locked_row(work.session, count.slot, now)
            if now - row.last_failure_at > policy.forget_after:
                row.failures = 0  # quiet long enough: a fresh series
            row.failures += 1
            row.last_failure_at = now
            over = row.failures - count.free
            if over > 0:
                # Doubling from first_delay; the exponent is bounded so that no count can overflow the arithmetic.
                delay = min(policy.first_delay * (1 << min(over - 1, 30)), count.max_delay)
                row.delayed_until = now + delay
                longest = max(longest, delay)
        work.commit()
        return math.ceil(longest.total_seconds())


def _locked_row(session: Session, slot: int, now: dt.datetime) -> LoginThrottleRow:
    row = session.get(LoginThrottleRow, slot, with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():  # two first failures at once: one inserts, the other counts
                session.add(LoginThrottleRow(slot=slot, failures=0, last_failure_at=now, delayed_until=None))
        except IntegrityError:
            pass
        row = session.get(LoginThrottleRow, slot, with_for_update=True, populate_existing=True)
        assert row is not None
    return row


def _secret(svc: Services) -> bytes:
    """The key the counts' slots are hashed with: made once, in the database, so every worker uses the same."""
    with svc.uow.read() as session:
        row = session.get(ServerSecretRow, THROTTLE_SECRET)
        if row is not None:
            return row.value
    with svc.uow() as work:
        session = work.session
        try:
            with session.begin_nested():
                session.add(ServerSecretRow(name=THROTTLE_SECRET, value=secrets.token_bytes(32)))
        except IntegrityError:
            pass  # another worker made it first: use theirs
        row = session.get(ServerSecretRow, THROTTLE_SECRET, populate_existing=True)
        assert row is not None
        work.commit()
        return row.value


def _password_matches(svc: Services, stored_hash: str | None, password: str) -> bool:
    if stored_hash is None:
        password_verifies(svc, _dummy_hash(svc.password_cost), password)  # the same work: no timing oracle
        return False
    return password_verifies(svc, stored_hash, password)


@functools.cache
def _dummy_hash(cost: PasswordCost) -> str:
    return cost.hasher().hash("casetrail: no such user")
