"""Drafts of a form (issue 15): what one person has typed into a task's form, or into the registration page
(投诉举报登记) before the case exists, kept on the server until they sign it.

A draft holds the form's raw fields as they were posted — name to the list of values, so a half-filled or
invalid form comes back exactly as typed — and never the signing PIN. It is one row per person and task (or
per person and registration page, by the page's key that its staged evidence files share). It is never read by
the signed record, a bundle, the dossier or verify: completing the step deletes the task's drafts in the step's
transaction (engine/usecases/completion.py), as does registering the complaint, a hand-over to someone else and
a task the model cancels (engine/usecases/drafts.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.tables import Base, UtcDateTime


class DraftRow(Base):
    __tablename__ = "task_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The task's draft: its task and case. None for a registration page's draft (`intake_key`).
    task_id: Mapped[str | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), nullable=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=True)
    intake_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)  # field name -> [values], as posted
    size: Mapped[int] = mapped_column(Integer)  # bytes of `fields` as JSON: what settings.json `drafts` bounds
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        # Task first: completing a step deletes its drafts by task (one DELETE, driven by this index).
        UniqueConstraint("task_id", "user_id", name="uq_task_drafts_task_user"),
        UniqueConstraint("user_id", "intake_key", name="uq_task_drafts_user_intake"),
        Index("ix_task_drafts_user_updated", "user_id", "updated_at"),
        CheckConstraint("(task_id IS NULL) <> (intake_key IS NULL)", name="ck_task_drafts_task_or_intake"),
    )


__all__ = ["DraftRow"]
