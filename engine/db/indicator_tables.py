"""What the indicators count, one row per case (考核指标): a projection the steps write, so the figures are SQL
aggregates over one narrow table and never a deserialisation of workflow state or of the steps' forms.

Each value comes from a form field the model marks (`x-indicator` in workflows/forms/*.schema.json) and is
copied in the transaction of the step that signs it (engine/usecases/case_figures.py); the case's agency,
registration and closing come from the case row in the transactions that write them. NULL means "not
recorded": a case decided before these fields existed has a decision but no confiscation recorded.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.tables import Base, UtcDateTime

_YUAN = Numeric(16, 2, asdecimal=False)


class CaseFiguresRow(Base):
    __tablename__ = "case_figures"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)  # 登记 (the case row's created_at)
    complaint: Mapped[bool] = mapped_column(Boolean, default=False)  # came from a complainant (投诉举报)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The complaint's 受理审查: when it was done and by when it was due (及时处理率).
    handled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    handled_due: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    filed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)  # 立案
    # The decision (处罚决定 or 当场处罚): its procedure and what it imposed.
    procedure: Mapped[str | None] = mapped_column(String(16), nullable=True)  # summary | general
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    warning: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    fine: Mapped[float | None] = mapped_column(_YUAN, nullable=True)
    confiscated_income: Mapped[float | None] = mapped_column(_YUAN, nullable=True)
    confiscated_property: Mapped[float | None] = mapped_column(_YUAN, nullable=True)
    licence_revoked: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    suspension_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # 双公示: the last day the decision may be published on, whether the law exempts it, when it was published.
    publication_due: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)  # end of its last day
    not_published: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # 告知投诉举报人: when, whether the complaint was found true (查实), how satisfied the complainant was.
    feedback_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    substantiated: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    satisfaction: Mapped[str | None] = mapped_column(String(24), nullable=True)

    __table_args__ = (
        Index("ix_case_figures_received", "agency_code", "received_at"),
        Index("ix_case_figures_closed", "agency_code", "closed_at"),
        Index("ix_case_figures_filed", "agency_code", "filed_at"),
        Index("ix_case_figures_decided", "agency_code", "decided_at"),
    )


class CaseHandlerRow(Base):
    """The case officers (承办人) a case names: the officer figures count a case once for each of them."""

    __tablename__ = "case_handlers"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_case_handlers_user", "user_id", "case_id"),)


# --- the rollup (migration 0020): the same measures summed per agency and day, and per agency and month --------
# One column per measure of engine/usecases/indicators.py MEASURES: counts, and amounts in fen (分) so that sums of
# sums are exact in both dialects. A row counts each case on the local day of the date its measure counts by.
COUNTS = ("received", "complaints", "handled", "handled_on_time", "feedback", "substantiated_recorded", "substantiated",
          "satisfaction_recorded", "satisfied", "closed", "filed_cases", "summary", "general", "warnings",
          "licences_revoked", "suspended", "to_publish", "published_on_time")
FEN = ("fines_fen", "penalties_fen")


class _Measures:
    received: Mapped[int] = mapped_column(Integer, default=0)
    complaints: Mapped[int] = mapped_column(Integer, default=0)
    handled: Mapped[int] = mapped_column(Integer, default=0)
    handled_on_time: Mapped[int] = mapped_column(Integer, default=0)
    feedback: Mapped[int] = mapped_column(Integer, default=0)
    substantiated_recorded: Mapped[int] = mapped_column(Integer, default=0)
    substantiated: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction_recorded: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    filed_cases: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[int] = mapped_column(Integer, default=0)
    general: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    licences_revoked: Mapped[int] = mapped_column(Integer, default=0)
    suspended: Mapped[int] = mapped_column(Integer, default=0)
    to_publish: Mapped[int] = mapped_column(Integer, default=0)
    published_on_time: Mapped[int] = mapped_column(Integer, default=0)
    fines_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    penalties_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class IndicatorDayRow(_Measures, Base):
    """An agency's measures of one local day (only the days before the day the job last ran: today is read live)."""

    __tablename__ = "indicator_days"

    agency_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date)  # the first day of its month: what the month rows sum by

    __table_args__ = (Index("ix_indicator_days_day", "day", "agency_code"),)


class IndicatorMonthRow(_Measures, Base):
    """The sum of an agency's day rows of one month (a year's page sums 12 rows per agency, not 365)."""

    __tablename__ = "indicator_months"

    agency_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)


class IndicatorDirtyRow(Base):
    """A moment of a case whose figures changed (each of its dates before and after the change): the agency's
    day it falls on is read live until the job rebuilds that day and deletes the mark. The step's transaction
    inserts it — a new row, never one another step holds — so no agency-day row is a lock every officer queues
    on."""

    __tablename__ = "indicator_dirty"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency_code: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_indicator_dirty_at", "agency_code", "at"),)


class IndicatorRollupRow(Base):
    """The rollup's one state row: its day rows cover the days before `built_through` (NULL: never built)."""

    __tablename__ = "indicator_rollup"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    built_through: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    built_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
