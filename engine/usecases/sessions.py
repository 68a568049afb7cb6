"""Login sessions kept on the server, so that they can be ended (issue 13 item 3).

The browser's cookie carries only a random session id (256 bits); the `login_sessions` row, found by the id's
SHA-256, says whether the session still counts. Ending it is one UPDATE, and every worker sees it on its next
request, because every request looks the row up (one primary-key query, the user and roles joined in).
A session ends on logout, when the user's password is changed, the user is deactivated or their signing
certificate revoked, when an administrator ends all of the user's sessions, after `security.session_idle_minutes`
without a request, and `security.session_lifetime_minutes` after login whatever happens (settings.json).
Rows past their lifetime are deleted at the next login: the table holds one lifetime's logins at most.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, joinedload

from engine.db.tables import LoginSessionRow, UserRow
from engine.rules.settings import Security
from engine.services import Services
from engine.values import Clock, EndSession, UserView
from engine.views import user_view

# A request refreshes `last_seen_at` at most this often: a write per page view would queue every reader of a
# SQLite database behind it, and the idle timeout needs no finer clock.
LAST_SEEN_EVERY = dt.timedelta(minutes=1)
# Sessions one user may hold at once (browsers, machines); a login beyond ends the oldest. Bounds the table
# even for a user who logs in by script all day.
MAX_SESSIONS_PER_USER = 20


class EndedWhy(StrEnum):
    LOGOUT = "logout"
    PASSWORD_CHANGED = "password_changed"
    DEACTIVATED = "deactivated"
    KEY_REVOKED = "key_revoked"
    ENDED_BY_ADMIN = "ended_by_admin"
    TOO_MANY = "too_many"


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(session: Session, user_id: str, *, now: dt.datetime, security: Security) -> str:
    """A new session for `user_id`, inside the caller's transaction (the login's); returns its id for the cookie.

    A new id at every login: a session id planted before the login is worth nothing after it (fixation)."""
    session.execute(delete(LoginSessionRow).where(LoginSessionRow.expires_at <= now))
    session_id = secrets.token_urlsafe(32)
    session.add(LoginSessionRow(id_hash=_id_hash(session_id), user_id=user_id, created_at=now, last_seen_at=now,
                                expires_at=now + security.session_lifetime))
    session.flush()
    surplus = session.scalars(select(LoginSessionRow.id_hash)
                              .where(LoginSessionRow.user_id == user_id, LoginSessionRow.ended_at.is_(None))
                              .order_by(LoginSessionRow.created_at.desc(), LoginSessionRow.id_hash)
                              .offset(MAX_SESSIONS_PER_USER)).all()
    if surplus:
        session.execute(update(LoginSessionRow).where(LoginSessionRow.id_hash.in_(surplus))
                        .values(ended_at=now, ended_why=EndedWhy.TOO_MANY.value))
    return session_id


def resume_session(svc: Services, session_id: str, *, clock: Clock) -> UserView | None:
    """The user of a session that still counts, or None (ended, idle too long, expired, user deactivated)."""
    if not session_id or len(session_id) > 100:
        return None
    now = clock()
    key = _id_hash(session_id)
    with svc.uow.read() as session:
        row = session.get(LoginSessionRow, key,
                          options=(joinedload(LoginSessionRow.user).joinedload(UserRow.roles),))
        if row is None or not _counts(row, now, svc.settings.security) or not row.user.active:
            return None
        user, seen = user_view(row.user), row.last_seen_at
    if now - seen >= LAST_SEEN_EVERY:
        with svc.uow() as work:
            work.session.execute(update(LoginSessionRow).where(LoginSessionRow.id_hash == key,
                                                               LoginSessionRow.last_seen_at < now)
                                 .values(last_seen_at=now))
            work.commit()
    return user


def _counts(row: LoginSessionRow, now: dt.datetime, security: Security) -> bool:
    return row.ended_at is None and now < row.expires_at and now - row.last_seen_at < security.session_idle


def end_session(cmd: EndSession, *, svc: Services, clock: Clock) -> None:
    """End one session (logout); an unknown or already ended id is no error — the result is the same."""
    if not cmd.session_id:
        return
    with svc.uow() as work:
        work.session.execute(update(LoginSessionRow).where(LoginSessionRow.id_hash == _id_hash(cmd.session_id),
                                                           LoginSessionRow.ended_at.is_(None))
                             .values(ended_at=clock(), ended_why=EndedWhy.LOGOUT.value))
        work.commit()


def end_user_sessions(session: Session, user_id: str, *, now: dt.datetime, why: EndedWhy) -> int:
    """End every open session of `user_id`, inside the caller's transaction (the account change that needs it,
    so the change and the end of the sessions commit together); returns how many were open."""
    result = session.execute(update(LoginSessionRow)
                             .where(LoginSessionRow.user_id == user_id, LoginSessionRow.ended_at.is_(None),
                                    LoginSessionRow.expires_at > now)
                             .values(ended_at=now, ended_why=why.value))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class OpenSessions:
    """A user's sessions that still count: how many, and when the newest was last used (the admin page)."""

    count: int
    last_seen: dt.datetime | None


def open_sessions(svc: Services, user_id: str, *, clock: Clock) -> OpenSessions:
    now = clock()
    security = svc.settings.security
    with svc.uow.read() as session:
        count, last = session.execute(
            select(func.count(), func.max(LoginSessionRow.last_seen_at))
            .where(LoginSessionRow.user_id == user_id, LoginSessionRow.ended_at.is_(None),
                   LoginSessionRow.expires_at > now, LoginSessionRow.last_seen_at > now - security.session_idle)).one()
    return OpenSessions(int(count or 0), last)
