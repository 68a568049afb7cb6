"""The task sync tells each new task's people: offered to those who may take it, assigned to its holder,
returned (补正, 退回) where the model says a step is a return — once, never to the barred or to the actor."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from engine.db.notice_tables import NotificationRow
from engine.db.tables import TaskRow, TaskUserRow
from engine.demo import SCENARIOS, play, play_step
from engine.demo_users import DEMO_PIN
from engine.services import Services
from engine.spiff.clocks import MutableClock
from engine.spiff.driving import Step
from engine.usecases.tasks import assign_task, list_tasks
from engine.values import AssignTask, CaseView
from tests.conftest import at

START = at("2026-09-14 09:00")


def _notices(svc: Services, case_id: int) -> list[tuple[str, str, str, str, str | None, str]]:
    """(task spec, task id, kind, recipient, by, note) of the case's notices, in the order written."""
    with svc.uow.read() as s:
        return [tuple(r) for r in s.execute(
            select(TaskRow.spec_id, TaskRow.id, NotificationRow.kind, NotificationRow.recipient, NotificationRow.by,
                   NotificationRow.note)
            .join(TaskRow, TaskRow.id == NotificationRow.task_id)
            .where(NotificationRow.case_id == case_id).order_by(NotificationRow.id))]


@pytest.mark.parametrize("played", ["penalty_legal_correction"], indirect=True)
def test_a_case_played_through_tells_every_new_task_once_and_the_correction_as_returned(
        played: CaseView, ready_svc: Services) -> None:
    notices = _notices(ready_svc, played.id)
    assert Counter((task, who) for _spec, task, _k, who, _by, _n in notices).most_common(1)[0][1] == 1
    returned = {(who, by) for spec, _t, kind, who, by, _n in notices if kind == "returned"}
    assert returned == {("officer1", "legal"), ("officer2", "legal")}  # 法制审核 不同意 -> 补正, to the 承办人
    assert {spec for spec, _t, kind, *_ in notices if kind == "returned"} == {"correct_case"}
    # An offer to the lane: both heads; a task for the case officers: only those named, not officer3.
    assert {who for spec, _t, _k, who, *_ in notices if spec == "make_decision"} == {"head", "head2"}
    assert {who for spec, _t, _k, who, *_ in notices if spec == "preliminary_check"} == {"officer1", "officer2"}
    assert all(kind == "assigned" for spec, _t, kind, *_ in notices if spec == "panel_vote")
    assert "officer3" not in {who for *_x, who, _by, _n in notices}
    with ready_svc.uow.read() as s:
        barred = set(s.execute(select(TaskUserRow.task_id, TaskUserRow.user_id).where(TaskUserRow.kind == "excluded")))
        tasks = set(s.scalars(select(TaskRow.id).where(TaskRow.case_id == played.id)))
    assert barred, "the model bars someone from some step of this case (separation of duties)"
    assert not {(task, who) for _s, task, _k, who, _b, _n in notices} & barred
    # Nobody is told of the step they themselves made ready.
    assert all(who != by for *_x, who, by, _n in notices)
    # Each of the case's tasks was told to someone (every lane of the demo agency has more than one person).
    assert {task for _s, task, *_ in notices} == tasks


def test_a_closing_report_sent_back_by_the_approver_is_returned_the_first_one_offered(ready_svc: Services) -> None:
    scenario = SCENARIOS["summary_penalty"]
    specs = [s.spec_id for s in scenario.steps]
    case = play(ready_svc, scenario, start=START, stop_before=specs.index("closing_approval")).case
    clock = MutableClock(at("2026-09-20 09:00"))
    first = [(kind, who) for spec, _t, kind, who, _b, _n in _notices(ready_svc, case.id) if spec == "closing_report"]
    play_step(ready_svc, case.number, Step("closing_approval", {"closing_approved": False}), clock)
    # 退回 goes to the same case officers; the first report was an ordinary offer.
    again = [(kind, who, by) for spec, _t, kind, who, by, _n in _notices(ready_svc, case.id)
             if spec == "closing_report"][len(first):]
    assert {kind for kind, _who in first} == {"offered"}
    assert sorted(again) == [("returned", "officer1", "head"), ("returned", "officer2", "head")] or \
        sorted(again) == [("returned", "officer1", "head2"), ("returned", "officer2", "head2")]


def test_a_task_handed_over_by_a_head_is_assigned_to_the_new_holder_with_the_reason(ready_svc: Services) -> None:
    scenario = SCENARIOS["summary_penalty"]
    case = play(ready_svc, scenario, start=START, stop_before=0).case
    task = next(t for t in list_tasks(ready_svc, case=case.number) if t.spec_id == "acceptance_review")
    before = len(_notices(ready_svc, case.id))
    assign_task(AssignTask(task.id, "head2", by="head", pin=DEMO_PIN, reason="分管领导审批"), svc=ready_svc,
                clock=MutableClock(at("2026-09-14 11:00")))
    assert _notices(ready_svc, case.id)[before:] == [("acceptance_review", task.id, "assigned", "head2", "head",
                                                      "分管领导审批")]
