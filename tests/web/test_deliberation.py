"""合议: each member votes on the deliberation page; votes stay sealed until all have voted; then the result."""

from __future__ import annotations

import pytest

from engine.usecases.tasks import list_tasks
from tests.dbtemplates import Template, starting_point
from tests.web.conftest import penalty_case_until
from tests.web.webhelpers import PIN, login, post

OPINIONS = {"panel1": ("penalty", "甲意见：事实清楚，罚款三千元。"),
            "panel2": ("penalty", "乙意见：同意给予处罚。"),
            "panel3": ("no_penalty_facts", "丙意见：证据不足，不同意处罚。")}


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, voting=penalty_case_until("panel_vote"))


@pytest.fixture
def voting(model, template_result):
    return template_result


def _vote(app, svc, case, user):
    client = app.test_client()
    login(client, user)
    page = client.get(f"/deliberation/{case.id}").get_data(as_text=True)
    assert "我的合议意见与表决" in page
    task = next(t for t in list_tasks(svc, user_id=user, case=case.number) if t.spec_id == "panel_vote")
    vote, opinion = OPINIONS[user]
    response = post(client, f"/tasks/{task.id}", {"vote": vote, "opinion": opinion, "pin": PIN},
                    token_from=f"/deliberation/{case.id}")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return task


def test_votes_stay_sealed_until_all_members_have_voted(voting, model, svc):
    case = voting.case
    first = _vote(model, svc, case, "panel1")
    for user in ("panel2", "head", "officer1"):
        client = model.test_client()
        login(client, user)
        for path in (f"/deliberation/{case.id}", f"/cases/{case.id}", f"/api/cases/{case.id}"):
            html = client.get(path).get_data(as_text=True)
            assert "甲意见" not in html, (user, path)
        assert "表决保密中" in client.get(f"/deliberation/{case.id}").get_data(as_text=True)
    client = model.test_client()
    login(client, "panel2")
    assert "甲意见" not in client.get(f"/tasks/{first.id}").get_data(as_text=True)
    assert "甲意见" not in client.get(f"/api/tasks/{first.id}").get_data(as_text=True)
    own = model.test_client()
    login(own, "panel1")
    page = own.get(f"/deliberation/{case.id}").get_data(as_text=True)
    assert "已表决 1 / 3" in page
    assert "我的合议意见与表决" not in page  # one vote per member


def test_the_result_with_dissent_opens_when_all_have_voted(voting, model, svc):
    case = voting.case
    for user in ("panel1", "panel2", "panel3"):
        _vote(model, svc, case, user)
    client = model.test_client()
    login(client, "officer1")
    html = client.get(f"/deliberation/{case.id}").get_data(as_text=True)
    assert "合议结果" in html
    assert "多数意见" in html and "给予行政处罚" in html
    assert "甲意见" in html and "乙意见" in html and "丙意见" in html
    assert 'class="ballot dissent"' in html
    assert html.count("badge warn\">不同意见") == 1


def test_the_panel_page_is_forbidden_to_publishers(voting, model):
    client = model.test_client()
    login(client, "publisher")
    assert client.get(f"/deliberation/{voting.case.id}").status_code == 403
