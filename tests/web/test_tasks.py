"""The task list (filters, counts, overdue, claim/assign) and the task page (form, errors, conflicts)."""

from __future__ import annotations

import datetime as dt
import re

from engine.usecases.tasks import claim_task, complete_task, list_tasks, show_task
from engine.values import ClaimTask, CompleteTask
from tests.web.webcases import play_until, scenario
from tests.web.webhelpers import PIN, login, post


def _task(svc, case_number, spec_id):
    return next(t for t in list_tasks(svc, case=case_number) if t.spec_id == spec_id)


def test_head_sees_the_new_complaint_in_the_task_list_with_counts(model, client, svc, at_acceptance_review):
    played = at_acceptance_review
    login(client, "head")
    html = client.get("/tasks").get_data(as_text=True)
    assert "受理审查" in html
    assert played.case.number in html
    assert "呈州市丽人美容店" in html
    assert re.search(r"受理\s*<span class=\"n\">1</span>", html)  # stage facet with its count


def test_filters_narrow_the_list_by_stage_party_number_and_due_state(model, client, svc, clock, at_acceptance_review):
    played = at_acceptance_review
    login(client, "head")
    assert played.case.number in client.get("/tasks?stage=acceptance").get_data(as_text=True)
    assert played.case.number not in client.get("/tasks?stage=filing").get_data(as_text=True)
    assert played.case.number in client.get("/tasks?party=丽人").get_data(as_text=True)
    assert played.case.number not in client.get("/tasks?party=不存在的店").get_data(as_text=True)
    assert played.case.number in client.get("/tasks?number=0001").get_data(as_text=True)
    assert played.case.number in client.get("/tasks?violation=public_place_unlicensed").get_data(as_text=True)
    assert played.case.number not in client.get("/tasks?due=overdue").get_data(as_text=True)
    clock.moment = _task(svc, played.case.number, "acceptance_review").due_at + dt.timedelta(days=2)
    login(client, "head")  # days later: that session ended long ago (8 hours at most)
    overdue = client.get("/tasks?due=overdue").get_data(as_text=True)
    assert played.case.number in overdue
    assert "已超期" in overdue
    assert "is-overdue" in overdue


def test_tasks_are_paginated(model, client, svc, app, at_acceptance_review):
    app.config["CASETRAIL_TASKS_PER_PAGE"] = 1
    first = at_acceptance_review
    second = play_until(svc, scenario(), "acceptance_review")
    login(client, "head")
    page1 = client.get("/tasks").get_data(as_text=True)
    page2 = client.get("/tasks?page=2").get_data(as_text=True)
    assert "第 1 / 2 页" in page1
    assert (first.case.number in page1) != (first.case.number in page2)
    assert (second.case.number in page1) != (second.case.number in page2)


def test_claim_and_unclaim_from_the_list(model, client, svc, at_acceptance_review):
    played = at_acceptance_review
    task = _task(svc, played.case.number, "acceptance_review")
    login(client, "head")
    assert post(client, f"/tasks/{task.id}/claim").status_code == 302
    assert show_task(svc, task.id).assignee == "head"
    assert post(client, f"/tasks/{task.id}/unclaim").status_code == 302
    assert show_task(svc, task.id).assignee is None


def test_a_head_reassigns_an_officer_task(model, client, svc, at_preliminary_check):
    played = at_preliminary_check
    task = _task(svc, played.case.number, "preliminary_check")
    claim_task(ClaimTask(task.id, "officer1"), svc=svc, clock=lambda: dt.datetime(2026, 9, 20, tzinfo=dt.UTC))
    login(client, "head")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "改派" in page
    refused = post(client, f"/tasks/{task.id}/assign", {"assignee": "officer2", "pin": "000000"})
    assert refused.status_code == 403 and "PIN" in refused.get_data(as_text=True)
    assert show_task(svc, task.id).assignee == "officer1"  # a wrong PIN changes nothing
    assert post(client, f"/tasks/{task.id}/assign", {"assignee": "officer2", "pin": PIN,
                                                      "reason": "<script>病假</script>"}).status_code == 302
    assert show_task(svc, task.id).assignee == "officer2"
    case_page = client.get(f"/cases/{played.case.id}").get_data(as_text=True)
    assert "<script>病假" not in case_page


def test_officers_cannot_assign(model, client, svc, at_preliminary_check):
    played = at_preliminary_check
    task = _task(svc, played.case.number, "preliminary_check")
    login(client, "officer1")
    assert post(client, f"/tasks/{task.id}/assign", {"assignee": "officer2"}).status_code == 403


def _acceptance_form(**extra):
    form = {"acceptance_decision": "accept", "acceptance_opinion": "同意受理，转公共场所科办理。",
            "case_summary": "美容店无证营业约两个月。", "unit": "公共场所卫生监督科",
            "case_officers": ["officer1", "officer2"], "pin": PIN}
    form.update(extra)
    return form


