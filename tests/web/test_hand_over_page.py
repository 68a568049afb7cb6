"""The receiving agency is picked, not typed: the hand-over form offers the platform's agencies the jurisdiction
rules let receive the case, and one sent anyway outside them is refused with its article, nothing written."""

from __future__ import annotations

import datetime as dt
import re

from engine.demo_users import DEMO_PASSWORD
from engine.usecases.completion import complete_task
from engine.usecases.tasks import list_tasks, show_task
from engine.usecases.timers import run_timers
from engine.values import CompleteTask
from tests.transfer_agencies import DISTRICT, DISTRICT_CLERK, DISTRICT_NAME, OTHER, add_agencies
from tests.web.webhelpers import PIN, login, post, tags_out


def _task(svc, case_number, spec_id):
    return next(t for t in list_tasks(svc, case=case_number) if t.spec_id == spec_id)


def _accepted_for_hand_over(svc, clock, number: str) -> str:
    """The platform's agencies, and the case's head deciding to hand it over: the case's number."""
    add_agencies(svc)
    complete_task(CompleteTask(task_id=_task(svc, number, "acceptance_review").id, user_id="head", pin=PIN, data={
        "acceptance_decision": "hand_over", "acceptance_opinion": "移送和平区", "case_summary": "无证美容店"}),
        svc=svc, clock=clock)
    return number


def test_the_hand_over_form_offers_the_agencies_with_jurisdiction_and_refuses_another(model, client, svc, clock,
                                                                                     at_acceptance_review):
    number = _accepted_for_hand_over(svc, clock, at_acceptance_review.case.number)
    task = _task(svc, number, "hand_over_complaint")
    login(client, "clerk")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    offered = {value: label.strip() for value, label in re.findall(
        r'<input type="radio" name="receiving_agency" value="([^"]+)"[^>]*>([^<]*)</label>', page)}
    assert offered == {DISTRICT: DISTRICT_NAME}  # not the 派出 unit, not 东区, not itself
    response = post(client, f"/tasks/{task.id}", {"receiving_agency": OTHER, "transfer_reason": "x",
                                                  "transferred_at": "2026-09-20T10:00", "pin": PIN})
    assert response.status_code in (409, 422)
    assert show_task(svc, task.id).status == "ready"


def test_the_reminders_of_an_unanswered_hand_over_are_listed_in_both_languages(model, client, svc, clock,
                                                                              at_acceptance_review):
    number = _accepted_for_hand_over(svc, clock, at_acceptance_review.case.number)
    complete_task(CompleteTask(task_id=_task(svc, number, "hand_over_complaint").id, user_id="clerk", pin=PIN, data={
        "receiving_agency": DISTRICT, "transfer_reason": "属地管辖", "transferred_at": clock().isoformat()}),
        svc=svc, clock=clock)
    clock.moment = _task(svc, number, "await_hand_over").due_at + dt.timedelta(minutes=1)
    run_timers(svc, clock=clock)
    login(client, "clerk")
    assert "移送催办" in tags_out(client.get("/tasks").get_data(as_text=True))
    client.get("/?lang=en")
    assert "Chase the receiving agency's answer" in tags_out(client.get("/tasks").get_data(as_text=True))
    case_page = tags_out(client.get(f"/cases/{at_acceptance_review.case.id}").get_data(as_text=True))
    assert "Chase the receiving agency's answer" in case_page
    receiver = model.test_client()
    login(receiver, DISTRICT_CLERK, DEMO_PASSWORD)
    assert "接收移送催办" in tags_out(receiver.get("/tasks").get_data(as_text=True))
    receiver.get("/?lang=en")
    assert "Reminder: receive or return the handed-over case" in tags_out(receiver.get("/tasks").get_data(as_text=True))
