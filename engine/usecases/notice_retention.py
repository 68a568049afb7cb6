"""How long the inbox keeps what was read (settings.json `notifications.keep_read_days`).

A notice points at work and is not the record — the signed step records are, and the e-mail outbox keeps what
was mailed (its rows stay; their link to a deleted notice becomes empty). Unread notices are never deleted: a
person has not seen them yet. The worker prunes once an hour; `casetrail notifications prune` does it at once.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from engine.db.notice_tables import NotificationRow
from engine.services import Services
from engine.values import Clock

_BATCH = 5000  # rows per statement: one prune never holds a long lock over a large inbox table


def prune_read_notices(svc: Services, *, clock: Clock) -> int:
    """Delete the notices read longer ago than the setting; how many. One transaction per batch."""
    cutoff = clock() - svc.settings.keep_read_notices
    total = 0
    while True:
        with svc.uow() as work:
            ids = list(work.session.scalars(select(NotificationRow.id).where(
                NotificationRow.read_at.is_not(None), NotificationRow.read_at < cutoff)
                .order_by(NotificationRow.id).limit(_BATCH)))
            if ids:
                work.session.execute(delete(NotificationRow).where(NotificationRow.id.in_(ids)))
            work.commit()
        total += len(ids)
        if len(ids) < _BATCH:
            return total
