"""Numbers given out per prefix and year: case numbers and document 文号 (呈卫罚〔2026〕001号).

A number is printed into a signed 文书 before the step takes its write lock (rendering and signing are the
slow part of a step and hold no lock, engine/usecases/completion.py): the step reads the next free number,
renders with it, and claims it under the row lock when it writes. If another step took that number
meanwhile, the claim fails with `NumberTaken` and the step is prepared again with the next one — numbers are
never skipped and never shared.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.db.tables import CaseNumberRow
from engine.errors import Conflict


class NumberTaken(Conflict):
    """The number a step was prepared with was given to another step first."""


@dataclass(frozen=True)
class NumberClaim:
    prefix: str
    year: int
    number: int
    width: int

    @property
    def text(self) -> str:
        return format_number(self.prefix, self.year, self.number, width=self.width)


def format_number(prefix: str, year: int, number: int, *, width: int) -> str:
    """呈卫投〔2026〕0001号 (width 4) or 呈卫罚〔2026〕001号 (width 3)."""
    return f"{prefix}〔{year}〕{number:0{width}d}号"


def peek_number(session: Session, prefix: str, year: int, *, width: int) -> NumberClaim:
    """The next free number as of this read (no lock): what a step being prepared prints."""
    last = session.scalar(select(CaseNumberRow.last).where(CaseNumberRow.prefix == prefix,
                                                           CaseNumberRow.year == year))
    return NumberClaim(prefix, year, (last or 0) + 1, width)


def hold_number(session: Session, prefix: str, year: int, *, width: int) -> NumberClaim:
    """The next free number under the row lock, held until the transaction ends (so `claim_number` then takes
    it): for a step prepared inside its write transaction, which no other writer can overtake."""
    row = _locked_row(session, prefix, year)
    return NumberClaim(prefix, year, row.last + 1, width)


def claim_number(session: Session, claim: NumberClaim) -> None:
    """Take `claim` under the row lock, or raise NumberTaken if it is no longer the next free number."""
    row = _locked_row(session, claim.prefix, claim.year)
    if row.last + 1 != claim.number:
        raise NumberTaken(f"编号 {claim.text} 已被占用，请重试 (number {claim.text} was taken meanwhile)")
    row.last = claim.number


def next_number(session: Session, prefix: str, year: int, *, width: int) -> str:
    """Give out the next number under the row lock; two writers never share a number."""
    row = _locked_row(session, prefix, year)
    row.last += 1
    return format_number(prefix, year, row.last, width=width)


def _locked_row(session: Session, prefix: str, year: int) -> CaseNumberRow:
    row = session.get(CaseNumberRow, (prefix, year), with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():
                session.add(CaseNumberRow(prefix=prefix, year=year, last=0))
        except IntegrityError:
            pass
        row = session.get(CaseNumberRow, (prefix, year), with_for_update=True, populate_existing=True)
        assert row is not None
    return row
