"""The case page: summary, deadlines, timeline, and the complainant's identity shown only to those who need it."""

from __future__ import annotations

import pytest

from engine.rules.duties import IDENTITY_ROLES, CaseFacts, Person, may_see_identity
from engine.rules.redaction import redact_complaint, redact_identity
from engine.usecases.tasks import list_tasks
from tests.dbtemplates import Template, starting_point
from tests.web.conftest import played
from tests.web.webcases import play_until, scenario
from tests.web.webhelpers import login

COMPLAINT = {"complainant": {"anonymous": False, "name": "张秘密", "phone": "13912345678", "address": "呈州市秘密路1号",
                             "id_number": "330102199001011234"},
             "content": "美容店无证营业。我的电话13912345678，身份证330102199001011234。"}
SECRETS = ("张秘密", "13912345678", "330102199001011234", "呈州市秘密路1号")
LEGAL_STAGE = played("a case with a named complainant up to legal_review", scenario(intake=COMPLAINT), "legal_review")


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, legal_stage=LEGAL_STAGE)


@pytest.fixture
def legal_stage(model, template_result):
    return template_result


@pytest.mark.parametrize("user", ["clerk", "officer1", "head"])
def test_the_complainant_is_shown_to_intake_officers_and_heads(legal_stage, client, user):
    login(client, user)
    html = client.get(f"/cases/{legal_stage.case.id}").get_data(as_text=True)
    assert "张秘密" in html
    assert "13912345678" in html


@pytest.mark.parametrize("user", ["panel1", "legal", "head2", "auditor"])
def test_the_complainant_is_hidden_from_everyone_else(legal_stage, client, user):
    """Those who read the case without the complainant: members without an identity role (the panel), who it
    offers a task by lane (the legal review), heads with no part in it, auditors."""
    login(client, user)
    html = client.get(f"/cases/{legal_stage.case.id}").get_data(as_text=True)
    assert legal_stage.case.number in html
    for secret in SECRETS:
        assert secret not in html, (user, secret)
    assert "已隐去" in html
    api = client.get(f"/api/cases/{legal_stage.case.id}").get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in api, (user, secret)


@pytest.mark.parametrize("user", ["publisher", "officer3"])
def test_who_has_no_part_in_the_case_reads_none_of_it(legal_stage, client, user):
    login(client, user)
    for path in (f"/cases/{legal_stage.case.id}", f"/api/cases/{legal_stage.case.id}"):
        response = client.get(path)
        assert response.status_code == 403, path
        for secret in (*SECRETS, legal_stage.case.number):
            assert secret not in response.get_data(as_text=True), (path, secret)
    assert legal_stage.case.number not in client.get("/cases").get_data(as_text=True)


def test_the_legal_reviewer_task_page_hides_the_complainant(legal_stage, client, svc):
    task = next(t for t in list_tasks(svc, case=legal_stage.case.number) if t.spec_id == "legal_review")
    login(client, "legal")
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "法制审核" in html
    for secret in SECRETS:
        assert secret not in html


def test_the_case_page_has_a_timeline_of_every_step_with_who_and_when(legal_stage, client):
    login(client, "head")
    html = client.get(f"/cases/{legal_stage.case.id}").get_data(as_text=True)
    assert "办理记录" in html
    for step in ("受理审查", "初步核查", "立案审批", "调查终结报告", "事先告知"):
        assert step in html
    for actor in ("clerk", "head", "officer1", "panel1"):
        assert actor in html
    assert "2026-09-14 09:00" in html  # registered at 09:00 Beijing time
    assert "法制审核" in html and ("剩" in html or "无期限" in html)  # the open step with its deadline


def test_the_case_list_searches_by_party(legal_stage, client):
    login(client, "officer1")
    assert legal_stage.case.number in client.get("/cases?q=丽人").get_data(as_text=True)
    assert legal_stage.case.number not in client.get("/cases?q=没有这个").get_data(as_text=True)


def test_the_case_list_is_paged_most_recently_changed_first_and_filters_by_status(model, client, svc, app,
                                                                                   at_acceptance_review):
    app.config["CASETRAIL_CASES_PER_PAGE"] = 1
    older = at_acceptance_review
    newer = play_until(svc, scenario(), "preliminary_check")  # changed later: accepted an hour after opening
    login(client, "head")  # reads every case (officer1 takes no part in the older one yet)
    first = client.get("/cases").get_data(as_text=True)
    second = client.get("/cases?page=2").get_data(as_text=True)
    assert "第 1 / 2 页" in first and "第 2 / 2 页" in second
    assert newer.case.number in first and older.case.number not in first
    assert older.case.number in second
    assert newer.case.number not in client.get("/cases?status=closed").get_data(as_text=True)


def test_an_unknown_case_is_a_404_page(model, client):
    login(client, "head")
    response = client.get("/cases/99999")
    assert response.status_code == 404
    assert "案件不存在" in response.get_data(as_text=True)


def test_redaction_rules_in_one_place():
    data = {"complainant": {"name": "甲"}, "content": "电话 13800138000", "x": [{"complainant_phone": "1"}]}
    case = CaseFacts(1, members=frozenset({"officer1", "panel1"}))
    officer, panel = Person.of("officer1", ["officer"]), Person.of("panel1", ["panel"])
    assert redact_identity(data, identity_shown=may_see_identity(officer, case)) == data
    hidden = redact_complaint(data, identity_shown=may_see_identity(panel, case))
    assert hidden["complainant"] == "［已隐去］"
    assert "13800138000" not in hidden["content"]
    assert hidden["x"][0]["complainant_phone"] == "［已隐去］"
    assert {"intake", "officer", "head"} == IDENTITY_ROLES


def test_a_clerk_registers_a_complaint_through_the_generated_form(model, client, svc):
    from tests.web.webhelpers import PIN, post

    login(client, "clerk")
    page = client.get("/cases/new").get_data(as_text=True)
    assert 'name="complainant.name"' in page and 'name="respondent.kind"' in page
    form = {"channel": "hotline_12345", "received_at": "2026-09-15T10:30", "complainant.anonymous": "",
            "complainant.name": "王五", "complainant.phone": "13700000000", "respondent.name": "某某游泳馆",
            "respondent.kind": "organisation", "respondent.address": "呈州市中山路3号",
            "violation_type": "public_place_unlicensed", "content": "游泳馆无证经营。",
            "attachments.0.name": "", "attachments.0.sha256": "", "pin": PIN}
    response = post(client, "/cases/new", form, token_from="/cases/new")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "某某游泳馆" in html
    assert "王五" in html


def test_a_complaint_with_errors_comes_back_with_the_errors_at_their_fields(model, client):
    from tests.web.webhelpers import post

    login(client, "clerk")
    form = {"channel": "letter", "received_at": "2026-09-15T10:30", "complainant.name": "王五",
            "respondent.name": "某某游泳馆", "respondent.kind": "organisation", "respondent.address": "中山路3号",
            "violation_type": "other", "content": "内容"}
    response = post(client, "/cases/new", form, token_from="/cases/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-complainant-phone"' in html  # named complainant: phone is required (if/then)
    assert "某某游泳馆" in html
