"""Blocked signing PINs: what the retry counter says about a key, and unblocking it (engine/officer_keys.py).

After `security.signing_pin_attempts` wrong PINs in a row an officer's key refuses every PIN. The officer's head
(负责人) or an administrator unblocks it — never the officer themselves, whose session may be the one that was
guessing — with a reason, journalled in admin_events (`pin_unblocked`) like revocations and rekeys. Issuing a new
key (`rekey_user`) ends a block too: the new key starts with no wrong PINs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from engine import officer_keys
from engine.db.admin_tables import AdminEventRow
from engine.db.repositories import Users
from engine.db.tables import UserKeyRow, UserRow
from engine.errors import Conflict, Forbidden
from engine.services import Services
from engine.usecases.access import admin_reach, in_agencies
from engine.usecases.users import SERVER_OPERATOR, required_reason
from engine.values import Clock, UnblockSigningPin

PIN_UNBLOCKED = officer_keys.PIN_UNBLOCKED


@dataclass(frozen=True)
class SigningPin:
    """The retry counter of a user's active signing key."""

    user_id: str
    name: str
    fingerprint: str
    failures: int  # wrong PINs in a row
    limit: int
    blocked_at: dt.datetime | None
    agency: str = ""  # the holder's agency: a list across agencies marks each key with it

    @property
    def blocked(self) -> bool:
        return self.blocked_at is not None or self.failures >= self.limit

    @property
    def tries_left(self) -> int:
        return 0 if self.blocked else self.limit - self.failures

    def to_json(self) -> dict[str, object]:
        return {"user_id": self.user_id, "fingerprint": self.fingerprint, "failures": self.failures,
                "limit": self.limit, "blocked": self.blocked, "agency": self.agency,
                "blocked_at": self.blocked_at.isoformat() if self.blocked_at else None}


@dataclass(frozen=True)
class PinUnblock:
    """What `unblock_signing_pin` did, as journalled."""

    user_id: str
    fingerprint: str
    failures: int
    blocked_at: dt.datetime | None
    by: str
    at: dt.datetime
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"user_id": self.user_id, "fingerprint": self.fingerprint, "failures": self.failures,
                "blocked_at": self.blocked_at.isoformat() if self.blocked_at else None, "by": self.by,
                "at": self.at.isoformat(), "reason": self.reason}


def _active_keys() -> Select[tuple[UserKeyRow, str, str]]:
    return (select(UserKeyRow, UserRow.name, UserRow.agency_code).join(UserRow, UserRow.id == UserKeyRow.user_id)
            .where(UserKeyRow.active.is_(True)).order_by(UserKeyRow.user_id, UserKeyRow.created_at.desc()))


def _pin(key: UserKeyRow, name: str, agency: str, limit: int) -> SigningPin:
    return SigningPin(key.user_id, name, key.fingerprint, key.pin_failures, limit, key.blocked_at, agency)


def signing_pin(svc: Services, user_id: str) -> SigningPin | None:
    """The retry counter of the user's active key (None: no active key)."""
    limit = svc.settings.security.signing_pin_attempts
    with svc.uow.read() as session:
        row = session.execute(_active_keys().where(UserKeyRow.user_id == user_id).limit(1)).first()
        return None if row is None else _pin(*row, limit)


def blocked_signing_pins(svc: Services, viewer_id: str | None = None) -> list[SigningPin]:
    """Every active key that is blocked now, by user, of the people `viewer_id` may unblock (`unblock_reach`:
    a head's own agency, an administrator's agency and those below it); None: the server's operator, all."""
    limit = svc.settings.security.signing_pin_attempts
    with svc.uow.read() as session:
        reach = None if viewer_id is None else unblock_reach(session, Users(session).active(viewer_id))
        if reach is not None and not reach:
            return []
        rows = session.execute(_active_keys().where(
            or_(UserKeyRow.blocked_at.is_not(None), UserKeyRow.pin_failures >= limit),
            in_agencies(UserRow.agency_code, reach)))
        return [_pin(*row, limit) for row in rows]


def unblock_reach(session: Session, user: UserRow) -> frozenset[str] | None:
    """The agencies whose people's signing PINs `user` may unblock: a head their own agency's (a head answers for
    their own people; issue 16), an administrator those of their agency and every agency below it, as the other
    admin lists go (None: an administrator of the root agency, the whole platform); nobody else any."""
    reach = admin_reach(session, user)
    if reach is None:
        return None
    if officer_keys.HEAD_ROLE in {r.role for r in user.roles}:
        reach |= {user.agency_code}
    return reach


def may_unblock(session: Session, by: str, user_id: str) -> None:
    """Forbidden unless `by` is an active head of the key holder's agency (a head answers for their own people
    only; issue 16) or an administrator of it or of an agency above it (`unblock_reach`), other than the key's
    holder."""
    unblocker = Users(session).holding(by, officer_keys.UNBLOCKER_ROLES, refusal="只有负责人或系统管理员可以解锁签名PIN码 "
                                       "(only a head or an administrator may unblock a signing PIN)")
    holder = Users(session).find(user_id)
    reach = unblock_reach(session, unblocker)
    if holder is not None and reach is not None and holder.agency_code not in reach:
        raise Forbidden(f"{user_id} 不属于本单位，只有其所在单位的负责人或系统管理员可以解锁 (another agency's person: only "
                        "a head of their agency or an administrator may unblock their signing PIN)")
    if by == user_id:
        raise Forbidden("不能解锁自己的签名PIN码，请另一位负责人或系统管理员解锁 (you cannot unblock your own signing "
                        "PIN: another head or an administrator must)")


def unblock_signing_pin(cmd: UnblockSigningPin, *, svc: Services, clock: Clock) -> PinUnblock:
    """Unblock the user's signing key and reset its count, journalled with who and why. `by`: a head or an
    administrator (None: the command line on the server, journalled as `(cli)`); a reason is always required."""
    user_id, by = cmd.user_id, cmd.by
    reason = required_reason(cmd.reason)
    now = clock()
    with svc.uow() as work:
        session = work.session
        if by is not None:
            may_unblock(session, by, user_id)
        work.users.get(user_id)
        before = officer_keys.unblock_key(session, user_id, svc.settings.security.signing_pin_attempts)
        if before is None:
            raise Conflict(f"{user_id} 的签名密钥未被锁定 (the signing key of {user_id} is not blocked)")
        fingerprint, failures, blocked_at = before
        actor = by or SERVER_OPERATOR
        session.add(AdminEventRow(kind=PIN_UNBLOCKED, subject=user_id, actor=actor, at=now, detail={
            "fingerprint": fingerprint, "failures": failures, "reason": reason,
            "blocked_at": blocked_at.isoformat() if blocked_at else None}))
        work.commit()
        return PinUnblock(user_id, fingerprint, failures, blocked_at, actor, now, reason)

