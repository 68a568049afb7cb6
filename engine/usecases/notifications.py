"""Telling people about their work (issue 15): one inbox row per person, and an e-mail when they chose so.

`notify` writes in the caller's transaction and never commits: a notice exists exactly when what caused it
(a step completed, a task reassigned, the worker's deadline scan) is written, and vanishes with its rollback.
It reads once (the recipients' addresses and choices) and inserts in one executemany per table, so the
completion path pays two statements, not one per person. E-mail is only queued here; the worker sends it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, insert, select
from sqlalchemy.orm import Session

from engine.db.notice_tables import EmailOutboxRow, NoticeChoiceRow, NotificationRow
from engine.db.tables import UserRow
from engine.enums import NoticeKind
from engine.values import Clock

# Mailed unless the person said otherwise: what needs them now. An offer to a whole group and the early
# warning stay in the inbox unless a person asks for them by mail (a group of twenty would get every offer).
EMAIL_BY_DEFAULT = frozenset({NoticeKind.ASSIGNED, NoticeKind.RETURNED, NoticeKind.OVERDUE, NoticeKind.URGED})


def notify(
    s: Session,
    *,
    recipients: Iterable[str],
    kind: NoticeKind,
    case_id: int | None,
    task_id: int | str | None,
    by: str | None,
    note: str,
    clock: Clock,
) -> int:
    """Put a notice of `kind` in each recipient's inbox, and an e-mail in the outbox for those who want it by
    mail and have an address. Unknown and deactivated accounts are skipped, as is `by` itself (nobody needs to
    be told what they just did). `note` is stored as given: callers must not put complainant identity in it.
    Returns how many inbox rows were written. Does not commit."""
    kind = NoticeKind(kind)
    wanted = sorted({r for r in recipients if r and r != by})
    if not wanted:
        return 0
    people = s.execute(
        select(UserRow.id, UserRow.email, NoticeChoiceRow.email)
        .outerjoin(NoticeChoiceRow, and_(NoticeChoiceRow.user_id == UserRow.id, NoticeChoiceRow.kind == kind.value))
        .where(UserRow.id.in_(wanted), UserRow.active.is_(True))
        .order_by(UserRow.id)
    ).all()
    if not people:
        return 0
    now = clock()
    task = None if task_id is None else str(task_id)
    rows = [
        {"recipient": uid, "kind": kind.value, "case_id": case_id, "task_id": task, "by": by, "note": note,
         "created_at": now, "read_at": None}
        for uid, _address, _choice in people
    ]
    mailed = {uid: address for uid, address, choice in people
              if address and (choice if choice is not None else kind in EMAIL_BY_DEFAULT)}
    if not mailed:
        s.execute(insert(NotificationRow), rows)
        return len(rows)
    ids = s.scalars(
        insert(NotificationRow).returning(NotificationRow.id, sort_by_parameter_order=True), rows
    ).all()
    s.execute(insert(EmailOutboxRow), [
        {"notification_id": nid, "to": mailed[row["recipient"]], "subject": "", "body": "", "created_at": now,
         "next_attempt_at": now, "sent_at": None, "attempts": 0, "last_error": None}
        for nid, row in zip(ids, rows, strict=True) if row["recipient"] in mailed
    ])
    return len(rows)


__all__ = ["EMAIL_BY_DEFAULT", "notify"]
