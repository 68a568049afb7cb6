"""Everything a user typed is escaped on every page that shows it (Jinja autoescape, never |safe)."""

from __future__ import annotations

import pathlib
import re

from engine.spiff.driving import Step
from engine.usecases.tasks import list_tasks
from engine.values import AddUser
from tests.web.webcases import play_until, scenario
from tests.web.webhelpers import PIN, login, post

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
TEMPLATES = pathlib.Path(__file__).resolve().parents[2] / "web" / "templates"


def _assert_escaped(html: str, where: str) -> None:
    assert XSS not in html, where
    assert ESCAPED in html, where


def test_a_script_typed_into_a_complaint_is_escaped_everywhere(model, svc, app):
    intake = {"respondent": {"name": f"美容店{XSS}", "kind": "organisation", "address": XSS},
              "content": f"内容{XSS}", "complainant": {"anonymous": False, "name": XSS, "phone": "13800000000"}}
    publish = Step("prepare_publication", {"publish": True, "party_is_minor": False, "redacted_summary": f"公示{XSS}"})
    played = play_until(svc, scenario(intake=intake, replace_steps={"prepare_publication": publish}), "record_payment")
    case_id = played.case.id
    open_task = next(t for t in list_tasks(svc, case=played.case.number) if t.spec_id == "record_payment")
    pages = {
        "head": ["/cases", f"/cases/{case_id}", f"/cases?q={XSS}", f"/tasks?party={XSS}"],
        "officer1": ["/tasks", f"/cases/{case_id}", f"/deliberation/{case_id}", f"/tasks/{open_task.id}"],
        "auditor": ["/audit", f"/cases/{case_id}"],
        "panel1": [f"/cases/{case_id}"],
    }
    for user, paths in pages.items():
        client = app.test_client()
        login(client, user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (user, path)
            _assert_escaped(response.get_data(as_text=True), f"{user} {path}")
    anon = app.test_client()
    for path in ("/public", f"/public/{case_id}", f"/public?q={XSS}"):
        _assert_escaped(anon.get(path).get_data(as_text=True), path)


def test_a_script_typed_into_a_task_form_is_escaped_when_the_form_comes_back(model, svc, client, at_acceptance_review):
    played = at_acceptance_review
    task = next(t for t in list_tasks(svc, case=played.case.number) if t.spec_id == "acceptance_review")
    login(client, "head")
    response = post(client, f"/tasks/{task.id}", {"acceptance_decision": "accept", "acceptance_opinion": XSS,
                                                   "case_summary": "", "pin": PIN})
    assert response.status_code == 422
    _assert_escaped(response.get_data(as_text=True), "task form with errors")


def test_a_script_in_a_user_name_is_escaped_in_the_admin_list_and_the_header(model, client, svc, clock):
    from engine.usecases.users import add_user

    add_user(AddUser(user_id="mallory", name=XSS, password="long-enough-1", roles=["officer"]), svc=svc,
             clock=clock)
    login(client, "admin")
    _assert_escaped(client.get("/admin/users").get_data(as_text=True), "admin users")
    mallory = client.application.test_client()
    login(mallory, "mallory", "long-enough-1")
    _assert_escaped(mallory.get("/tasks").get_data(as_text=True), "header")


def test_no_template_marks_anything_safe():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe\b", text), template.name
        assert "autoescape false" not in text, template.name
