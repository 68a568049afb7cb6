"""A person's inbox and their choices (issue 15): reading notices, marking them read, saying what is mailed.

Only the recipient reads or marks a notice: every query here is bounded by the person's own id, so another's
notice is simply not found. A notice names a case number and a step, never a party or the complainant.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.orm import aliased

from engine.db.notice_tables import NoticeChoiceRow, NotificationRow
from engine.db.repositories import Users
from engine.db.tables import CaseRow, TaskRow, UserRow
from engine.enums import NoticeKind
from engine.errors import NotFound, ValidationError
from engine.services import Services
from engine.usecases.notifications import EMAIL_BY_DEFAULT
from engine.values import Clock, MarkNoticesRead, NoticeChoices, NoticeView, SetNoticeChoices

INBOX_LIMIT = 200  # the newest notices a page or `notifications list` shows; older ones stay in the table
# An address as mail servers take it (RFC 5321's limits: 64 + 1 + 255 ≤ 254 in practice); no spaces, one @.
ADDRESS = re.compile(r"^[^@\s<>,;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$")


def list_notices(svc: Services, user_id: str, *, unread: bool = False, limit: int = INBOX_LIMIT) -> list[NoticeView]:
    """The person's notices, newest first (only unread ones with `unread`)."""
    query = _query(user_id).order_by(NotificationRow.id.desc()).limit(max(1, min(limit, INBOX_LIMIT)))
    if unread:
        query = query.where(NotificationRow.read_at.is_(None))
    with svc.uow.read() as s:
        return [_view(*row) for row in s.execute(query)]


def get_notice(svc: Services, user_id: str, notice_id: int) -> NoticeView:
    """One of the person's notices; another person's is not found, like one that does not exist."""
    with svc.uow.read() as s:
        row = s.execute(_query(user_id).where(NotificationRow.id == notice_id)).first()
    if row is None:
        raise NotFound(f"通知不存在 (no such notice): {notice_id}")
    return _view(*row)


def _query(user_id: str) -> Select[Any]:
    by = aliased(UserRow)
    return (select(NotificationRow, CaseRow.number, TaskRow.spec_id, TaskRow.name, TaskRow.due_at, by.name)
            .outerjoin(CaseRow, CaseRow.id == NotificationRow.case_id)
            .outerjoin(TaskRow, TaskRow.id == NotificationRow.task_id)
            .outerjoin(by, by.id == NotificationRow.by)
            .where(NotificationRow.recipient == user_id))


def _view(n: NotificationRow, number: str | None, spec: str | None, name: str | None, due: Any,
          by_name: str | None) -> NoticeView:
    return NoticeView(id=n.id, kind=n.kind, case_id=n.case_id, case_number=number, task_id=n.task_id,
                      task_spec_id=spec, task_name=name, due_at=due, by=n.by, by_name=by_name, note=n.note,
                      created_at=n.created_at, read_at=n.read_at)


def unread_count(svc: Services, user_id: str) -> int:
    """How many of the person's notices are unread (the header's badge): read from the inbox index alone."""
    with svc.uow.read() as s:
        return s.scalar(select(func.count()).select_from(NotificationRow).where(
            NotificationRow.recipient == user_id, NotificationRow.read_at.is_(None))) or 0


def mark_notices_read(cmd: MarkNoticesRead, *, svc: Services, clock: Clock) -> int:
    """Mark the person's notices read (those of `cmd.ids`, or all unread); returns how many changed. An id that
    is not the person's own, or already read, changes nothing."""
    if not cmd.everything and not cmd.ids:
        raise ValidationError("未选择通知 (no notice chosen)", {"ids": "必填 (required)"})
    now = clock()
    statement = update(NotificationRow).where(NotificationRow.recipient == cmd.user_id,
                                              NotificationRow.read_at.is_(None))
    if not cmd.everything:
        statement = statement.where(NotificationRow.id.in_(sorted(set(cmd.ids))))
    with svc.uow() as work:
        Users(work.session).active(cmd.user_id)
        changed = work.session.execute(statement.values(read_at=now)).rowcount
        work.commit()
    return changed


def notice_choices(svc: Services, user_id: str) -> NoticeChoices:
    """The person's address and, for every kind of notice, whether it is mailed (their choice or the default)."""
    with svc.uow.read() as s:
        user = Users(s).active(user_id)
        chosen = {kind: mailed for kind, mailed in s.execute(
            select(NoticeChoiceRow.kind, NoticeChoiceRow.email).where(NoticeChoiceRow.user_id == user_id))}
    return NoticeChoices(user_id=user_id, email=user.email,
                         mailed={k.value: chosen.get(k.value, k in EMAIL_BY_DEFAULT) for k in NoticeKind})


def set_notice_choices(cmd: SetNoticeChoices, *, svc: Services, clock: Clock) -> NoticeChoices:
    """Set the person's address (empty: no mail) and the kinds mailed; every kind gets a row, so a later change
    of the defaults does not change what a person chose. Bad input: a clear error, nothing written."""
    address = cmd.email.strip()
    errors = {}
    if address and (len(address) > 254 or not ADDRESS.match(address)):
        errors["email"] = "电子邮件地址无效 (not an e-mail address)"
    unknown = sorted(set(cmd.mailed) - {k.value for k in NoticeKind})
    if unknown:
        errors["mailed"] = f"未知的通知类型 (unknown kinds of notice): {', '.join(unknown)}"
    if errors:
        raise ValidationError("通知设置有误 (the notice settings are not valid)", errors)
    with svc.uow() as work:
        s = work.session
        user = Users(s).active(cmd.user_id)
        user.email = address or None
        s.execute(delete(NoticeChoiceRow).where(NoticeChoiceRow.user_id == cmd.user_id))
        s.execute(insert(NoticeChoiceRow), [{"user_id": cmd.user_id, "kind": k.value, "email": k.value in cmd.mailed}
                                            for k in NoticeKind])
        work.commit()
    return notice_choices(svc, cmd.user_id)


__all__ = ["INBOX_LIMIT", "get_notice", "list_notices", "mark_notices_read", "notice_choices", "set_notice_choices", "unread_count"]
