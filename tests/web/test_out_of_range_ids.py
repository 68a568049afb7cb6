"""Ids no row can have are 404, never 500 (issue 13 item 7): every route with an `<int:…>` part, asked with
ids past what the database's integer holds, and the pages and references the issue found (SQLite, and
PostgreSQL when CASETRAIL_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import pytest

from engine.roles import all_roles
from engine.usecases.users import add_user
from engine.values import AddUser
from tests.web.webhelpers import PASSWORD, csrf_token, login

HUGE = [2**31, 10**30, 10**40]


@pytest.fixture
def everyone(model, client, clock, svc):
    """A client logged in as a user with every role, so no role check answers before the lookup does."""
    add_user(AddUser(user_id="everyone", name="全角色", password=PASSWORD, roles=list(all_roles())), svc=svc,
             clock=clock)
    login(client, "everyone")
    return client


def _int_routes(app):
    for rule in app.url_map.iter_rules():
        ints = [name for name, converter in rule._converters.items() if type(converter).__name__ == "IdConverter"]
        if ints:
            yield rule, ints


def test_the_walk_finds_the_routes_with_ids(app):
    paths = {rule.rule for rule, _ in _int_routes(app)}
    assert {"/public/<int:case_id>", "/deliberation/<int:case_id>", "/audit/cases/<int:case_id>/bundle",
            "/cases/<ref>/documents/<int:doc_id>"} <= paths


@pytest.mark.parametrize("huge", HUGE)
def test_every_route_with_an_id_answers_404_to_an_id_out_of_range(app, everyone, at_acceptance_review, huge):
    case_id = str(at_acceptance_review.case.id)
    token = csrf_token(everyone, "/tasks")
    for rule, ints in _int_routes(app):
        values = {name: huge if name in ints else case_id for name in rule.arguments}
        path = rule.rule
        for name, value in values.items():
            path = path.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = everyone.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
            assert response.status_code == 404, (method, path, response.status_code)


@pytest.mark.parametrize("path", [
    "/public/2147483648", "/public/" + "9" * 30, "/cases/" + "9" * 30, "/api/cases/" + "9" * 30,
    "/api/cases/2147483648", "/cases/2147483648", "/deliberation/" + "9" * 30, "/audit/cases/" + "9" * 30 + "/bundle",
])
def test_the_references_the_issue_found_are_404(everyone, path):
    assert everyone.get(path).status_code == 404


def test_a_document_past_the_range_of_an_existing_case_is_404(everyone, at_acceptance_review):
    assert everyone.get(f"/cases/{at_acceptance_review.case.id}/documents/{10**30}").status_code == 404


@pytest.mark.parametrize("path", ["/public", "/cases", "/tasks", "/audit"])
def test_a_page_number_of_forty_digits_is_no_error(everyone, path):
    response = everyone.get(f"{path}?page={'9' * 40}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


def test_the_public_pages_need_no_login_for_their_404(client):
    assert client.get("/public/2147483648").status_code == 404
    assert client.get("/public?page=" + "9" * 40).status_code == 200
