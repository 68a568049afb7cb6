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


def _summary_html(html: str) -> str:
    start = html.index('id="case-summary"')
    return html[start:html.index("</section>", start)]


def test_approving_with_an_unconfirmed_point_and_no_reason_is_refused_on_the_page(review, client, svc):
    played, task = review
    login(client, "legal")
    unticked = {k: v for k, v in CHECKS.items() if k != "check_facts"}
    response = post(client, f"/tasks/{task.id}",
                    {"legal_conclusion": "approve", "legal_opinion": "同意。", "pin": PIN, **unticked})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "e-reason_facts" in html  # the error stands at the reason's field
    assert "第五十八条" in html
    assert "legal_review" in {t.spec_id for t in list_tasks(svc, case=played.case.number)}  # nothing written


def test_the_reason_field_is_starred_only_for_an_approval_with_the_point_unticked(review, client):
    _, task = review
    login(client, "legal")
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "data-required-when='[[[\"legal_conclusion\", [\"approve\"]], [\"check_facts\", [false]]]]'" in html


def test_the_legal_review_page_opens_with_the_case_summary(review, client):
    _, task = review
    login(client, "legal")
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert html.index('id="case-summary"') < html.index('class="form task-form')
    summary = _summary_html(html)
    for heading in ("认定的违法事实", "证据及证据文件", "违法行为与法律依据", "拟处罚及裁量基准", "合议表决结果"):
        assert heading in summary
    assert "1,500.00" in summary and "3,500.00" in summary  # the 裁量基准 range of the case
    assert "给予行政处罚: <strong>3</strong>" in summary  # the closed round's tally, in words
    assert "张三" not in summary and "13800000000" not in summary


def test_the_summary_reads_in_english(review, client):
    _, task = review
    login(client, "legal")
    html = client.get(f"/tasks/{task.id}?lang=en").get_data(as_text=True)
    summary = _summary_html(html)
    assert "Facts found" in summary and "Discretion benchmark" in summary
