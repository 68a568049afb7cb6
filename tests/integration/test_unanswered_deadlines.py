"""Deadlines the model acts on when nobody does (issue 16): the supervisor's 办结期限 passing with the supervision
still open raises the supervisor's 督办逾期; a hand-over on the platform not answered within settings.json
`hand_over_answer` gives the sender's intake a 催办 and reminds the receiving agency's intake, and the answer after
the reminders still goes through. Fired by the timer worker, on the engine's clock; the paths verify and replay."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from engine.db.notice_tables import NotificationRow
from engine.db.tables import CaseRow, TaskRow
from engine.demo import play_step
from engine.demo_users import DEMO_PIN
from engine.rules.deadlines import due_at
from engine.services import Services
from engine.spiff.clocks import MutableClock
from engine.usecases.audit import verify_cases
from engine.usecases.cases import show_case
from engine.usecases.supervision import case_supervisions, flag_case, supervised_cases
from engine.usecases.tasks import complete_task, list_tasks
from engine.usecases.timers import next_timer_due, run_timers
from engine.values import CompleteTask, FlagCase, SupervisedCase, fixed_clock
from tests.integration.test_cross_process import processes  # noqa: F401 (the fixture: casetrail in a new process)
from tests.integration.test_hand_over import START as HANDED_AT
from tests.integration.test_hand_over import _complete, _handed_to_the_district, _records
from tests.integration.test_supervision import (
    AFTER_FILING,
    CLOSING_APPROVAL,
    FLAG,
    SUPERVISOR,
    WAIVER,
    filed_case,
    open_task,
    place_agencies,
    records,
)
from tests.transfer_agencies import DISTRICT, DISTRICT_CLERK

REMINDERS = {"remind_hand_over", "remind_receive_transfer"}


def _notified(svc: Services, task_id: str) -> set[str]:
    with svc.uow.read() as session:
        return set(session.scalars(select(NotificationRow.recipient).where(NotificationRow.task_id == task_id)))


def _agency(svc: Services, task_id: str) -> str:
    with svc.uow.read() as session:
        return str(session.scalar(select(TaskRow.agency_code).where(TaskRow.id == task_id)))


def _sent_at(svc: Services, number: str) -> dt.datetime:
    """When the hand-over was signed (the sender's last record)."""
    return dt.datetime.fromisoformat(_records(svc, number)[-1].time_utc)


def _ready(svc: Services, number: str) -> list[str]:
    return sorted(t.spec_id for t in list_tasks(svc, case=number) if t.status == "ready")


def _flagged_due_soon(svc: Services) -> tuple[str, MutableClock, dt.date, SupervisedCase]:
    """A filed case flagged by the province's supervisor with a 办结期限 three days on (before any report is due)."""
    place_agencies(svc)
    number, clock = filed_case(svc)
    due_date = svc.calendar.local_date(clock()) + dt.timedelta(days=3)
    view = flag_case(FlagCase(number, SUPERVISOR, {**FLAG, "supervision_due_date": due_date.isoformat()},
                              pin=DEMO_PIN), svc=svc, clock=clock)
    return number, clock, due_date, view


def test_a_supervision_open_past_its_deadline_goes_back_to_the_supervisor_and_still_closes(ready_svc) -> None:
    svc = ready_svc
    number, clock, due_date, view = _flagged_due_soon(svc)
    deadline = svc.calendar.end_of_day(due_date)
    assert deadline < due_at("supervision_report", clock(), svc.settings, svc.calendar)  # before any report is late

    # Before the last second of the 办结期限 nothing happens; then the worker fires the model's timer.
    early = fixed_clock(deadline - dt.timedelta(seconds=1))
    assert [f for f in run_timers(svc, clock=early) if f.case_number == number] == []
    assert "escalate_supervision" not in _ready(svc, number)
    late = deadline + dt.timedelta(seconds=1)
    fired = [f for f in run_timers(svc, clock=fixed_clock(late)) if f.case_number == number]
    assert [f.timers for f in fired] == [("supervision_deadline_passed",)]
    escalation = open_task(svc, number, "escalate_supervision")
    assert (escalation.assignee, escalation.name) == (SUPERVISOR, "督办逾期") and escalation.supervision
    assert _notified(svc, escalation.id) == {SUPERVISOR}
    # Both agencies' lists say the deadline has passed; the supervisor's task list has the escalation.
    for viewer in (SUPERVISOR, "officer1"):
        [item] = supervised_cases(svc, viewer_id=viewer, now=late)
        assert item.open and item.past_due and item.to_json()["past_due"] is True
    assert [t.spec_id for t in list_tasks(svc, user_id=SUPERVISOR)] == ["escalate_supervision"]

    # The supervisor signs what is to be done; the reports go on and the 销号 still closes the case.
    clock.advance_to(late + dt.timedelta(hours=1))
    complete_task(CompleteTask(escalation.id, SUPERVISOR, {"supervision_overdue_measure": "interview",
                                                           "supervision_overdue_opinion": "约谈承办机关负责人，限五日内办结。"},
                               pin=DEMO_PIN), svc=svc, clock=clock)
    last = records(svc, number)[-1]
    assert (last.task_spec_id, last.actor) == ("escalate_supervision", SUPERVISOR)
    for step in WAIVER.steps[AFTER_FILING:CLOSING_APPROVAL]:
        clock.advance_to(clock() + dt.timedelta(hours=1))
        play_step(svc, number, step, clock)
    report = open_task(svc, number, "report_supervision")
    complete_task(CompleteTask(report.id, "officer1", {"supervision_progress": "已办结。", "supervision_final_report": True},
                               pin=DEMO_PIN), svc=svc, clock=clock)
    closing = open_task(svc, number, "close_supervision")
    complete_task(CompleteTask(closing.id, SUPERVISOR, {"supervision_closed": True, "supervision_opinion": "同意销号。"},
                               pin=DEMO_PIN), svc=svc, clock=clock)
    [closed] = case_supervisions(svc, view.case_id, now=clock())
    assert not closed.open and not closed.past_due
    for step in WAIVER.steps[CLOSING_APPROVAL:]:
        clock.advance_to(clock() + dt.timedelta(hours=1))
        play_step(svc, number, step, clock)
    with svc.uow.read() as session:
        assert session.scalar(select(CaseRow.status).where(CaseRow.number == number)) == "closed"
    # The auditor's replay takes the timer path the worker took: the escalation is a step the model allows there.
    [audited] = verify_cases(svc, [number], clock=fixed_clock(clock() + dt.timedelta(hours=1)))
    assert audited.ok, audited.first_failure


def test_a_supervision_closed_in_time_is_never_escalated(ready_svc) -> None:
    svc = ready_svc
    number, clock, due_date, _ = _flagged_due_soon(svc)
    report = open_task(svc, number, "report_supervision")
    clock.advance_to(clock() + dt.timedelta(hours=1))
    complete_task(CompleteTask(report.id, "officer1", {"supervision_progress": "已办结。", "supervision_final_report": True},
                               pin=DEMO_PIN), svc=svc, clock=clock)
    clock.advance_to(clock() + dt.timedelta(hours=1))
    complete_task(CompleteTask(open_task(svc, number, "close_supervision").id, SUPERVISOR,
                               {"supervision_closed": True, "supervision_opinion": "同意销号。"}, pin=DEMO_PIN),
                  svc=svc, clock=clock)
    with svc.uow.read() as session:
        waiting = session.scalar(select(CaseRow.next_timer_at).where(CaseRow.number == number))
    assert waiting is None or waiting != svc.calendar.end_of_day(due_date)  # the 销号 cancelled the timer
    run_timers(svc, clock=fixed_clock(svc.calendar.end_of_day(due_date) + dt.timedelta(days=1)))
    assert "escalate_supervision" not in {t.spec_id for t in list_tasks(svc, case=number)}


def test_an_unanswered_hand_over_reminds_both_agencies_and_the_late_answer_still_goes_back(ready_svc) -> None:
    svc = ready_svc
    clock, origin, received = _handed_to_the_district(svc)
    sent_at = _sent_at(svc, origin)
    answer_due = due_at("hand_over_answer", sent_at, svc.settings, svc.calendar)
    assert dt.datetime.fromisoformat(_records(svc, received)[0].time_utc) == sent_at  # both count from one moment
    await_task = open_task(svc, origin, "await_hand_over")
    assert await_task.due_at == answer_due == open_task(svc, received, "receive_transfer").due_at

    assert run_timers(svc, clock=fixed_clock(answer_due - dt.timedelta(seconds=1))) == []
    fired = {f.case_number: f.timers for f in run_timers(svc, clock=fixed_clock(answer_due + dt.timedelta(seconds=1)))}
    assert fired == {origin: ("hand_over_unanswered",), received: ("transfer_unanswered",)}
    # The sender's intake chases the answer; the receiving agency's intake is reminded (each told of it).
    chase = open_task(svc, origin, "remind_hand_over")
    reminder = open_task(svc, received, "remind_receive_transfer")
    assert (chase.name, chase.role, _agency(svc, chase.id)) == ("移送催办", "intake", svc.settings.agency.code)
    assert (reminder.name, reminder.role, _agency(svc, reminder.id)) == ("接收移送催办", "intake", DISTRICT)
    assert "clerk" in _notified(svc, chase.id) and DISTRICT_CLERK in _notified(svc, reminder.id)
    assert DISTRICT_CLERK not in _notified(svc, chase.id) and "clerk" not in _notified(svc, reminder.id)
    assert _ready(svc, origin) == ["await_hand_over", "remind_hand_over"]
    assert run_timers(svc, clock=fixed_clock(answer_due + dt.timedelta(days=30))) == []  # each reminds once

    clock.advance_to(answer_due + dt.timedelta(hours=1))
    complete_task(CompleteTask(chase.id, "clerk", {"reminder_channel": "phone", "reminder_note": "已电话催办和平区。"},
                               pin=DEMO_PIN), svc=svc, clock=clock)
    complete_task(CompleteTask(reminder.id, DISTRICT_CLERK, {"reminder_note": "已呈报局长。"}, pin=DEMO_PIN),
                  svc=svc, clock=clock)
    # The answer after the reminders: the return still goes back to the sender's 受理审查.
    _complete(svc, clock, received, "receive_transfer", "head2",
              {"receive_decision": "return", "receive_opinion": "不属本局管辖", "return_reason": "当事人实际经营地在东区"})
    assert show_case(svc, received).outcome == "not_accepted"
    assert "acceptance_review" in _ready(svc, origin)
    assert _records(svc, origin)[-1].form_data["receive_decision"] == "return"
    assert [r.task_spec_id for r in _records(svc, origin)][-2:] == ["remind_hand_over", "await_hand_over"]
    reports = verify_cases(svc, [origin, received], clock=fixed_clock(clock() + dt.timedelta(hours=1)))
    assert [r.first_failure for r in reports] == [None, None]


def test_a_hand_over_answered_in_time_reminds_nobody(ready_svc) -> None:
    svc = ready_svc
    clock, origin, received = _handed_to_the_district(svc)
    _complete(svc, clock, received, "receive_transfer", "head2", {"receive_decision": "accept", "receive_opinion": "接收"})
    assert show_case(svc, origin).outcome == "transferred"
    run_timers(svc, clock=fixed_clock(HANDED_AT + dt.timedelta(days=60)))
    assert not REMINDERS & {t.spec_id for n in (origin, received) for t in list_tasks(svc, case=n)}


def test_the_worker_in_its_own_process_fires_the_hand_over_reminders(ready_svc, processes) -> None:  # noqa: F811
    svc = ready_svc
    _, origin, received = _handed_to_the_district(svc)
    due = next_timer_due(svc)
    assert due == due_at("hand_over_answer", _sent_at(svc, origin), svc.settings, svc.calendar)
    early = processes(due - dt.timedelta(minutes=1), "worker", "--once")
    assert early.returncode == 0, early.stderr
    assert not REMINDERS & {t.spec_id for n in (origin, received) for t in list_tasks(svc, case=n)}
    done = processes(due + dt.timedelta(minutes=1), "worker", "--once")
    assert done.returncode == 0, done.stderr
    assert "remind_hand_over" in _ready(svc, origin) and "remind_receive_transfer" in _ready(svc, received)
    for number in (origin, received):
        verified = processes(due + dt.timedelta(minutes=2), "verify", number)
        assert verified.returncode == 0, verified.stdout + verified.stderr


def test_the_deadline_escalation_fired_and_answered_each_in_its_own_process(ready_svc, processes, tmp_path) -> None:  # noqa: F811
    """A fresh process fires the 办结期限 timer, another signs the 督办逾期, others the final report and the 销号 (the
    sub-process's parallel branch and its terminate end, each restored from the stored state)."""
    svc = ready_svc
    number, _, due_date, _ = _flagged_due_soon(svc)
    late = svc.calendar.end_of_day(due_date) + dt.timedelta(minutes=1)
    fired = processes(late, "worker", "--once")
    assert fired.returncode == 0, fired.stderr
    steps = [("escalate_supervision", SUPERVISOR, {"supervision_overdue_measure": "deadline",
                                                    "supervision_overdue_opinion": "限十日内办结。"}),
             ("report_supervision", "officer1", {"supervision_progress": "已办结。", "supervision_final_report": True}),
             ("close_supervision", SUPERVISOR, {"supervision_closed": True, "supervision_opinion": "同意销号。"})]
    for hours, (spec_id, user, data) in enumerate(steps, start=1):
        form = tmp_path / f"{spec_id}.json"
        form.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        done = processes(late + dt.timedelta(hours=hours), "task", "complete", open_task(svc, number, spec_id).id,
                         "--user", user, "--data", str(form), "--pin", DEMO_PIN)
        assert done.returncode == 0, done.stdout + done.stderr
    listed = processes(late + dt.timedelta(hours=4), "supervise", "list", "--user", "officer1", "--json")
    [item] = json.loads(listed.stdout)
    assert not item["open"] and not item["past_due"]
    assert [r.task_spec_id for r in records(svc, number)][-4:] == [
        "supervision_flagged", "escalate_supervision", "report_supervision", "close_supervision"]
    verified = processes(late + dt.timedelta(hours=5), "verify", number)
    assert verified.returncode == 0, verified.stdout + verified.stderr
