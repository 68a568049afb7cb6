"""Numbers given out per prefix and year under a row lock: case numbers and document 文号."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.db.tables import CaseNumberRow


def next_number(session: Session, prefix: str, year: int, *, width: int) -> str:
    """呈卫投〔2026〕0001号 (width 4) or 呈卫罚〔2026〕001号 (width 3); two writers never share a number."""
    row = session.get(CaseNumberRow, (prefix, year), with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():
                session.add(CaseNumberRow(prefix=prefix, year=year, last=0))
        except IntegrityError:
            pass
        row = session.get(CaseNumberRow, (prefix, year), with_for_update=True, populate_existing=True)
        assert row is not None
    row.last += 1
    return f"{prefix}〔{year}〕{row.last:0{width}d}号"
