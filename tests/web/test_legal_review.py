"""法制审核 on its task page: approve, return for correction with reasons, or disagree."""

from __future__ import annotations

import pytest

from engine.usecases.tasks import list_tasks
from tests.dbtemplates import Template, starting_point
from tests.web.conftest import penalty_case_until
from tests.web.webhelpers import PIN, login, post

CHECKS = {k: "on" for k in ("check_jurisdiction", "check_facts", "check_basis", "check_procedure", "check_discretion",
                            "reviewer_qualified")}


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, review=penalty_case_until("legal_review"))


@pytest.fixture
def review(model, svc, template_result):
    played = template_result
    task = next(t for t in list_tasks(svc, case=played.case.number) if t.spec_id == "legal_review")
    return played, task


def test_the_legal_review_page_explains_the_three_conclusions(review, client):
    _, task = review
    login(client, "legal")
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    for label in ("同意", "补正", "不同意", "第五十八条"):
        assert label in html
    assert 'type="radio" name="legal_conclusion" value="correct"' in html


def test_the_legal_reviewer_approves_and_the_decision_comes_next(review, client, svc):
    played, task = review
    login(client, "legal")
    response = post(client, f"/tasks/{task.id}",
                    {"legal_conclusion": "approve", "legal_opinion": "事实清楚，程序合法。", "pin": PIN, **CHECKS})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert "make_decision" in {t.spec_id for t in list_tasks(svc, case=played.case.number)}


def test_the_legal_reviewer_returns_the_case_for_correction_with_reasons(review, client, svc):
    played, task = review
    login(client, "legal")
    response = post(client, f"/tasks/{task.id}",
                    {"legal_conclusion": "correct", "legal_opinion": "请补充证据目录。", "pin": PIN, **CHECKS})
    assert response.status_code == 302
    correct = next(t for t in list_tasks(svc, case=played.case.number) if t.spec_id == "correct_case")
    officer = client.application.test_client()
    login(officer, correct.assignee or "officer1")
    assert "请补充证据目录。" in officer.get(f"/tasks/{correct.id}").get_data(as_text=True)
