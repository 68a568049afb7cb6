"""A head's team: the open tasks of the agency's officers, batch hand-overs (all or nothing, each a signed record
as a single one is) and 督办 (signed into the case's chain, and in the holder's inbox)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from engine.db.notice_tables import NotificationRow
from engine.db.tables import CaseEventRow, StepRecordRow
from engine.demo_users import DEMO_PIN
from engine.errors import Conflict, Forbidden, SigningError, ValidationError
from engine.services import Services
from engine.usecases.audit import export_case, verify_bundle_file, verify_cases
from engine.usecases.tasks import claim_task, show_task
from engine.usecases.team import NOBODY, reassign_tasks, team_page, urge_task
from engine.usecases.viewer import case_for_viewer
from engine.values import ClaimTask, ReassignTasks, TaskView, UrgeTask, fixed_clock
from signatures.pki import certificate_pem
from signatures.records import REASSIGN_SPEC, URGE_SPEC, SignedRecord
from tests.conftest import at
from tests.integration.conftest import task_at

START = at("2026-09-14 09:00")
# preliminary_check of a case registered at START falls due 2026-10-10 (Beijing, end of day): soon on the 9th
# (within settings.json notifications.due_soon_hours, 48 h).
SOON = at("2026-10-09 10:00")
LATE = at("2026-10-12 10:00")
EARLY = at("2026-09-20 10:00")


def _held_check(svc: Services, holder: str = "officer1", start: dt.datetime = START) -> TaskView:
    """A case's 初步核查 claimed by `holder`."""
    _, task = task_at(svc, "penalty_waiver", "preliminary_check", start=start)
    claim_task(ClaimTask(task.id, holder), svc=svc, clock=fixed_clock(start + dt.timedelta(hours=1)))
    return show_task(svc, task.id)


def _records(svc: Services, case_id: int) -> list:
    with svc.uow.read() as session:
        rows = session.scalars(select(StepRecordRow).where(StepRecordRow.case_id == case_id)
                               .order_by(StepRecordRow.seq))
        return [SignedRecord.from_parts(r.canonical, r.signature).record for r in rows]


def _count(svc: Services, table, *where) -> int:
    with svc.uow.read() as session:
        return session.scalar(select(func.count()).select_from(table).where(*where)) or 0


def _verifies_offline(svc: Services, number: str) -> None:
    later = fixed_clock(at("2027-06-01 09:00"))
    [report] = verify_cases(svc, [number], clock=later)
    assert report.ok, report.to_text()
    bundle = export_case(svc, number, clock=later)
    offline = verify_bundle_file(bundle, certificate_pem(svc.agency_keys.certificates()["root"]))
    assert offline.ok, offline.to_text()


def test_a_batch_hand_over_moves_every_task_with_a_signed_record_each_and_names_people(ready_svc):
    one = _held_check(ready_svc)
    two = _held_check(ready_svc, start=START + dt.timedelta(hours=2))
    done = reassign_tasks(ReassignTasks(task_ids=(two.id, one.id), assignee="officer2", by="head", pin=DEMO_PIN,
                                        reason="王承办病假 "), svc=ready_svc, clock=fixed_clock(SOON))
    assert [h.task_id for h in done] == [two.id, one.id]  # in the order chosen
    assert {(h.previous.name, h.assignee.name) for h in done} == {("王承办", "赵承办")}
    assert {h.case_number for h in done} == {one.case_number, two.case_number}
    for task in (one, two):
        assert show_task(ready_svc, task.id).assignee == "officer2"
        handover = [r for r in _records(ready_svc, task.case_id) if r.task_spec_id == REASSIGN_SPEC]
        assert len(handover) == 1 and handover[0].actor == "head"
        assert handover[0].form_data["reason"] == "王承办病假"
        assert (handover[0].form_data["previous"], handover[0].form_data["assignee"]) == ("officer1", "officer2")
        assert "officer2" in handover[0].assignments[task.spec_id]
    _verifies_offline(ready_svc, one.case_number)


