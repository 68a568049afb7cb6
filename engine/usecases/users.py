"""Users, their roles and their signing keys. Passwords are hashed with argon2 and never stored in the clear;
signing PINs are never stored at all — they only encrypt the officer's private key (engine/journal.py)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import journal
from engine.agencies import check_agency
from engine.db.admin_tables import AdminEventRow
from engine.db.repositories import Users
from engine.db.tables import CertificateRow, TaskRow, UserRoleRow, UserRow
from engine.enums import TaskStatus
from engine.errors import Conflict, NotFound, ValidationError
from engine.officer_keys import PIN_BLOCKED, PIN_UNBLOCKED
from engine.roles import ADMIN_ROLE, all_roles
from engine.rules.people import cert_no_or_none, certificate_problems
from engine.services import Services
from engine.usecases.access import admin_reach, in_agencies, require_agency_admin, require_user_admin
from engine.usecases.sessions import EndedWhy, end_user_sessions
from engine.values import (
    AddUser,
    ChangeAccount,
    ChangePassword,
    Clock,
    EndAllSessions,
    RekeyUser,
    RevokeUserKey,
    SetPassword,
    UserView,
)
from engine.views import user_view as _view
from signatures.pki import CertRole

USER_ID = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
ADMIN_ONLY = "只有系统管理员可以管理用户 (only an administrator may do this)"


def add_user(cmd: AddUser, *, svc: Services, clock: Clock) -> UserView:
    """Add a user; with `pin`, also issue their signing certificate (without one they cannot sign steps
    until an administrator runs `rekey_user`). `by`: the administrator, who adds people to their own agency or
    one below it only (None: the server's command line, any agency)."""
    user_id, name, password, roles = cmd.user_id, cmd.name, cmd.password, list(cmd.roles)
    unit, pin = cmd.unit, cmd.pin
    errors: dict[str, str] = {}
    if not USER_ID.match(user_id):
        errors["user_id"] = "用户名须为小写字母开头的字母、数字、._- (2–64 chars, lowercase)"
    if not name.strip():
        errors["name"] = "姓名不能为空 (name is required)"
    errors.update(password_problems(password, user_id=user_id, name=name,
                                    min_length=svc.settings.security.password_min_length))
    unknown = sorted(set(roles) - set(all_roles()))
    if unknown or not roles:
        errors["roles"] = f"未知角色 (unknown roles): {', '.join(unknown) or '(none given)'}"
    if pin is not None:
        try:
            journal.check_pin(pin)
        except ValidationError as exc:
            errors.update(exc.errors)
    errors.update(certificate_problems(cmd.cert_no, cmd.cert_valid_until))
    if errors:
        raise ValidationError("用户信息有误 (invalid user)", errors)
    with svc.uow() as work:
        session = work.session
        code = cmd.agency_code or svc.settings.agency.code
        if cmd.by is not None:  # into the administrator's agency or one below it only (issue 16); None: the CLI's
            require_agency_admin(session, cmd.by, code, ADMIN_ONLY)
        agency = check_agency(session, code)
        if session.get(UserRow, user_id) is not None:
            raise Conflict(f"用户已存在 (user exists): {user_id}")
        row = UserRow(id=user_id, name=name.strip(), password_hash=svc.passwords.hash(password), unit=unit,
                      active=True, created_at=clock(), cert_no=cert_no_or_none(cmd.cert_no),
                      cert_valid_until=cmd.cert_valid_until if cert_no_or_none(cmd.cert_no) else None,
                      agency_code=agency.code)
        row.roles = [UserRoleRow(role=r) for r in sorted(set(roles))]
        session.add(row)
        if pin is not None:
            journal.issue_officer_key(svc, session, user_id=user_id, name=row.name, pin=pin, now=clock())
        work.commit()
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


def rekey_user(cmd: RekeyUser, *, svc: Services, clock: Clock) -> KeyChange:
    """Issue a new key and certificate under a new PIN; the old certificate is revoked from now on
    (steps signed before stay valid; signing with the old key is refused). `by`: the administrator (None:
    the command line on the server); journalled with the reason."""
    user_id, pin, by, reason = cmd.user_id, cmd.pin, cmd.by, cmd.reason
    journal.check_pin(pin)
    now = clock()
    with svc.uow() as work:
        session = work.session
        row = administered(session, by, user_id)
        revoked = journal.revoke_officer_keys(session, user_id, now)
        end_user_sessions(session, user_id, now=now, why=EndedWhy.KEY_REVOKED)  # the old key may be in bad hands
        cert = journal.issue_officer_key(svc, session, user_id=user_id, name=row.name, pin=pin, now=now)
        change = KeyChange(user_id, tuple(revoked), cert.fingerprint, now)
        _journal_key_change(session, KEY_REISSUED, change, by=by, reason=reason)
        work.commit()
        return change


def revoke_user_key(cmd: RevokeUserKey, *, svc: Services, clock: Clock) -> KeyChange:
    """Revoke the user's signing certificate now (lost key, PIN disclosed, left the agency). `by`: the
    administrator (None: the command line on the server); journalled with the reason."""
    user_id, by, reason = cmd.user_id, cmd.by, cmd.reason
    now = clock()
    with svc.uow() as work:
        session = work.session
        administered(session, by, user_id)
        revoked = journal.revoke_officer_keys(session, user_id, now)
        if not revoked:
            raise Conflict(f"{user_id} 没有有效的签名证书 (no active signing certificate to revoke)")
        end_user_sessions(session, user_id, now=now, why=EndedWhy.KEY_REVOKED)  # a lost key: a lost laptop too
        change = KeyChange(user_id, tuple(revoked), None, now)
        _journal_key_change(session, KEY_REVOKED, change, by=by, reason=reason)
        work.commit()
        return change


KEY_REVOKED = "key_revoked"
KEY_REISSUED = "key_reissued"
USER_AGENCY_SET = "user_agency_set"  # engine/usecases/agencies.py set_user_agency
SERVER_OPERATOR = "(cli)"  # the actor journalled for the command line on the server: no login there


def administered(session: Session, by: str | None, user_id: str, *, lock: bool = False) -> UserRow:
    """The user `user_id`, once `by` is found to administer them (`require_user_admin`: an administrator of their
    agency or of one above it; issue 16); None: the command line on the server, which has no login."""
    if by is None:
        return Users(session).get(user_id, lock=lock)
    return require_user_admin(session, by, user_id, ADMIN_ONLY, lock=lock)


def _journal_key_change(session: Session, kind: str, change: KeyChange, *, by: str | None, reason: str) -> None:
    reason = reason.strip()
    if len(reason) > 500 or (by is not None and not reason):  # an administrator says why; the CLI may not
        raise ValidationError("请填写理由（500 字以内） (a reason of at most 500 characters is required)",
                              {"reason": "请填写理由 (required)"})
    session.add(AdminEventRow(kind=kind, subject=change.user_id, actor=by or SERVER_OPERATOR, at=change.at,
                              detail={"revoked": list(change.revoked), "issued": change.issued, "reason": reason}))


def account_change_reason(by: str | None, reason: str) -> str:
    """An account change by an administrator `by` must say why; the server's command line (None, no login there)
    may."""
    return required_reason(reason) if by is not None else reason.strip()[:500]


def required_reason(reason: str) -> str:
    """The reason an account change is journalled with: required, at most 500 characters."""
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise ValidationError("请填写理由（500 字以内） (a reason of at most 500 characters is required)",
                              {"reason": "请填写理由 (required)"})
    return reason


def list_users(svc: Services, viewer_id: str | None = None) -> list[UserView]:
    """The users `viewer_id` administers (`admin_reach`: those of their agency and every agency below it; an
    administrator of the root agency, everyone), by id; nobody for someone who is not an administrator. None:
    the server's command line, everyone."""
    with svc.uow.read() as session:
        reach = None if viewer_id is None else admin_reach(session, Users(session).active(viewer_id))
        if reach is not None and not reach:
            return []
        rows = session.scalars(select(UserRow).where(in_agencies(UserRow.agency_code, reach)).order_by(UserRow.id))
        return [_view(r) for r in rows]


def user_names(svc: Services) -> dict[str, str]:
    """Every user's display name by id (one narrow query; pages show people by name)."""
    with svc.uow.read() as session:
        return {uid: name for uid, name in session.execute(select(UserRow.id, UserRow.name))}


def get_user(svc: Services, user_id: str, viewer_id: str | None = None) -> UserView:
    """The user; with `viewer_id`, Forbidden unless that administrator administers them (`require_user_admin`:
    the user page of another district's person is not theirs to open)."""
    with svc.uow.read() as session:
        if viewer_id is not None:
            return _view(require_user_admin(session, viewer_id, user_id, ADMIN_ONLY))
        row = Users(session).find(user_id)  # every request: one query
        if row is None:
            raise NotFound(f"用户不存在 (no such user): {user_id}")
        return _view(row)


def check_password(svc: Services, user_id: str, password: str) -> bool:
    with svc.uow.read() as session:
        row = session.get(UserRow, user_id)
        if row is None or not row.active:
            return False
        stored = row.password_hash
    return password_verifies(svc, stored, password)


# --- passwords and sessions ------------------------------------------------------------------------
PASSWORD_CHANGED = "password_changed"
PASSWORD_SET = "password_set"
SESSIONS_ENDED = "sessions_ended"
CERTIFICATE_SET = "enforcement_certificate_set"  # engine/usecases/people.py set_user_certificate
MAX_PASSWORD_LENGTH = 256  # NIST SP 800-63B: at least 64 allowed; argon2 takes any length, a form needs a bound


def password_problems(password: str, *, user_id: str, name: str, min_length: int) -> dict[str, str]:
    """What is wrong with a new password, by field ({} when it may be used). NIST SP 800-63B §5.1.1.2: a minimum
    length, and no password from a list of commonly used ones — zxcvbn's list of 30,000 (with its patterns:
    keyboard rows, repeats, sequences, dates, l33t spellings, the user's own name and id)."""
    if len(password) < min_length:
        return {"password": f"密码至少 {min_length} 位 (at least {min_length} characters)"}
    if len(password) > MAX_PASSWORD_LENGTH:
        return {"password": f"密码至多 {MAX_PASSWORD_LENGTH} 位 (at most {MAX_PASSWORD_LENGTH} characters)"}
    from zxcvbn import zxcvbn  # its word lists take a moment to load: only when a password is set

    # zxcvbn's matching grows with the length; past 100 characters the head alone decides nothing less.
    if zxcvbn(password[:100], user_inputs=[user_id, name, "casetrail"])["score"] < COMMON_PASSWORD_SCORE:
        return {"password": "密码过于常见或容易猜到（常用密码、键盘顺序、重复字符、日期或含用户名），请换一个 "
                            "(this password is too common or easy to guess — a common password, a keyboard row, "
                            "repeated characters, a date or your user name: choose another)"}
    return {}


# zxcvbn's score 3: "safely unguessable" (fewer than 10^10 guesses is below it), so every password in its lists
# of common passwords, and simple variations of them, is refused.
COMMON_PASSWORD_SCORE = 3


def _new_password_hash(svc: Services, row: UserRow, password: str) -> str:
    problems = password_problems(password, user_id=row.id, name=row.name,
                                 min_length=svc.settings.security.password_min_length)
    if problems:
        raise ValidationError("新密码不符合要求 (the new password cannot be used)", problems)
    return svc.passwords.hash(password)


def change_password(cmd: ChangePassword, *, svc: Services, clock: Clock) -> int:
    """The user changes their own password (the current one is asked again); every session of theirs ends —
    a copied cookie as well as the browser the change was made in (which logs in afresh). Journalled.
    Returns how many sessions were ended."""
    user_id, current, new = cmd.user_id, cmd.current, cmd.new
    with svc.uow.read() as session:
        row = Users(session).get(user_id)
        stored = row.password_hash
        new_hash = _new_password_hash(svc, row, new)  # slow (argon2): outside the write transaction
    if not password_verifies(svc, stored, current):
        raise ValidationError("当前密码错误 (the current password is wrong)", {"current": "当前密码错误 (wrong)"})
    now = clock()
    with svc.uow() as work:
        session = work.session
        row = work.users.get(user_id)
        if row.password_hash != stored:
            raise Conflict("密码已被另一处修改，请重新登录 (the password was changed meanwhile; log in again)")
        row.password_hash = new_hash
        ended = end_user_sessions(session, user_id, now=now, why=EndedWhy.PASSWORD_CHANGED)
        session.add(AdminEventRow(kind=PASSWORD_CHANGED, subject=user_id, actor=user_id, at=now,
                                  detail={"reason": "", "sessions_ended": ended}))
        work.commit()
        return ended


def set_password(cmd: SetPassword, *, svc: Services, clock: Clock) -> int:
    """An administrator (or the server's command line, `by` None) sets a user's password, e.g. a forgotten one;
    every session of the user ends. Journalled with the reason; returns how many sessions were ended."""
    user_id, password, by, reason = cmd.user_id, cmd.password, cmd.by, cmd.reason
    with svc.uow.read() as session:
        new_hash = _new_password_hash(svc, Users(session).get(user_id), password)
    now = clock()
    with svc.uow() as work:
        session = work.session
        row = administered(session, by, user_id)
        reason = account_change_reason(by, reason)
        row.password_hash = new_hash
        ended = end_user_sessions(session, user_id, now=now, why=EndedWhy.PASSWORD_CHANGED)
        session.add(AdminEventRow(kind=PASSWORD_SET, subject=user_id, actor=by or SERVER_OPERATOR, at=now,
                                  detail={"reason": reason, "sessions_ended": ended}))
        work.commit()
        return ended


def end_all_sessions(cmd: EndAllSessions, *, svc: Services, clock: Clock) -> int:
    """An administrator ends every session of a user at once (a stolen laptop, a shared screen): each browser
    logged in as them is sent to the login page on its next request. Journalled with who and why; returns how
    many sessions were open."""
    user_id, by, reason = cmd.user_id, cmd.by, cmd.reason
    reason = account_change_reason(by, reason)
    now = clock()
    with svc.uow() as work:
        session = work.session
        administered(session, by, user_id)
        ended = end_user_sessions(session, user_id, now=now, why=EndedWhy.ENDED_BY_ADMIN)
        session.add(AdminEventRow(kind=SESSIONS_ENDED, subject=user_id, actor=by or SERVER_OPERATOR, at=now,
                                  detail={"reason": reason, "sessions_ended": ended}))
        work.commit()
        return ended


def password_verifies(svc: Services, stored_hash: str, password: str) -> bool:
    """Whether `password` matches the stored argon2 hash (a malformed hash matches nothing)."""
    try:
        return svc.passwords.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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


def deactivate_user(cmd: ChangeAccount, *, svc: Services, clock: Clock) -> AccountChange:
    """The user can no longer log in, be assigned or sign (their session ends on the next request).

    Nothing of theirs is deleted: their signed steps stay theirs. An administrator cannot lock themselves
    out, nor deactivate the last active administrator.
    """
    return _set_active(svc, cmd.user_id, False, by=cmd.by, reason=cmd.reason, clock=clock)


def reactivate_user(cmd: ChangeAccount, *, svc: Services, clock: Clock) -> AccountChange:
    return _set_active(svc, cmd.user_id, True, by=cmd.by, reason=cmd.reason, clock=clock)


def _set_active(svc: Services, user_id: str, active: bool, *, by: str, reason: str, clock: Clock) -> AccountChange:
    reason = required_reason(reason)
    now = clock()
    with svc.uow() as work:
        session = work.session
        row = administered(session, by, user_id, lock=True)
        if row.active == active:
            raise Conflict(f"{user_id} 已是{'启用' if active else '停用'}状态 (already {'active' if active else 'inactive'})")
        if not active and user_id == by:
            raise Conflict("不能停用自己的账户 (you cannot deactivate your own account)")
        if not active and ADMIN_ROLE in {r.role for r in row.roles} and _other_active_admins(session, user_id) == 0:
            raise Conflict("不能停用最后一名系统管理员 (the last active administrator cannot be deactivated)")
        row.active = active
        if not active:
            end_user_sessions(session, user_id, now=now, why=EndedWhy.DEACTIVATED)
        open_tasks = session.scalar(select(func.count()).select_from(TaskRow)
                                    .where(TaskRow.status == TaskStatus.READY, TaskRow.assignee == user_id)) or 0
        session.add(AdminEventRow(kind=USER_REACTIVATED if active else USER_DEACTIVATED, subject=user_id, actor=by,
                                  at=now, detail={"reason": reason, "open_tasks": open_tasks}))
        work.commit()
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

    kind: str  # one of ACCOUNT_EVENTS
    actor: str
    at: dt.datetime
    reason: str
    detail: dict[str, object]


ACCOUNT_EVENTS = (USER_DEACTIVATED, USER_REACTIVATED, KEY_REVOKED, KEY_REISSUED, PIN_BLOCKED, PIN_UNBLOCKED,
                  PASSWORD_CHANGED, PASSWORD_SET, SESSIONS_ENDED, CERTIFICATE_SET, USER_AGENCY_SET)


def account_history(svc: Services, user_id: str, *, limit: int = 50) -> list[AccountEvent]:
    """The newest changes to a user's account and signing keys (admin_events), newest first."""
    with svc.uow.read() as session:
        rows = session.scalars(select(AdminEventRow).where(AdminEventRow.subject == user_id,
                                                           AdminEventRow.kind.in_(ACCOUNT_EVENTS))
                               .order_by(AdminEventRow.id.desc()).limit(limit))
        return [AccountEvent(r.kind, r.actor, r.at, str((r.detail or {}).get("reason", "")), dict(r.detail or {}))
                for r in rows]

