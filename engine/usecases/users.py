"""Users, their roles and their signing keys. Passwords are hashed with argon2 and never stored in the clear;
signing PINs are never stored at all — they only encrypt the officer's private key (engine/journal.py)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import journal
from engine.db.tables import UserRoleRow, UserRow
from engine.errors import Conflict, NotFound, ValidationError
from engine.roles import all_roles
from engine.services import Services
from engine.values import Clock, UserView

_hasher = PasswordHasher()
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
        row = UserRow(id=user_id, name=name.strip(), password_hash=_hasher.hash(password), unit=unit,
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


def rekey_user(svc: Services, user_id: str, *, pin: str, clock: Clock) -> KeyChange:
    """Issue a new key and certificate under a new PIN; the old certificate is revoked from now on
    (steps signed before stay valid; signing with the old key is refused)."""
    journal.check_pin(pin)
    now = clock()
    with svc.uow() as session:
        row = _existing(session, user_id)
        revoked = journal.revoke_officer_keys(session, user_id, now)
        cert = journal.issue_officer_key(svc, session, user_id=user_id, name=row.name, pin=pin, now=now)
        return KeyChange(user_id, tuple(revoked), cert.fingerprint, now)


def revoke_user_key(svc: Services, user_id: str, *, clock: Clock) -> KeyChange:
    """Revoke the user's signing certificate now (lost key, PIN disclosed, left the agency)."""
    now = clock()
    with svc.uow() as session:
        _existing(session, user_id)
        revoked = journal.revoke_officer_keys(session, user_id, now)
        if not revoked:
            raise Conflict(f"{user_id} 没有有效的签名证书 (no active signing certificate to revoke)")
        return KeyChange(user_id, tuple(revoked), None, now)


def _existing(session: Session, user_id: str) -> UserRow:
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotFound(f"用户不存在 (no such user): {user_id}")
    return row


def list_users(svc: Services) -> list[UserView]:
    with svc.uow.read() as session:
        return [_view(r) for r in session.scalars(select(UserRow).order_by(UserRow.id))]


def get_user(svc: Services, user_id: str) -> UserView:
    with svc.uow.read() as session:
        row = session.get(UserRow, user_id)
        if row is None:
            raise NotFound(f"用户不存在 (no such user): {user_id}")
        return _view(row)


def check_password(svc: Services, user_id: str, password: str) -> bool:
    with svc.uow.read() as session:
        row = session.get(UserRow, user_id)
        if row is None or not row.active:
            return False
        try:
            return _hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def _view(row: UserRow) -> UserView:
    return UserView(id=row.id, name=row.name, roles=tuple(sorted(r.role for r in row.roles)), unit=row.unit,
                    active=row.active)
