"""Users, their roles and their signing keys. Passwords are hashed with argon2 and never stored in the clear;
signing PINs are never stored at all — they only encrypt the officer's private key (engine/journal.py)."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from engine import journal
from engine.db.admin_tables import AdminEventRow
from engine.db.tables import CertificateRow, FailedLoginRow, TaskRow, UserRoleRow, UserRow
from engine.enums import TaskStatus
from engine.errors import Conflict, Forbidden, NotFound, ValidationError
from engine.officer_keys import PIN_BLOCKED, PIN_UNBLOCKED
from engine.roles import ADMIN_ROLE, all_roles, require_admin
from engine.services import PasswordCost, Services
from engine.values import Clock, UserView
from signatures.pki import CertRole

USER_ID = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")


def add_user(
    svc: Services, *, user_id: str, name: str, password: str, roles: list[str], unit: str = "", clock: Clock,
    pin: str | None = None,
) -> UserView:
    """Add a user; with `pin`, also issue their signing certificate (without one they cannot sign steps
    until an administrator runs `rekey_user`)."""
    errors: dict[str, str] = {}
    if not USER_ID.match(user_id):
        errors["user_id"] = "用户名须为小写字母开头的字母、数字、._- (2–64 chars, lowercase)"
    if not name.strip():
        errors["name"] = "姓名不能为空 (name is required)"
    if len(password) < 8:
        errors["password"] = "密码至少 8 位 (at least 8 characters)"
    unknown = sorted(set(roles) - set(all_roles()))
    if unknown or not roles:
        errors["roles"] = f"未知角色 (unknown roles): {', '.join(unknown) or '(none given)'}"
    if pin is not None:
        try:
            journal.check_pin(pin)
        except ValidationError as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationError("用户信息有误 (invalid user)", errors)
    with svc.uow() as session:
        if session.get(UserRow, user_id) is not None:
            raise Conflict(f"用户已存在 (user exists): {user_id}")
        row = UserRow(id=user_id, name=name.strip(), password_hash=svc.passwords.hash(password), unit=unit,
                      active=True, created_at=clock())
        row.roles = [UserRoleRow(role=r) for r in sorted(set(roles))]
        session.add(row)
        if pin is not None:
            journal.issue_officer_key(svc, session, user_id=user_id, name=row.name, pin=pin, now=clock())
    return _view(row)


@dataclass(frozen=True)
class KeyChange:
    """What `rekey_user` / `revoke_user_key` did: certificates revoked, and the new one (rekey)."""

    user_id: str
    revoked: tuple[str, ...]
    issued: str | None
    at: dt.datetime

    def to_json(self) -> dict[str, object]:
        return {"user_id": self.user_id, "revoked": list(self.revoked), "issued": self.issued,
                "at": self.at.isoformat()}


def rekey_user(svc: Services, user_id: str, *, pin: str, clock: Clock, by: str | None = None,
               reason: str = "") -> KeyChange:
    """Issue a new key and certificate under a new PIN; the old certificate is revoked from now on
    (steps signed before stay valid; signing with the old key is refused). `by`: the administrator (None:
    the command line on the server); journalled with the reason."""
    journal.check_pin(pin)
    now = clock()
    with svc.uow() as session:
        _require_admin(session, by)
        row = _existing(session, user_id)
        revoked = journal.revoke_officer_keys(session, user_id, now)
        cert = journal.issue_officer_key(svc, session, user_id=user_id, name=row.name, pin=pin, now=now)
        change = KeyChange(user_id, tuple(revoked), cert.fingerprint, now)
        _journal_key_change(session, KEY_REISSUED, change, by=by, reason=reason)
        return change


def revoke_user_key(svc: Services, user_id: str, *, clock: Clock, by: str | None = None,
                    reason: str = "") -> KeyChange:
    """Revoke the user's signing certificate now (lost key, PIN disclosed, left the agency). `by`: the
    administrator (None: the command line on the server); journalled with the reason."""
    now = clock()
    with svc.uow() as session:
        _require_admin(session, by)
        _existing(session, user_id)
        revoked = journal.revoke_officer_keys(session, user_id, now)
        if not revoked:
            raise Conflict(f"{user_id} 没有有效的签名证书 (no active signing certificate to revoke)")
        change = KeyChange(user_id, tuple(revoked), None, now)
        _journal_key_change(session, KEY_REVOKED, change, by=by, reason=reason)
        return change


KEY_REVOKED = "key_revoked"
KEY_REISSUED = "key_reissued"
SERVER_OPERATOR = "(cli)"  # the actor journalled for the command line on the server: no login there


def _require_admin(session: Session, by: str | None) -> None:
    if by is not None:  # None: the command line on the server, which has no login
        require_admin(session, by, "只有系统管理员可以管理用户 (only an administrator may do this)")


def _journal_key_change(session: Session, kind: str, change: KeyChange, *, by: str | None, reason: str) -> None:
    reason = reason.strip()
    if len(reason) > 500 or (by is not None and not reason):  # an administrator says why; the CLI may not
        raise ValidationError("请填写理由（500 字以内） (a reason of at most 500 characters is required)",
                              {"reason": "请填写理由 (required)"})
    session.add(AdminEventRow(kind=kind, subject=change.user_id, actor=by or SERVER_OPERATOR, at=change.at,
                              detail={"revoked": list(change.revoked), "issued": change.issued, "reason": reason}))


def required_reason(reason: str) -> str:
    """The reason an account change is journalled with: required, at most 500 characters."""
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise ValidationError("请填写理由（500 字以内） (a reason of at most 500 characters is required)",
                              {"reason": "请填写理由 (required)"})
    return reason


def _existing(session: Session, user_id: str) -> UserRow:
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotFound(f"用户不存在 (no such user): {user_id}")
    return row


def list_users(svc: Services) -> list[UserView]:
    with svc.uow.read() as session:
        return [_view(r) for r in session.scalars(select(UserRow).order_by(UserRow.id))]


def user_names(svc: Services) -> dict[str, str]:
    """Every user's display name by id (one narrow query; pages show people by name)."""
    with svc.uow.read() as session:
        return {uid: name for uid, name in session.execute(select(UserRow.id, UserRow.name))}


