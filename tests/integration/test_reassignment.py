"""A head's reassignment is a signed record: online and offline verification both accept the new holder."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import select

from engine.db.tables import StepRecordRow
from engine.demo import SCENARIOS, play, play_step
from engine.demo_users import DEMO_PASSWORD, DEMO_PIN
from engine.errors import Conflict, Forbidden, SigningError
from engine.spiff.clocks import MutableClock
from engine.usecases.audit import export_case, verify_bundle_file, verify_cases
from engine.usecases.cases import show_case
from engine.usecases.tasks import assign_task, complete_task, list_tasks, show_task
from engine.usecases.users import add_user
from engine.values import AddUser, AssignTask, CompleteTask, fixed_clock
from signatures.pki import certificate_pem
from signatures.records import REASSIGN_SPEC, SignedRecord
from tests.conftest import at

START = at("2026-09-14 09:00")
LATER = fixed_clock(at("2027-06-01 09:00"))


@pytest.fixture
def ready_svc(ready_svc):
    add_user(AddUser(user_id="panel4", name="冯合议", password=DEMO_PASSWORD, roles=["panel"], pin=DEMO_PIN),
             svc=ready_svc, clock=fixed_clock(START))
    return ready_svc


def _records(svc, case_id: int) -> list:
    with svc.uow.read() as session:
        rows = session.scalars(select(StepRecordRow).where(StepRecordRow.case_id == case_id).order_by(StepRecordRow.seq))
        return [SignedRecord.from_parts(r.canonical, r.signature).record for r in rows]


def _steps_until(svc, scenario, spec_id: str):
    specs = [s.spec_id for s in scenario.steps]
    index = specs.index(spec_id)
    case = play(svc, scenario, start=START, stop_before=index).case
    task = next(t for t in list_tasks(svc, case=case.number) if t.spec_id == spec_id)
    return case, task, index


def test_a_legal_review_handed_to_a_reviewer_is_a_signed_record_that_verifies_offline(ready_svc):
    scenario = SCENARIOS["penalty_waiver"]
    case, review, index = _steps_until(ready_svc, scenario, "legal_review")
    clock = MutableClock(at("2027-01-04 09:00"))
    with pytest.raises(SigningError):  # the hand-over is signed: a wrong PIN changes nothing
        assign_task(AssignTask(review.id, "legal", by="head", pin="000000"), svc=ready_svc, clock=clock)
    with pytest.raises(Forbidden):  # only a head hands tasks over
        assign_task(AssignTask(review.id, "legal", by="officer1", pin=DEMO_PIN), svc=ready_svc, clock=clock)
    with pytest.raises(Forbidden):  # separation of duties holds for hand-overs too
        assign_task(AssignTask(review.id, "officer1", by="head", pin=DEMO_PIN), svc=ready_svc, clock=clock)
    assert show_task(ready_svc, review.id).assignee is None
    assert REASSIGN_SPEC not in {r.task_spec_id for r in _records(ready_svc, case.id)}

    assign_task(AssignTask(review.id, "legal", by="head", pin=DEMO_PIN, reason="法制审核集中办理"), svc=ready_svc,
                clock=clock)
    assert show_task(ready_svc, review.id).assignee == "legal"
    with pytest.raises(Conflict):
        assign_task(AssignTask(review.id, "legal", by="head", pin=DEMO_PIN), svc=ready_svc, clock=clock)
    for step in scenario.steps[index:]:
        clock.advance_to(clock() + dt.timedelta(hours=1))
        play_step(ready_svc, case.number, step, clock)
    assert show_case(ready_svc, case.number).status == "closed"

    records = _records(ready_svc, case.id)
    handover = next(r for r in records if r.task_spec_id == REASSIGN_SPEC)
    assert (handover.actor, handover.role, handover.documents) == ("head", "head", ())
    assert handover.form_data["assignee"] == "legal" and handover.form_data["previous"] is None
    assert handover.form_data["reason"] == "法制审核集中办理"
    assert handover.assignments == {"legal_review": ("legal",)}

    [report] = verify_cases(ready_svc, [case.number], clock=LATER)
    assert report.ok, report.to_text()
    bundle = export_case(ready_svc, case.number, clock=LATER)
    offline = verify_bundle_file(bundle, certificate_pem(ready_svc.agency_keys.certificates()["root"]))
    assert offline.ok, offline.to_text()
    step = next(s for s in offline.steps if s.task_spec_id == "legal_review")
    assert {c.check: c.status for c in step.checks}["assignment"] == "passed"  # was not_checked: a group task


def test_a_second_hand_over_supersedes_the_first_and_the_case_still_verifies_offline(ready_svc):
    scenario = SCENARIOS["penalty_waiver"]
    case, review, index = _steps_until(ready_svc, scenario, "legal_review")
    clock = MutableClock(at("2027-01-04 09:00"))
    assign_task(AssignTask(review.id, "legal", by="head", pin=DEMO_PIN), svc=ready_svc, clock=clock)
    add_user(AddUser(user_id="legal2", name="陈法制", password=DEMO_PASSWORD, roles=["legal"], pin=DEMO_PIN),
             svc=ready_svc, clock=clock)
    with pytest.raises(Forbidden):  # the engine refuses; the record below is what a forger would have to write
        complete_task(CompleteTask(task_id=review.id, user_id="legal2", data={}, pin=DEMO_PIN), svc=ready_svc,
                      clock=clock)
    assign_task(AssignTask(review.id, "legal2", by="head", pin=DEMO_PIN), svc=ready_svc, clock=clock)
    clock.advance_to(clock() + dt.timedelta(hours=1))
    play_step(ready_svc, case.number, replace(scenario.steps[index], actor="legal2"), clock)
    bundle = export_case(ready_svc, case.number, clock=LATER)
    root = certificate_pem(ready_svc.agency_keys.certificates()["root"])
    assert verify_bundle_file(bundle, root).ok
    records = _records(ready_svc, case.id)
    assert [r.form_data["assignee"] for r in records if r.task_spec_id == REASSIGN_SPEC] == ["legal", "legal2"]
