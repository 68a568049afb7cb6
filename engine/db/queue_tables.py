"""The task queue's version: a counter every transaction that changes tasks, their offers or cases moves.

Task lists count the open tasks a person may see per facet; those counts are cached per process and
are exact only as long as no task, offer or case changed. One row, bumped last in each such transaction
(see `engine.db.session.UnitOfWork`), tells every process — every gunicorn worker — that its counts are
stale. Bumped as the transaction's last statement, its row lock is held only until the commit and is
never waited for while another lock is held, so it cannot take part in a deadlock.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.tables import Base

QUEUE_VERSION_ID = 1  # the one row


class QueueVersionRow(Base):
    __tablename__ = "queue_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
