"""What administrators change outside any case: working-day overrides and the journal of such changes.

`case_events` is the journal of a case; `admin_events` is the same for the agency's own settings and
accounts (a working day moved, a user deactivated): append-only, who, when, why, and what was there before.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.tables import Base, UtcDateTime


class WorkingDayOverrideRow(Base):
    """A day the agency declares a working day or a day off, over the official calendar and settings.json."""

    __tablename__ = "working_day_overrides"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(500))
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class AdminEventRow(Base):
    __tablename__ = "admin_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index("ix_admin_events_kind", "kind", "id"),
        Index("ix_admin_events_subject", "subject", "id"),
    )
