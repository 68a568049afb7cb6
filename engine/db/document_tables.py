"""The 文书 of each step: the exact signed PDF bytes whose sha256 the step record carries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.tables import Base, UtcDateTime


class DocumentRow(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    spec_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(100))
    doc_number: Mapped[str] = mapped_column(String(64), default="")
    file_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    verification_code: Mapped[str] = mapped_column(String(32), default="")
    page_count: Mapped[int] = mapped_column(Integer, default=1)
    signed_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        Index("ix_documents_case", "case_id", "id"),
        Index("ix_documents_sha256", "sha256"),
        Index("ix_documents_verification_code", "verification_code"),
    )