def test_a_batch_with_one_task_that_may_not_go_to_the_person_writes_nothing_and_names_that_task(ready_svc):
    held = _held_check(ready_svc)
    case, approval = task_at(ready_svc, "penalty_waiver", "filing_approval", start=START + dt.timedelta(hours=3))
    records_before = _count(ready_svc, StepRecordRow)
    with pytest.raises(Forbidden) as refused:
        reassign_tasks(ReassignTasks(task_ids=(held.id, approval.id), assignee="officer2", by="head", pin=DEMO_PIN,
                                     reason="工作量调整"), svc=ready_svc, clock=fixed_clock(SOON))
    assert case.number in refused.value.message and approval.name in refused.value.message
    assert "nothing in the batch was reassigned" in refused.value.message
    assert show_task(ready_svc, held.id).assignee == "officer1"  # the first task, handed over before, rolled back
    assert _count(ready_svc, StepRecordRow) == records_before
    assert _count(ready_svc, CaseEventRow, CaseEventRow.kind == "assigned") == 0


@pytest.mark.parametrize("by", ["officer1", "auditor", "legal"])
def test_only_a_head_hands_tasks_over(ready_svc, by):
    held = _held_check(ready_svc)
    with pytest.raises(Forbidden):
        reassign_tasks(ReassignTasks(task_ids=(held.id,), assignee="officer2", by=by, pin=DEMO_PIN, reason="调整"),
                       svc=ready_svc, clock=fixed_clock(SOON))
    assert show_task(ready_svc, held.id).assignee == "officer1"


def test_a_batch_hand_over_needs_a_reason_tasks_and_the_heads_pin(ready_svc):
    held = _held_check(ready_svc)
    clock = fixed_clock(SOON)
    with pytest.raises(ValidationError) as no_reason:
        reassign_tasks(ReassignTasks(task_ids=(held.id,), assignee="officer2", by="head", pin=DEMO_PIN,
                                     reason="  "), svc=ready_svc, clock=clock)
    assert "reason is required" in no_reason.value.message and "reason" in no_reason.value.errors
    with pytest.raises(ValidationError):
        reassign_tasks(ReassignTasks(task_ids=(), assignee="officer2", by="head", pin=DEMO_PIN, reason="调整"),
                       svc=ready_svc, clock=clock)
    with pytest.raises(SigningError):
        reassign_tasks(ReassignTasks(task_ids=(held.id,), assignee="officer2", by="head", pin="000000",
                                     reason="调整"), svc=ready_svc, clock=clock)
    assert show_task(ready_svc, held.id).assignee == "officer1"
    assert REASSIGN_SPEC not in {r.task_spec_id for r in _records(ready_svc, held.case_id)}


def test_urging_an_overdue_task_is_signed_into_the_case_and_reaches_the_holders_inbox(ready_svc):
    held = _held_check(ready_svc)
    urged = urge_task(UrgeTask(task_id=held.id, by="head", pin=DEMO_PIN, note="请于本周内完成初步核查"),
                      svc=ready_svc, clock=fixed_clock(LATE))
    assert [h.name for h in urged.holders] == ["王承办"] and urged.notified == 1
    [record] = [r for r in _records(ready_svc, held.case_id) if r.task_spec_id == URGE_SPEC]
    assert (record.actor, record.role, record.seq) == ("head", "head", urged.seq)
    assert record.form_data["note"] == "请于本周内完成初步核查"
    assert (record.form_data["due_state"], record.form_data["holders"]) == ("overdue", ["officer1"])
    with ready_svc.uow.read() as session:
        notice = session.execute(select(NotificationRow.recipient, NotificationRow.kind, NotificationRow.by,
                                        NotificationRow.note, NotificationRow.task_id)
                                 .where(NotificationRow.kind == "urged")).one()
    assert tuple(notice) == ("officer1", "urged", "head", "请于本周内完成初步核查", held.id)
    # The case's timeline shows it as a signed event about the task.
    events = case_for_viewer(ready_svc, held.case_id, "head").events
    shown = [e for e in events if e.kind == "urged"]
    assert len(shown) == 1 and shown[0].seq == urged.seq and shown[0].task_id == held.id
    _verifies_offline(ready_svc, held.case_number)


