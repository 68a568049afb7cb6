"""Officers' signing keys at rest and in use: wrapped under the KEK, opened by the PIN, guarded by a retry counter.

At rest, an officer's key is PKCS#8 encrypted under their PIN (scrypt) *and* wrapped under the officers'
key-encryption key (signatures.keywrap), which lives outside the database (engine/keystore.py `OfficerKek`):
a copied database or backup opens no key and gives nothing to guess PINs against offline.

In use, a PIN behaves like a smart card's: each wrong PIN is counted on the key (`user_keys.pin_failures`, one
atomic UPDATE in its own short transaction, so the count holds across workers and restarts even though the
step itself writes nothing); at `security.signing_pin_attempts` (settings.json) the key is blocked and refuses
every PIN, the right one too, until a head or an administrator unblocks it (engine/usecases/users.py
`unblock_signing_pin`, journalled) or a new key is issued. The right PIN resets a non-zero count; while the
count is zero, unlocking writes nothing. Within a process one thread at a time tries a given key's PIN, and a
failure is counted before the next try starts, so parallel requests cannot get past the limit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cryptography import x509
from sqlalchemy import and_, case, literal, or_, select, update
from sqlalchemy.orm import Session

from engine.agencies import lineage
from engine.db.admin_tables import AdminEventRow
from engine.db.tables import UserKeyRow, UserRoleRow, UserRow, UtcDateTime
from engine.errors import ConfigurationError, NotFound, SigningError, SigningKeyBlocked, WrongSigningPin
from engine.roles import ADMIN_ROLE
from signatures.errors import KeyWrapError, WrongPin
from signatures.keys import EncryptedKey, KeySigner
from signatures.keywrap import KeyEncryptionKey, envelope_kek_id, is_wrapped, unwrap_key, wrap_key

if TYPE_CHECKING:
    from engine.keystore import OfficerKek
    from engine.services import Services

HEAD_ROLE = "head"
UNBLOCKER_ROLES = (HEAD_ROLE, ADMIN_ROLE)  # the officer's head (负责人) or an administrator unblocks a PIN
PIN_BLOCKED = "pin_blocked"  # admin_events kinds: the key blocked by a wrong PIN, unblocked by a head or admin
PIN_UNBLOCKED = "pin_unblocked"
_NAMED_UNBLOCKERS = 6  # a blocked officer is told whom to ask: a few names, not the whole agency


# --- the key-encryption key ----------------------------------------------------------------------------
def officer_kek(svc: Services, session: Session) -> KeyEncryptionKey:
    """The KEK new keys are wrapped under; made on first use (`casetrail init`, the first key issued) — but
    never while the database holds keys wrapped under one that went missing: those would be lost for good."""
    source = svc.officer_kek
    if not source.exists():
        wrapped = sum(1 for blob in session.scalars(select(UserKeyRow.encrypted_pem)) if is_wrapped(blob))
        if wrapped:
            raise _missing_kek(source, wrapped)
        source.create()
    return source.key()


def _missing_kek(source: OfficerKek, wrapped: int) -> ConfigurationError:
    return ConfigurationError(
        f"找不到签名密钥的加密密钥，请从备份恢复 (the officers' key-encryption key is missing from {source.description}, "
        f"but the database holds {wrapped} officer keys wrapped under it: restore it from its backup; a new one "
        "would open none of them)")


def wrap_new_key(svc: Services, session: Session, pem: bytes, *, user_id: str, fingerprint: str) -> bytes:
    """What `user_keys.encrypted_pem` holds for a new key: its PIN-encrypted PEM wrapped under the KEK."""
    return wrap_key(officer_kek(svc, session), pem, user_id=user_id, fingerprint=fingerprint)


def prepare_officer_keys(svc: Services) -> int:
    """At start-up: the KEK must open the database's wrapped keys (a wrong or missing one is a ConfigurationError
    now, not every officer's PIN failing later); keys stored before wrapping are wrapped, in one transaction.
    Returns how many were wrapped now. Reads only, unless there is something to wrap."""
    with svc.uow.read() as session:
        rows = session.execute(select(UserKeyRow.user_id, UserKeyRow.fingerprint, UserKeyRow.encrypted_pem)).all()
    wrapped = [row for row in rows if is_wrapped(row.encrypted_pem)]
    if wrapped:
        check_kek_opens(svc.officer_kek, wrapped)
    if len(wrapped) == len(rows):
        return 0
    return _wrap_stored_keys(svc)


def check_kek_opens(source: OfficerKek, wrapped: Sequence[Any]) -> None:
    """ConfigurationError unless `source`'s KEK is the one every row of `wrapped` (user_id, fingerprint,
    encrypted_pem) names, and opens one of them."""
    if not source.exists():
        raise _missing_kek(source, len(wrapped))
    kek = source.key()
    try:
        foreign = [row for row in wrapped if envelope_kek_id(row.encrypted_pem) != kek.key_id]
        if not foreign:
            unwrap_key(kek, wrapped[0].encrypted_pem, user_id=wrapped[0].user_id, fingerprint=wrapped[0].fingerprint)
    except KeyWrapError as exc:
        raise ConfigurationError(f"签名密钥的加密密钥无法打开数据库中的密钥 (the officers' key-encryption key from "
                                 f"{source.description} does not open the stored keys: {exc})") from exc
    if foreign:
        ids = sorted({envelope_kek_id(row.encrypted_pem).hex() for row in foreign})
        raise ConfigurationError(
            f"签名密钥的加密密钥不符 (the officers' key-encryption key from {source.description} (id "
            f"{kek.key_id.hex()}) is not the one {len(foreign)} of {len(wrapped)} stored officer keys are wrapped "
            f"under (id {', '.join(ids)}): give the right one — with a wrong one no officer could sign)")


def _wrap_stored_keys(svc: Services) -> int:
    count = 0
    with svc.uow() as work:
        kek = officer_kek(svc, work.session)
        # Locked: two processes starting at once wrap each key once (the second sees the first one's rows).
        for row in work.session.scalars(
                select(UserKeyRow).with_for_update().order_by(UserKeyRow.fingerprint)):
            if not is_wrapped(row.encrypted_pem):
                row.encrypted_pem = wrap_key(kek, row.encrypted_pem, user_id=row.user_id, fingerprint=row.fingerprint)
                count += 1
        work.commit()
    return count


def _unwrapped(svc: Services, key: UserKeyRow) -> bytes:
    blob = key.encrypted_pem
    if not is_wrapped(blob):
        return blob  # stored before keys were wrapped: the next start-up wraps it
    kek = svc.officer_kek.key()
    try:
        if envelope_kek_id(blob) != kek.key_id:
            raise ConfigurationError(
                f"签名密钥的加密密钥不符，请管理员检查 (the officers' key-encryption key from {svc.officer_kek.description} "
                f"is not the one {key.user_id}'s key is wrapped under; tell the administrator)")
        return unwrap_key(kek, blob, user_id=key.user_id, fingerprint=key.fingerprint)
    except KeyWrapError as exc:  # altered, or another officer's row: not a wrong PIN, and not counted as one
        raise SigningError(f"签名密钥无法打开，未签署，请联系系统管理员 (the stored signing key does not open: {exc}; "
                           "nothing was signed; tell the administrator)") from exc


# --- the PIN and its retry counter ------------------------------------------------------------------------
def open_officer_key(svc: Services, key: UserKeyRow, certificate: x509.Certificate, pin: str,
                     now: dt.datetime) -> KeySigner:
    """The officer's signer if `pin` opens `key` and the key is not blocked; a wrong PIN is counted durably
    (its own transaction) before `WrongSigningPin` / `SigningKeyBlocked` is raised."""
    limit = svc.settings.security.signing_pin_attempts
    with svc.key_lock(key.fingerprint):
        failures, blocked_at = pin_state(svc, key.fingerprint)  # fresh: the caller's snapshot may predate a try
        if blocked_at is not None or failures >= limit:
            raise _blocked(svc, key.user_id, blocked_at or now, failures)
        pem = _unwrapped(svc, key)
        try:
            signer = EncryptedKey(pem, certificate).unlock(pin)
        except WrongPin as exc:
            failures, blocked_at = _count_failure(svc, key, now, limit)
            if blocked_at is not None:
                raise _blocked(svc, key.user_id, blocked_at, failures) from exc
            left = limit - failures
            raise WrongSigningPin(
                f"签名PIN码错误，未签署；还可再试 {left} 次，之后签名密钥将被锁定 (wrong signing PIN; nothing was signed. "
                f"{left} {'try' if left == 1 else 'tries'} left before the signing key is blocked)", left) from exc
        if failures and not _reset(svc, key.fingerprint):
            raise _blocked(svc, key.user_id, now, limit)  # blocked meanwhile by another process's wrong PINs
        return signer


def pin_state(svc: Services, fingerprint: str) -> tuple[int, dt.datetime | None]:
    """(wrong PINs in a row, blocked since) of a key, as committed now."""
    with svc.uow.read() as session:
        row = session.execute(select(UserKeyRow.pin_failures, UserKeyRow.blocked_at)
                              .where(UserKeyRow.fingerprint == fingerprint)).one()
        return row.pin_failures, row.blocked_at


def _count_failure(svc: Services, key: UserKeyRow, now: dt.datetime, limit: int) -> tuple[int, dt.datetime | None]:
    """Count one wrong PIN atomically (two workers at once both count); block the key at the limit."""
    with svc.uow() as work:
        session = work.session
        session.execute(update(UserKeyRow).where(UserKeyRow.fingerprint == key.fingerprint).values(
            pin_failures=UserKeyRow.pin_failures + 1,
            blocked_at=case((and_(UserKeyRow.blocked_at.is_(None), UserKeyRow.pin_failures + 1 >= limit),
                             literal(now, UtcDateTime())), else_=UserKeyRow.blocked_at)))
        failures, blocked_at = session.execute(select(UserKeyRow.pin_failures, UserKeyRow.blocked_at)
                                               .where(UserKeyRow.fingerprint == key.fingerprint)).one()
        if failures == limit:  # exactly one try reaches the limit: it journals the block
            session.add(AdminEventRow(kind=PIN_BLOCKED, subject=key.user_id, actor=key.user_id, at=now,
                                      detail={"fingerprint": key.fingerprint, "failures": failures, "reason": ""}))
        work.commit()
    return failures, blocked_at


def _reset(svc: Services, fingerprint: str) -> bool:
    """The right PIN after wrong ones: the count starts again (False: the key was blocked meanwhile)."""
    with svc.uow() as work:
        done = work.session.execute(update(UserKeyRow).where(
            UserKeyRow.fingerprint == fingerprint, UserKeyRow.blocked_at.is_(None)).values(pin_failures=0))
        work.commit()
        return bool(done.rowcount)  # type: ignore[attr-defined]


def unblockers(session: Session, user_id: str) -> list[tuple[str, str]]:
    """(user id, name) of the people who may unblock `user_id`'s key (not themselves): the active heads of their
    agency and the administrators of it or of an agency above it — the ones engine/usecases/signing_pins.py
    `may_unblock` lets, so that a blocked officer is never sent to another district's administrator."""
    agency = session.scalar(select(UserRow.agency_code).where(UserRow.id == user_id))
    if agency is None:
        return []
    try:
        chain = [row.code for row in lineage(session, agency)]
    except NotFound:  # an agency the tree no longer has (users.agency_code has no foreign key): its own only
        chain = [agency]
    rows = session.execute(select(UserRow.id, UserRow.name).join(UserRoleRow)
                           .where(or_((UserRoleRow.role == ADMIN_ROLE) & UserRow.agency_code.in_(chain),
                                      (UserRoleRow.role == HEAD_ROLE) & (UserRow.agency_code == agency)),
                                  UserRow.active.is_(True), UserRow.id != user_id).distinct().order_by(UserRow.id))
    return [(row.id, row.name) for row in rows]


