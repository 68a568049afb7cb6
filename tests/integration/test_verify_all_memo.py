"""`verify --all` replays each distinct path once: copies of a case share its verdict, a copy that routes
differently (same steps, validly signed by the same officers) does not."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from engine import journal
from engine.db.document_tables import DocumentRow
from engine.db.tables import CaseEventRow, CaseRow, StepRecordRow, TaskRow
from engine.demo_users import DEMO_PIN
from engine.usecases.audit import verify_cases
from engine.usecases.signed import stored_seals
from engine.values import RecordedDocument, fixed_clock
from signatures.records import SignedRecord, parse_utc
from signatures.report import Check
from signatures.sealing import open_form
from tests.conftest import at

START = at("2026-09-14 09:00")
LATER = fixed_clock(at("2027-03-01 09:00"))


_TASK_COLUMNS = ("spec_id", "name", "role", "stage", "document", "status", "assignee", "restricted", "supervision",
                 "mi_index", "due_at", "sort_due", "created_at", "claimed_at", "completed_at", "completed_by",
                 "form_data", "agency_code")


def _resigned_copy(svc, number: str, suffix: str, change: tuple[str, dict] | None = None) -> str:
    """A new case holding the same documents, task rows and events (what the engine copies out of each record
    for the pages), its records re-signed by the same officers with `journal.record_step` (optionally with one
    step's form data changed before signing, and in its copies). The copies' records seal nothing: version 1, as
    releases before sealed fields signed them, holding the values the originals seal."""
    with svc.uow() as work:
        session = work.session
        case = session.scalar(select(CaseRow).where(CaseRow.number == number))
        copy = CaseRow(number=f"{number}-{suffix}", definition_id=case.definition_id,
                             agency_code=case.agency_code, status=case.status,
                       stage=case.stage, outcome=case.outcome, state=case.state, opened_by=case.opened_by,
                       respondent=case.respondent, violation=case.violation, channel=case.channel,
                       created_at=case.created_at, updated_at=case.updated_at)
        session.add(copy)
        session.flush()

        def changed(spec_id: str | None, data: dict) -> dict:
            return {**data, **change[1]} if change is not None and spec_id == change[0] else data

        task_ids = {}
        for task in session.scalars(select(TaskRow).where(TaskRow.case_id == case.id)):
            task_ids[task.id] = str(uuid.uuid4())
            values = {c: getattr(task, c) for c in _TASK_COLUMNS}
            if task.form_data is not None:
                values["form_data"] = changed(task.spec_id, task.form_data)
            session.add(TaskRow(id=task_ids[task.id], case_id=copy.id, **values))
        for event in session.scalars(select(CaseEventRow).where(CaseEventRow.case_id == case.id)
                                     .order_by(CaseEventRow.id)):
            detail = dict(event.detail)
            if "form_data" in detail:
                detail["form_data"] = changed(event.spec_id, detail["form_data"])
            session.add(CaseEventRow(case_id=copy.id, kind=event.kind, task_id=task_ids.get(event.task_id),
                                     spec_id=event.spec_id, actor=event.actor, at=event.at, detail=detail))
        produced = {}
        for doc in session.scalars(select(DocumentRow).where(DocumentRow.case_id == case.id)):
            produced[doc.sha256] = RecordedDocument(kind=doc.kind, file_name=doc.file_name, data=doc.pdf)
            session.add(DocumentRow(case_id=copy.id, task_id=None, spec_id=doc.spec_id, kind=doc.kind,
                                    title=doc.title, file_name=doc.file_name, sha256=doc.sha256,
                                    signed_by=doc.signed_by, created_at=doc.created_at, pdf=doc.pdf))
        rows = list(session.scalars(select(StepRecordRow).where(StepRecordRow.case_id == case.id)
                                    .order_by(StepRecordRow.seq)))
        seals = stored_seals(session.connection().execute, [case.id])[case.id]
        for row in rows:
            record = SignedRecord.from_parts(row.canonical, row.signature).record
            stored = {p: d for p, (_, d) in seals.get(record.seq, {}).items()}
            data = changed(record.task_spec_id, open_form(record.form_data, record.sealed, stored)[0])
            moment = parse_utc(record.time_utc)
            journal.record_step(session, journal.StepFacts(
                case=copy, definition_sha256=record.definition_sha256, task_id=task_ids.get(row.task_id),
                task_spec_id=record.task_spec_id, task_name=record.task_name, role=record.role, actor=record.actor,
                actor_name=record.actor_name, form_data=data,
                documents=[produced[d.sha256] for d in record.documents],
                assignments={k: list(v) for k, v in record.assignments.items()}),
                journal.unlock_signer(svc, session, record.actor, DEMO_PIN, moment), moment)
        work.commit()
        return copy.number


@pytest.mark.parametrize("played", ["not_filed"], indirect=True)
def test_copies_share_a_verdict_only_when_their_routing_data_agrees(ready_svc, played):
    number = played.number
    same = _resigned_copy(ready_svc, number, "same")
    # The same steps in the same order, each validly signed: only the filing decision differs, and with it
    # the way the model routes - notify_not_filed is not the next step after a decision to file.
    rerouted = _resigned_copy(ready_svc, number, "filed", ("filing_approval", {"filing_decision": "file"}))
    later_copy = _resigned_copy(ready_svc, number, "again")
    reports = {r.case_number: r for r in verify_cases(ready_svc, None, clock=LATER)}
    assert reports[number].ok and reports[same].ok and reports[later_copy].ok, reports[number].to_text()
    failure = reports[rerouted].first_failure
    assert failure is not None and failure.check is Check.PATH, reports[rerouted].to_text()
    steps = {s.seq: s for s in reports[rerouted].steps}
    assert all(c.passed for s in steps.values() for c in s.checks if c.check is Check.SIGNATURE)
    assert steps[failure.seq].task_spec_id in ("filing_approval", "notify_not_filed")


@pytest.mark.parametrize("played", ["not_filed"], indirect=True)
def test_a_record_naming_a_task_of_another_case_is_checked_against_that_task(ready_svc, played):
    number = played.number
    copy = _resigned_copy(ready_svc, number, "copy")
    with ready_svc.uow() as work:
        session = work.session
        original, copied = (session.scalar(select(CaseRow.id).where(CaseRow.number == n)) for n in (number, copy))
        tasks = {r.seq: r.task_id for r in session.scalars(select(StepRecordRow).where(StepRecordRow.case_id == original))}
        rows = {r.seq: r for r in session.scalars(select(StepRecordRow).where(StepRecordRow.case_id == copied))}
        rows[2].task_id = tasks[2]  # the task the same officer completed in the original case
        rows[3].task_id = tasks[4]  # a task another officer completed
        work.commit()
    reports = {r.case_number: r for r in verify_cases(ready_svc, None, clock=LATER)}
    steps = {s.seq: s for s in reports[copy].steps}
    assert steps[2].check(Check.ASSIGNMENT).passed
    assert steps[3].check(Check.ASSIGNMENT).failed and "task table" in steps[3].check(Check.ASSIGNMENT).reason