def get_user(svc: Services, user_id: str) -> UserView:
    with svc.uow.read() as session:
        row = session.get(UserRow, user_id, options=(joinedload(UserRow.roles),))  # every request: one query
        if row is None:
            raise NotFound(f"用户不存在 (no such user): {user_id}")
        return _view(row)


def check_password(svc: Services, user_id: str, password: str) -> bool:
    with svc.uow.read() as session:
        row = session.get(UserRow, user_id)
        if row is None or not row.active:
            return False
        try:
            return svc.passwords.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def _view(row: UserRow) -> UserView:
    return UserView(id=row.id, name=row.name, roles=tuple(sorted(r.role for r in row.roles)), unit=row.unit,
                    active=row.active)


# --- login throttling ----------------------------------------------------------------------------
# GB/T 22239-2019 (等保 2.0) 8.1.4.1 b: 应具有登录失败处理功能，限制非法登录次数. Five wrong passwords in a
# row lock the account name for fifteen minutes: enough for a typo or two, too few to guess a password.
MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)


class LoginRefused(Forbidden):
    """Wrong user name or password, or the name is locked for a while after repeated failures.

    The message never says which of user name and password was wrong; `locked_until` is set while locked.
    """

    def __init__(self, message: str, locked_until: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


_WRONG = "用户名或密码错误 (wrong user name or password)"
_LOCKED = "登录失败次数过多，账户暂时锁定 (too many failed logins: locked for a while)"


def authenticate(svc: Services, user_id: str, password: str, *, clock: Clock) -> UserView:
    """The user whose name and password these are, or LoginRefused.

    Failures are counted per user name — unknown names too, so probing names costs the same as guessing
    passwords, and an unknown name takes as long to refuse as a wrong password. After MAX_FAILED_LOGINS
    failures in a row the name is locked for LOCKOUT, whatever is typed; a success resets the count.
    """
    now = clock()
    key = user_id.strip().lower()[:64]
    if not key:
        raise LoginRefused(_WRONG)
    with svc.uow.read() as session:
        row = session.get(FailedLoginRow, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            raise LoginRefused(_LOCKED, row.locked_until)
        user = session.get(UserRow, key)
        stored_hash = user.password_hash if user is not None and user.active else None
    if _password_matches(svc, stored_hash, password):  # argon2 outside any write transaction: it is slow
        with svc.uow() as session:
            row = session.get(FailedLoginRow, key, with_for_update=True)
            if row is not None:
                if row.locked_until is not None and row.locked_until > now:
                    raise LoginRefused(_LOCKED, row.locked_until)  # locked meanwhile by a parallel attempt
                session.delete(row)
        return get_user(svc, key)
    locked_until = _count_failure(svc, key, now)
    if locked_until is not None:
        raise LoginRefused(_LOCKED, locked_until)
    raise LoginRefused(_WRONG)


def _password_matches(svc: Services, stored_hash: str | None, password: str) -> bool:
    try:
        if stored_hash is None:
            svc.passwords.verify(_dummy_hash(svc.password_cost), password)  # the same work: no timing oracle
            return False
        return svc.passwords.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash(cost: PasswordCost) -> str:
    return cost.hasher().hash("casetrail: no such user")


def _count_failure(svc: Services, key: str, now: dt.datetime) -> dt.datetime | None:
    """Count one failed login for `key`; return the end of the lock if this failure (or another) set one."""
    with svc.uow() as session:
        row = session.get(FailedLoginRow, key, with_for_update=True)
        if row is None:
            try:
                with session.begin_nested():  # two first failures at once: one inserts, the other counts
                    session.add(FailedLoginRow(user_id=key, count=0, locked_until=None))
            except IntegrityError:
                pass
            row = session.get(FailedLoginRow, key, with_for_update=True, populate_existing=True)
            assert row is not None
        if row.locked_until is not None and row.locked_until <= now:
            row.count, row.locked_until = 0, None  # the lock ran out: a fresh series of attempts
        row.count += 1
        if row.count >= MAX_FAILED_LOGINS and row.locked_until is None:
            row.locked_until = now + LOCKOUT
        return row.locked_until


# --- deactivation, and who holds a signing certificate ---------------------------------------------
USER_DEACTIVATED = "user_deactivated"
USER_REACTIVATED = "user_reactivated"


@dataclass(frozen=True)
class AccountChange:
    """What `deactivate_user` / `reactivate_user` did; `open_tasks` are tasks still claimed by the user,
    which a head should reassign (a deactivated user cannot complete them)."""

    user_id: str
    active: bool
    by: str
    at: dt.datetime
    open_tasks: int


def deactivate_user(svc: Services, user_id: str, *, by: str, reason: str, clock: Clock) -> AccountChange:
    """The user can no longer log in, be assigned or sign (their session ends on the next request).

    Nothing of theirs is deleted: their signed steps stay theirs. An administrator cannot lock themselves
    out, nor deactivate the last active administrator.
    """
    return _set_active(svc, user_id, False, by=by, reason=reason, clock=clock)


def reactivate_user(svc: Services, user_id: str, *, by: str, reason: str, clock: Clock) -> AccountChange:
    return _set_active(svc, user_id, True, by=by, reason=reason, clock=clock)


def _set_active(svc: Services, user_id: str, active: bool, *, by: str, reason: str, clock: Clock) -> AccountChange:
    reason = required_reason(reason)
    now = clock()
    with svc.uow() as session:
        _require_admin(session, by)
        row = session.get(UserRow, user_id, with_for_update=True)
        if row is None:
            raise NotFound(f"用户不存在 (no such user): {user_id}")
        if row.active == active:
            raise Conflict(f"{user_id} 已是{'启用' if active else '停用'}状态 (already {'active' if active else 'inactive'})")
        if not active and user_id == by:
            raise Conflict("不能停用自己的账户 (you cannot deactivate your own account)")
        if not active and ADMIN_ROLE in {r.role for r in row.roles} and _other_active_admins(session, user_id) == 0:
            raise Conflict("不能停用最后一名系统管理员 (the last active administrator cannot be deactivated)")
        row.active = active
        open_tasks = session.scalar(select(func.count()).select_from(TaskRow)
                                    .where(TaskRow.status == TaskStatus.READY, TaskRow.assignee == user_id)) or 0
        session.add(AdminEventRow(kind=USER_REACTIVATED if active else USER_DEACTIVATED, subject=user_id, actor=by,
                                  at=now, detail={"reason": reason, "open_tasks": open_tasks}))
        return AccountChange(user_id, active, by, now, open_tasks)


def _other_active_admins(session: Session, user_id: str) -> int:
    return session.scalar(select(func.count()).select_from(UserRow).join(UserRoleRow)
                          .where(UserRoleRow.role == ADMIN_ROLE, UserRow.active.is_(True), UserRow.id != user_id)) or 0


@dataclass(frozen=True)
class SigningCertificate:
    """A user's newest officer certificate: what the administrator needs to decide on revoke or rekey."""

    user_id: str
    fingerprint: str
    not_after: dt.datetime
    revoked_at: dt.datetime | None

    def usable(self, now: dt.datetime) -> bool:
        return (self.revoked_at is None or self.revoked_at > now) and now <= self.not_after


def signing_certificates(svc: Services) -> dict[str, SigningCertificate]:
    """Each user's newest officer certificate, by user id (users who never had one are absent)."""
    with svc.uow.read() as session:
        rows = session.scalars(select(CertificateRow).where(CertificateRow.user_id.is_not(None),
                                                            CertificateRow.role == CertRole.OFFICER.value)
                               .order_by(CertificateRow.id))
        return {r.user_id: SigningCertificate(r.user_id, r.fingerprint, r.not_after, r.revoked_at)
                for r in rows if r.user_id is not None}


@dataclass(frozen=True)
class AccountEvent:
    """One journalled change to a user's account or keys: who, when, why."""

    kind: str  # user_deactivated | user_reactivated | key_revoked | key_reissued | pin_blocked | pin_unblocked
    actor: str
    at: dt.datetime
    reason: str
    detail: dict[str, object]


ACCOUNT_EVENTS = (USER_DEACTIVATED, USER_REACTIVATED, KEY_REVOKED, KEY_REISSUED, PIN_BLOCKED, PIN_UNBLOCKED)


def account_history(svc: Services, user_id: str, *, limit: int = 50) -> list[AccountEvent]:
    """The newest changes to a user's account and signing keys (admin_events), newest first."""
    with svc.uow.read() as session:
        rows = session.scalars(select(AdminEventRow).where(AdminEventRow.subject == user_id,
                                                           AdminEventRow.kind.in_(ACCOUNT_EVENTS))
                               .order_by(AdminEventRow.id.desc()).limit(limit))
        return [AccountEvent(r.kind, r.actor, r.at, str((r.detail or {}).get("reason", "")), dict(r.detail or {}))
                for r in rows]

