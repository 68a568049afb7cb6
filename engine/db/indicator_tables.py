"""What the indicators count, one row per case (考核指标): a projection the steps write, so the figures are SQL
aggregates over one narrow table and never a deserialisation of workflow state or of the steps' forms.

Each value comes from a form field the model marks (`x-indicator` in workflows/forms/*.schema.json) and is
copied in the transaction of the step that signs it (engine/usecases/case_figures.py); the case's agency,
registration and closing come from the case row in the transactions that write them. NULL means "not
recorded": a case decided before these fields existed has a decision but no confiscation recorded.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String
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
