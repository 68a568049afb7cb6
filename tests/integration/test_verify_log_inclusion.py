"""`casetrail verify` online checks each record's place in the signed log from the stored leaves (a LeafTable):
a record pointed at another leaf, or stored leaves that no longer give the signed root, must fail inclusion."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from engine.db.tables import LogLeafRow, StepRecordRow
from engine.usecases.audit import verify_cases
from engine.values import fixed_clock
from signatures.report import Check
from tests.conftest import at

START = at("2026-09-14 09:00")
LATER = fixed_clock(at("2027-03-01 09:00"))


def _inclusion_failures(report) -> list[tuple[int, str]]:
    return [(step.seq, c.reason) for step in report.steps for c in step.checks
            if c.check is Check.LOG_INCLUSION and not c.passed]


@pytest.mark.parametrize("played", [("not_accepted", "transferred")], indirect=True, ids=["two_cases"])
def test_every_record_of_intact_cases_is_found_at_its_leaf(ready_svc, played):
    first, second = played
    reports = verify_cases(ready_svc, [first.number, second.number], clock=LATER)
    assert all(r.ok for r in reports), [r.to_text() for r in reports]
    assert all(not _inclusion_failures(r) for r in reports)


@pytest.mark.parametrize("played", ["transferred"], indirect=True)
def test_records_swapped_between_leaves_fail_inclusion_at_those_steps(ready_svc, played):
    case = played
    with ready_svc.uow() as work:
        session = work.session
        rows = session.execute(select(StepRecordRow.seq, StepRecordRow.log_index)
                               .where(StepRecordRow.case_id == case.id).order_by(StepRecordRow.seq)).all()
        (seq_a, leaf_a), (seq_b, leaf_b) = rows[1], rows[2]

        def point(seq: int, leaf: int) -> None:  # log indexes are unique: swap through a free one
            session.execute(update(StepRecordRow).where(StepRecordRow.case_id == case.id, StepRecordRow.seq == seq)
                            .values(log_index=leaf))

        point(seq_a, -1)
        point(seq_b, leaf_a)
        point(seq_a, leaf_b)
        work.commit()
    [report] = verify_cases(ready_svc, [case.number], clock=LATER)
    assert not report.ok
    assert _inclusion_failures(report) == [
        (seq_a, f"record is not in the signed log: leaf {leaf_b} of the tree head is another record's"),
        (seq_b, f"record is not in the signed log: leaf {leaf_a} of the tree head is another record's")]


@pytest.mark.parametrize("played", [("not_accepted", "transferred")], indirect=True, ids=["two_cases"])
def test_a_rewritten_stored_leaf_fails_inclusion_for_every_record_and_names_the_rewrite(ready_svc, played):
    other, case = played
    verify_cases(ready_svc, [case.number], clock=LATER)  # the head now covers every leaf
    with ready_svc.uow() as work:  # a leaf of the other case: this case's own leaves are untouched
        work.session.execute(update(LogLeafRow).where(LogLeafRow.index == 0).values(leaf_hash=b"\x01" * 32))
        work.commit()
    [report] = verify_cases(ready_svc, [case.number], clock=LATER)
    failures = _inclusion_failures(report)
    assert [seq for seq, _ in failures] == [step.seq for step in report.steps]
    assert all("rewritten" in detail for _, detail in failures), failures
    assert other.number != case.number
