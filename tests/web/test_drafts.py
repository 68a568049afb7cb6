"""Drafts on the task page (issue 15): the "save draft" button without JavaScript, the JSON API the autosave uses
(CSRF header, only for who may act on the task), restoring on return with a notice and a discard button, the size
limit's 413, and the draft gone once the step is signed."""

from __future__ import annotations

import dataclasses
import re

from sqlalchemy import select

from engine.db.draft_tables import DraftRow
from engine.rules.settings import DraftLimits
from engine.usecases.tasks import list_tasks, show_task
from tests.web.webhelpers import PIN, csrf_token, login, post

OPINION = "拟同意受理。<b>尚需核实</b>营业执照……"


def _task(svc, number: str, spec_id: str):
    return next(t for t in list_tasks(svc, case=number) if t.spec_id == spec_id)


def _rows(svc) -> list[tuple[str, str | None, dict]]:
    with svc.uow.read() as session:
        return [(r.user_id, r.task_id, r.fields) for r in session.scalars(select(DraftRow).order_by(DraftRow.id))]


def _typed(**extra):
    return {"acceptance_opinion": OPINION, "case_summary": "美容店无证营业约两个月。", "case_officers": ["officer1", "x"],
            "pin": PIN, **extra}


def test_the_save_button_keeps_the_form_as_typed_and_the_page_restores_it(model, client, svc, at_acceptance_review):
    task = _task(svc, at_acceptance_review.case.number, "acceptance_review")
    login(client, "head")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "保存草稿" in page and "drafts.js" in page and "已恢复" not in page
    saved = post(client, f"/tasks/{task.id}/draft", _typed())
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/tasks/{task.id}")
    [(user, task_id, fields)] = _rows(svc)
    assert (user, task_id) == ("head", task.id) and "pin" not in fields and "csrf_token" not in fields
    assert fields["case_officers"] == ["officer1", "x"]  # an unknown officer too: exactly as typed
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "已恢复您于" in page and "丢弃草稿" in page and "草稿已保存" in page
    assert "拟同意受理。&lt;b&gt;尚需核实&lt;/b&gt;营业执照" in page and "<b>尚需核实" not in page  # escaped
    assert PIN not in page
    # In English too.
    client.get("/lang/en")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Save draft" in page and "Discard draft" in page and "Your draft saved" in page
    # Discarded: the form opens empty again.
    assert post(client, f"/tasks/{task.id}/draft/discard").status_code == 302
    assert _rows(svc) == []
    assert "尚需核实" not in client.get(f"/tasks/{task.id}").get_data(as_text=True)


def test_signing_the_step_deletes_the_draft(model, client, svc, at_acceptance_review):
    task = _task(svc, at_acceptance_review.case.number, "acceptance_review")
    login(client, "head")
    post(client, f"/tasks/{task.id}/draft", _typed())
    assert len(_rows(svc)) == 1
    done = post(client, f"/tasks/{task.id}", {"acceptance_decision": "accept", "acceptance_opinion": "同意受理。",
                                              "case_summary": "美容店无证营业约两个月。", "unit": "公共场所卫生监督科",
                                              "case_officers": ["officer1", "officer2"], "pin": PIN})
    assert done.status_code == 302, done.get_data(as_text=True)[:1500]
    assert show_task(svc, task.id).status == "completed" and _rows(svc) == []
    assert show_task(svc, task.id).form_data["acceptance_opinion"] == "同意受理。"


def test_the_autosave_api_needs_the_csrf_header_and_saves_only_for_who_may_act(model, client, svc,
                                                                                at_acceptance_review):
    task = _task(svc, at_acceptance_review.case.number, "acceptance_review")
    url = f"/api/tasks/{task.id}/draft"
    body = {"fields": {"acceptance_opinion": [OPINION], "pin": [PIN]}}
    login(client, "head")
    assert client.get(url).status_code == 404  # none yet
    assert client.put(url, json=body).status_code == 400  # no CSRF token
    assert _rows(svc) == []
    token = csrf_token(client, f"/tasks/{task.id}")
    saved = client.put(url, json=body, headers={"X-CSRFToken": token})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    answer = saved.get_json()
    assert answer["fields"] == {"acceptance_opinion": [OPINION]} and answer["status"].startswith("草稿已保存 ")
    assert client.get(url).get_json()["fields"] == {"acceptance_opinion": [OPINION]}
    assert client.put(url, json={"fields": ["x"]}, headers={"X-CSRFToken": token}).status_code == 422
    # An officer is not on the head's step: refused, and shown no draft.
    other = client.application.test_client()
    login(other, "officer1")
    token = csrf_token(other, "/tasks")
    refused = other.put(url, json={"fields": {"acceptance_opinion": ["冒名"]}}, headers={"X-CSRFToken": token})
    assert refused.status_code == 403 and refused.get_json()["error"]
    assert other.get(url).status_code == 403
    assert other.delete(url, headers={"X-CSRFToken": token}).get_json() == {"discarded": False}
    assert [(u, f) for u, _, f in _rows(svc)] == [("head", {"acceptance_opinion": [OPINION]})]
    token = csrf_token(client, f"/tasks/{task.id}")
    assert client.delete(url, headers={"X-CSRFToken": token}).get_json() == {"discarded": True}
    assert _rows(svc) == []


