"""Notifications (issue 15): the in-app inbox, each person's choices, the e-mail outbox, and the marks that make
the worker's due-soon / overdue notices happen once per task.

Rows are written in the transaction of whatever caused them (a step completed, a task reassigned, the worker's
scan), so a notice exists exactly when its cause does. E-mail is never sent inside that transaction: the outbox
row is, and the worker sends it later (engine/usecases/mailing.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db.tables import Base, UtcDateTime


class NotificationRow(Base):
    """One notice in one person's inbox. `note` is the caller's free text and never holds complainant identity."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # `by` is an SQL keyword: the column has a longer name.
    by: Mapped[str | None] = mapped_column("by_user", String(64), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    read_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        # The inbox newest first and the header's unread count: read from the index alone.
        Index("ix_notifications_inbox", "recipient", "read_at", "id"),
        Index("ix_notifications_case", "case_id"),
    )


class NoticeChoiceRow(Base):
    """A person's choice for one kind of notice: the inbox always has it; `email` says whether it is mailed too.
    No row: the default of settings.json `notifications.email_by_default`."""

    __tablename__ = "notice_choices"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean)


class EmailOutboxRow(Base):
    """An e-mail to send. Written with its notice; the worker composes and sends it, retrying with a growing wait.

    Subject and body are composed by the sender, which knows the agency's time zone and the site's address, from
    the notice, its case number and its step (never from the workflow data, where the complainant is): they are
    stored as sent, so the outbox is also the record of what left the building."""

    __tablename__ = "email_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL"), nullable=True
    )
    to: Mapped[str] = mapped_column("to_address", String(254))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_email_outbox_due", "sent_at", "next_attempt_at", "id"),)


class NoticeMarkRow(Base):
    """That a task's due-soon or overdue notice was given: its primary key makes it once per task and kind,
    whichever worker scans and however often it restarts (an insert that conflicts gives nothing)."""

    __tablename__ = "notice_marks"

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


def claim_marks(session: Session, pairs: Iterable[tuple[str, str]], now: dt.datetime) -> set[tuple[str, str]]:
    """Insert the marks (task id, kind) not there yet and return those this transaction inserted: the database's
    primary key decides, so two workers scanning at once (or one restarted) never both claim a pair — the
    second waits for the first's commit and then inserts nothing. No read before the write."""
    values = [{"task_id": task_id, "kind": kind, "created_at": now} for task_id, kind in sorted(set(pairs))]
    if not values:
        return set()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(NoticeMarkRow).values(values).on_conflict_do_nothing()
                 .returning(NoticeMarkRow.task_id, NoticeMarkRow.kind))
    return {(task_id, kind) for task_id, kind in session.execute(statement)}


__all__ = ["EmailOutboxRow", "NoticeChoiceRow", "NoticeMarkRow", "NotificationRow", "claim_marks"]