def _blocked(svc: Services, user_id: str, since: dt.datetime, failures: int) -> SigningKeyBlocked:
    with svc.uow.read() as session:
        people = unblockers(session, user_id)
    named = "、".join(f"{name} ({uid})" for uid, name in people[:_NAMED_UNBLOCKERS]) + \
        ("等" if len(people) > _NAMED_UNBLOCKERS else "")
    who_zh = f"负责人或系统管理员（{named}）" if named else "负责人或系统管理员"
    who_en = f"A head or an administrator ({named.replace('、', ', ').replace('等', ', …')})" if named \
        else "A head or an administrator"
    return SigningKeyBlocked(
        f"签名密钥已于 {since:%Y-%m-%d %H:%M}Z 因连续 {failures} 次PIN码错误被锁定，未签署；须由{who_zh}解锁，"
        f"或重新签发密钥 (the signing key is blocked since {since:%Y-%m-%d %H:%M}Z after {failures} wrong PINs in a "
        f"row; nothing was signed. {who_en} must unblock it — casetrail user unblock-pin {user_id} — or issue a "
        "new key)")


def unblock_key(session: Session, user_id: str, limit: int) -> tuple[str, int, dt.datetime | None] | None:
    """Unblock the user's active key and reset its count if it is blocked: (fingerprint, wrong PINs, blocked
    since) as they were; None if there is nothing to unblock."""
    key = session.scalar(select(UserKeyRow).where(UserKeyRow.user_id == user_id, UserKeyRow.active.is_(True))
                         .order_by(UserKeyRow.created_at.desc()).limit(1).with_for_update())
    if key is None or (key.blocked_at is None and key.pin_failures < limit):
        return None
    before = (key.fingerprint, key.pin_failures, key.blocked_at)
    key.blocked_at, key.pin_failures = None, 0
    return before


def rewrap_officer_keys(svc: Services, new: KeyEncryptionKey) -> int:
    """Rotate the KEK: every officer key (revoked ones too) unwrapped under the current KEK and wrapped under
    `new`, in one transaction — all or none. Install `new` as the KEK afterwards (the next start-up refuses the
    old one); until then keep both. Returns how many keys were re-wrapped."""
    count = 0
    with svc.uow() as work:
        current = officer_kek(svc, work.session)
        for row in work.session.scalars(
                select(UserKeyRow).with_for_update().order_by(UserKeyRow.fingerprint)):
            pem = row.encrypted_pem
            if is_wrapped(pem):
                try:
                    pem = unwrap_key(current, pem, user_id=row.user_id, fingerprint=row.fingerprint)
                except KeyWrapError as exc:
                    raise ConfigurationError(f"{row.user_id} 的签名密钥无法用当前的加密密钥打开，未更换 (the key of "
                                             f"{row.user_id} does not open under the current KEK: {exc}; nothing "
                                             "was re-wrapped)") from exc
            row.encrypted_pem = wrap_key(new, pem, user_id=row.user_id, fingerprint=row.fingerprint)
            count += 1
        work.commit()
    return count