def test_urging_is_refused_on_time_for_nobody_and_to_anyone_but_a_head_and_writes_nothing(ready_svc):
    held = _held_check(ready_svc)
    # 立案告知 goes to the intake lane as a whole: overdue by LATE, and nobody to press yet.
    _, open_to_all = task_at(ready_svc, "penalty_waiver", "feedback_filing", start=START + dt.timedelta(hours=2))
    note = "请抓紧"
    with pytest.raises(Conflict, match="neither overdue nor due soon"):
        urge_task(UrgeTask(task_id=held.id, by="head", pin=DEMO_PIN, note=note), svc=ready_svc,
                  clock=fixed_clock(EARLY))
    with pytest.raises(Conflict, match="nobody holds this task"):
        urge_task(UrgeTask(task_id=open_to_all.id, by="head", pin=DEMO_PIN, note=note), svc=ready_svc,
                  clock=fixed_clock(LATE))
    for by in ("officer2", "auditor"):
        with pytest.raises(Forbidden):
            urge_task(UrgeTask(task_id=held.id, by=by, pin=DEMO_PIN, note=note), svc=ready_svc,
                      clock=fixed_clock(LATE))
    with pytest.raises(ValidationError, match="note is required"):
        urge_task(UrgeTask(task_id=held.id, by="head", pin=DEMO_PIN, note=" "), svc=ready_svc,
                  clock=fixed_clock(LATE))
    assert _count(ready_svc, NotificationRow, NotificationRow.kind == "urged") == 0
    assert _count(ready_svc, CaseEventRow, CaseEventRow.kind == "urged") == 0
    assert URGE_SPEC not in {r.task_spec_id for r in _records(ready_svc, held.case_id)}


def test_the_team_view_shows_a_head_every_open_task_by_holder_stage_and_due_state(ready_svc):
    held = _held_check(ready_svc)
    # A later case's 初步核查, offered to its named officers, nobody has claimed yet; due long after SOON.
    _, open_to_all = task_at(ready_svc, "penalty_waiver", "preliminary_check", start=START + dt.timedelta(days=20))
    page = team_page(ready_svc, head_id="head", now=SOON)
    ids = {i.task.id for i in page.items}
    assert {held.id, open_to_all.id} <= ids and page.total == len(ids)
    row = next(i for i in page.items if i.task.id == held.id)
    assert (row.holder.name, row.due_state, row.may_urge) == ("王承办", "soon", True)
    offered = next(i for i in page.items if i.task.id == open_to_all.id)
    assert offered.holder is None and "王承办" in {p.name for p in offered.offered}
    assert (offered.due_state, offered.may_urge) == ("", False)  # on time: nothing to urge
    assert ("王承办", 1) in [(h.name if h else None, n) for h, n in page.holders]
    assert "赵承办" in {p.name for p in page.assignees} and "冯法制" not in {p.name for p in page.assignees}

    mine = team_page(ready_svc, head_id="head", holder="officer1", now=SOON)
    assert [i.task.id for i in mine.items] == [held.id]
    nobody = team_page(ready_svc, head_id="head", holder=NOBODY, now=SOON)
    assert held.id not in {i.task.id for i in nobody.items} and open_to_all.id in {i.task.id for i in nobody.items}
    soon = team_page(ready_svc, head_id="head", due="soon", now=SOON)
    assert held.id in {i.task.id for i in soon.items} and open_to_all.id not in {i.task.id for i in soon.items}
    assert soon.due["soon"] == len(soon.items) and page.due == team_page(ready_svc, head_id="head", due="soon",
                                                                          now=SOON).due
    staged = team_page(ready_svc, head_id="head", stage=held.stage, sort="holder", descending=True, now=SOON)
    assert all(i.task.stage == held.stage for i in staged.items) and staged.items[0].task.id == held.id
    paged = team_page(ready_svc, head_id="head", per_page=1, page=2, now=SOON)
    assert (paged.page, paged.pages, len(paged.items)) == (2, page.total, 1)
    with pytest.raises(ValidationError):
        team_page(ready_svc, head_id="head", due="later", now=SOON)


@pytest.mark.parametrize("reader", ["officer1", "auditor", "admin"])
def test_only_heads_read_the_team_view(ready_svc, reader):
    with pytest.raises(Forbidden):
        team_page(ready_svc, head_id=reader, now=SOON)