def test_completing_a_task_through_its_form_moves_the_case_on(model, client, svc, at_acceptance_review):
    played = at_acceptance_review
    task = _task(svc, played.case.number, "acceptance_review")
    login(client, "head")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'name="acceptance_decision"' in page and 'name="pin"' in page and 'type="password"' in page
    response = post(client, f"/tasks/{task.id}", _acceptance_form())
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    done = show_task(svc, task.id)
    assert done.status == "completed"
    assert done.form_data["case_officers"] == ["officer1", "officer2"]
    assert task.id not in client.get("/tasks").get_data(as_text=True)
    assert "初步核查" in [t.name for t in list_tasks(svc, case=played.case.number)]


def test_field_errors_are_shown_in_place_and_nothing_typed_is_lost(model, client, svc, at_acceptance_review):
    played = at_acceptance_review
    task = _task(svc, played.case.number, "acceptance_review")
    login(client, "head")
    response = post(client, f"/tasks/{task.id}", _acceptance_form(case_summary="", acceptance_opinion="我写的意见"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-case_summary"' in html  # the error sits at the field
    assert "我写的意见" in html
    assert 'value="officer2"' in html
    assert show_task(svc, task.id).status == "ready"


def test_a_legal_gate_refusal_shows_its_article(model, client, svc):
    citizen = {"respondent": {"name": "李四", "kind": "citizen", "address": "呈州市和平路9号"}}
    played = play_until(svc, scenario("summary_penalty", intake=citizen), "summary_penalty")
    task = _task(svc, played.case.number, "summary_penalty")
    login(client, "officer1")
    form = {"violation_facts": "无健康证明从业", "legal_basis": "实施细则第三十八条",
            "penalty_warning": "on", "summary_fine": "500", "place": "现场", "summary_decided_at": "2026-09-15T10:00",
            "remedy": "六十日内申请复议", "pin": PIN}
    response = post(client, f"/tasks/{task.id}", form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:3000]
    assert "第五十一条" in html
    assert "无健康证明从业" in html  # what was typed is still there
    assert show_task(svc, task.id).status == "ready"


def test_a_conflict_is_explained_and_the_typed_text_kept(model, client, svc, clock, at_acceptance_review):
    played = at_acceptance_review
    task = _task(svc, played.case.number, "acceptance_review")
    login(client, "head2")
    client.get(f"/tasks/{task.id}")
    data = {k: v for k, v in _acceptance_form().items() if k != "pin"}
    complete_task(CompleteTask(task_id=task.id, user_id="head", data=data, pin=PIN), svc=svc, clock=clock)
    response = post(client, f"/tasks/{task.id}", _acceptance_form(acceptance_opinion="第二位负责人的意见"))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "他人" in html
    assert "第二位负责人的意见" in html


def test_a_task_of_another_lane_is_forbidden(model, client, svc, at_acceptance_review):
    played = at_acceptance_review
    task = _task(svc, played.case.number, "acceptance_review")
    login(client, "officer1")
    assert client.get(f"/tasks/{task.id}").status_code == 403
    assert post(client, f"/tasks/{task.id}", _acceptance_form()).status_code == 403
    assert show_task(svc, task.id).status == "ready"


def test_an_unknown_task_is_404(model, client):
    login(client, "head")
    assert client.get("/tasks/00000000-0000-0000-0000-000000000000").status_code == 404


def test_supervision_tasks_stand_out(model, client, svc, clock, at_acceptance_review):
    from engine.usecases.timers import run_timers

    played = at_acceptance_review
    task = _task(svc, played.case.number, "acceptance_review")
    clock.moment = task.due_at - dt.timedelta(days=1)
    run_timers(svc, clock=clock)  # the warning timer raises 督办 before the deadline
    supervised = [t for t in list_tasks(svc, case=played.case.number) if t.supervision]
    assert supervised
    login(client, "head")
    html = client.get("/tasks").get_data(as_text=True)
    assert 'class="badge supervise"' in html
    assert "is-supervised" in html
    assert "即将到期" in html


def test_a_wrong_pin_signs_nothing_and_keeps_what_was_typed(model, client, svc, at_acceptance_review):
    played = at_acceptance_review
    task = _task(svc, played.case.number, "acceptance_review")
    login(client, "head")
    response = post(client, f"/tasks/{task.id}", _acceptance_form(pin="000000", acceptance_opinion="不要丢失的意见"))
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert 'id="e-pin"' in html
    assert "不要丢失的意见" in html
    assert show_task(svc, task.id).status == "ready"


def test_a_number_field_with_only_a_lower_bound_says_so_without_a_dangling_dash(model, client, svc,
                                                                                at_await_party_response):
    played = at_await_party_response
    task = _task(svc, played.case.number, "await_party_response")
    login(client, "officer1")
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "不小于 1" in html  # 材料 · 证据文件 (the case has no files to pick from): minimum 1, no maximum
    assert "– —" not in html
