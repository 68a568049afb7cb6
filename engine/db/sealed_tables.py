"""The values of sealed fields: what a version-2 step record signs only as a salted digest.

The record (step_records.canonical) holds {JSON Pointer: SHA-256(JCS({salt, value}))}; the value and salt are
kept here, beside it, so pages and `casetrail verify` can open the record and a bundle can carry them to those
entitled (signatures/sealing.py, docs/evidence-bundle.md §1a). Written in the step's transaction, never changed:
`verify` recomputes every digest, so an edited value or salt fails naming the step and the field.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.tables import Base


class SealedValueRow(Base):
    __tablename__ = "sealed_values"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)  # the step record's seq
    field: Mapped[str] = mapped_column(String(200))  # RFC 6901 pointer into the record's form_data
    kind: Mapped[str] = mapped_column(String(20))  # the schema's x-confidential class: complainant | vote
    salt: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)  # the value as canonical JSON text (numbers keep their exact spelling)

    __table_args__ = (UniqueConstraint("case_id", "seq", "field", name="uq_sealed_values_case_seq_field"),)
