"""The receiving agency is picked, not typed: the hand-over form offers the platform's agencies the jurisdiction
rules let receive the case, and one sent anyway outside them is refused with its article, nothing written."""

from __future__ import annotations

import re

from engine.usecases.completion import complete_task
from engine.usecases.tasks import list_tasks, show_task
from engine.values import CompleteTask
from tests.transfer_agencies import DISTRICT, DISTRICT_NAME, OTHER, add_agencies
from tests.web.webhelpers import PIN, login, post


def _task(svc, case_number, spec_id):
    return next(t for t in list_tasks(svc, case=case_number) if t.spec_id == spec_id)


def test_the_hand_over_form_offers_the_agencies_with_jurisdiction_and_refuses_another(model, client, svc, clock,
                                                                                     at_acceptance_review):
    add_agencies(svc)
    number = at_acceptance_review.case.number
    complete_task(CompleteTask(task_id=_task(svc, number, "acceptance_review").id, user_id="head", pin=PIN, data={
        "acceptance_decision": "hand_over", "acceptance_opinion": "移送和平区", "case_summary": "无证美容店"}),
        svc=svc, clock=clock)
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
