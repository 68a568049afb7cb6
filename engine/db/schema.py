"""Every table of the product, in one metadata: the table modules register themselves in `Base.metadata` when
imported, so whatever needs all of them — the migrations' autogenerate, the backup — imports this module rather
than a list of its own that a new table module could be missing from."""

from __future__ import annotations

from engine.db import (  # noqa: F401  (registers their tables)
    admin_tables,
    document_tables,
    draft_tables,
    evidence_tables,
    indicator_tables,
    notice_tables,
    publication_tables,
    queue_tables,
    sealed_tables,
)
from engine.db.tables import Base

METADATA = Base.metadata

__all__ = ["METADATA"]
