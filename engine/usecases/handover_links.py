"""What `casetrail verify` adds for a hand-over on the platform: each chain verifies alone, and the links between
the two cases' records are checked against the other case's stored records (engine/usecases/handover.py).

- a sender's record with `_hand_over` names the receiving case, whose first record's `transferred_from` must name
  this record's seq and hash;
- a first record with `transferred_from` names the sender's record, whose hash must be the one named;
- a sender's record with `_answered_by` names the receiver's 接收/退回 record by seq and hash.
A link that does not hold is a failed `records` check of the case with the reason; none: nothing is added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import CaseRow, StepRecordRow
from engine.journal import ANSWERED_KEY, HAND_OVER_KEY
from signatures.records import SignedRecord, StepRecord
from signatures.report import Check, CheckResult, failed, passed

ORIGIN_KEY = "transferred_from"


def link_checks(session: Session, records: Sequence[SignedRecord]) -> list[CheckResult]:
    """One result for the case's hand-over links (passed naming the cases linked, or the first broken link)."""
    linked: list[str] = []
    for signed in records:
        record = signed.record
        data = record.form_data
        for key, problem in ((HAND_OVER_KEY, _sent), (ORIGIN_KEY, _arrived), (ANSWERED_KEY, _answered)):
            link = data.get(key)
            if not isinstance(link, Mapping) or (key == ORIGIN_KEY and record.seq != 1):
                continue
            why = problem(session, record, link)
            if why is not None:
                return [failed(Check.RECORDS, f"hand-over link of record {record.seq}: {why}")]
            linked.append(str(link.get("case_number")))
    return [passed(Check.RECORDS, "hand-over links hold: " + ", ".join(sorted(set(linked))))] if linked else []


def _sent(session: Session, record: StepRecord, link: Mapping[str, Any]) -> str | None:
    first = _record(session, str(link.get("case_number")), 1)
    if first is None:
        return f"the receiving case {link.get('case_number')} has no first record"
    origin = first.form_data.get(ORIGIN_KEY) or {}
    if (origin.get("case_number"), origin.get("seq"), origin.get("record_hash")) != (
            record.case_number, record.seq, record.record_hash):
        return f"the receiving case {link.get('case_number')} does not name this record as its origin"
    return None


def _arrived(session: Session, record: StepRecord, link: Mapping[str, Any]) -> str | None:
    origin, why = _named(session, link, "origin")
    if origin is None:
        return why
    if (origin.form_data.get(HAND_OVER_KEY) or {}).get("case_number") != record.case_number:
        return f"the origin record of {link.get('case_number')} does not name this case"
    return None


def _answered(session: Session, record: StepRecord, link: Mapping[str, Any]) -> str | None:
    return _named(session, link, "receiving")[1]


def _named(session: Session, link: Mapping[str, Any], whose: str) -> tuple[StepRecord | None, str | None]:
    """The record a link names by case number and seq, if its hash is the one named; else why not."""
    found = _record(session, str(link.get("case_number")), int(link.get("seq") or 0))
    if found is None or found.record_hash != link.get("record_hash"):
        return None, f"the {whose} case {link.get('case_number')} has no record {link.get('seq')} with the hash named"
    return found, None


def _record(session: Session, number: str, seq: int) -> StepRecord | None:
    row = session.execute(select(StepRecordRow.canonical, StepRecordRow.signature).join(CaseRow)
                          .where(CaseRow.number == number, StepRecordRow.seq == seq)).first()
    return None if row is None else SignedRecord.from_parts(row.canonical, row.signature).record


__all__ = ["link_checks"]
