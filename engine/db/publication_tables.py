"""Published penalty decisions (双公示): one row per released decision, written when the step completes.

/public reads only this table (never the workflow state or the task history), so a search over 100,000
cases is one indexed query. Values are stored as the officers entered them; engine/rules/redaction.py masks them
on the way out.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.tables import Base, UtcDateTime


class PublicationRow(Base):
    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    decision_number: Mapped[str] = mapped_column(String(64), default="")
    party: Mapped[str] = mapped_column(String(200), default="")
    # Only for organisations: a natural person's ID number is never stored here (政府信息公开条例 第十五条).
    party_credit_code: Mapped[str] = mapped_column(String(18), default="")
    violation: Mapped[str] = mapped_column(String(64), default="")
    warning: Mapped[bool] = mapped_column(Boolean, default=False)
    fine: Mapped[float | None] = mapped_column(Numeric(14, 2, asdecimal=False), nullable=True)
    other_measures: Mapped[str] = mapped_column(Text, default="")
    basis: Mapped[str] = mapped_column(Text, default="")
    decision_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    released_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    url: Mapped[str] = mapped_column(String(500), default="")
    # The steps that released and withdrew it: their signed step records are the evidence.
    release_task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    withdrawal_reason: Mapped[str] = mapped_column(Text, default="")
    withdraw_task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)

    __table_args__ = (
        Index("ix_publications_released", "released_at", "id"),
        # Covers the text search: a substring match reads this index, not the wide rows.
        Index("ix_publications_search", "party", "decision_number"),
        Index("ix_publications_violation", "violation", "released_at"),
        Index("ix_publications_violation_date", "violation", "decision_date"),
        Index("ix_publications_decision_date", "decision_date"),
    )