def test_a_draft_over_the_limit_is_refused_with_413_and_the_text_stays_on_the_page(model, client, svc,
                                                                                    at_acceptance_review):
    task = _task(svc, at_acceptance_review.case.number, "acceptance_review")
    svc.settings = dataclasses.replace(svc.settings, drafts=DraftLimits(max_bytes=2048))
    login(client, "head")
    token = csrf_token(client, f"/tasks/{task.id}")
    long = "很长的受理意见" * 200
    refused = client.put(f"/api/tasks/{task.id}/draft", json={"fields": {"acceptance_opinion": [long]}},
                         headers={"X-CSRFToken": token})
    assert refused.status_code == 413 and "2048" in refused.get_json()["error"]
    page = post(client, f"/tasks/{task.id}/draft", _typed(acceptance_opinion=long))
    assert page.status_code == 413
    text = page.get_data(as_text=True)
    assert "草稿未保存" in text and long in text  # what was typed is kept in the form
    assert _rows(svc) == []


KEY = re.compile(r'name="evidence_key" value="([^"]+)"')
COMPLAINT = {"channel": "hotline_12345", "received_at": "2026-09-15T10:30", "complainant.name": "王五",
             "complainant.phone": "13700000000", "respondent.name": "某某游泳馆", "respondent.kind": "organisation",
             "respondent.address": "呈州市中山路3号", "violation_type": "public_place_unlicensed",
             "content": "游泳馆无证经营。"}


def test_the_registration_page_comes_back_with_its_draft_and_registering_deletes_it(model, client, svc):
    login(client, "clerk")
    page = client.get("/cases/new").get_data(as_text=True)
    key = KEY.search(page).group(1)
    assert "保存草稿" in page and "已恢复" not in page
    half = {k: v for k, v in COMPLAINT.items() if k != "content"} | {"evidence_key": key, "pin": PIN}
    assert post(client, "/cases/new/draft", half, token_from="/cases/new").status_code == 302
    [(user, task_id, fields)] = _rows(svc)
    assert (user, task_id) == ("clerk", None) and "pin" not in fields and "evidence_key" not in fields
    # Only the clerk who typed it sees it: another page load (a new key) opens with it, under its key.
    page = client.get("/cases/new").get_data(as_text=True)
    assert "已恢复您于" in page and KEY.search(page).group(1) == key and "某某游泳馆" in page
    other = client.application.test_client()
    login(other, "head")
    assert other.get("/cases/new").status_code == 403
    # Registered from the page: its draft goes in the registration's transaction.
    done = post(client, "/cases/new", COMPLAINT | {"evidence_key": key, "pin": PIN}, token_from="/cases/new")
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    assert _rows(svc) == []
    page = client.get("/cases/new").get_data(as_text=True)
    assert "已恢复" not in page and KEY.search(page).group(1) != key


def test_a_clerk_discards_the_registration_draft(model, client, svc):
    login(client, "clerk")
    key = KEY.search(client.get("/cases/new").get_data(as_text=True)).group(1)
    token = csrf_token(client, "/cases/new")
    saved = client.put(f"/api/intake-drafts/{key}", json={"fields": {"content": ["一半"]}},
                       headers={"X-CSRFToken": token})
    assert saved.status_code == 200 and saved.get_json()["intake_key"] == key
    assert client.put("/api/intake-drafts/short", json={"fields": {}}, headers={"X-CSRFToken": token}).status_code == 422
    assert post(client, "/cases/new/draft/discard", {"evidence_key": key}, token_from="/cases/new").status_code == 302
    assert _rows(svc) == []
