"""Roles are checked on every request: a page a role may not use answers 403, not just a hidden link."""

from __future__ import annotations

import pytest

from engine.usecases.definitions import store_default_definition
from tests.web.webhelpers import USERS, csrf_token, login

WORK = {"clerk", "officer1", "officer2", "panel1", "panel2", "panel3", "legal", "head", "publisher"}
CASE = WORK | {"auditor"}

GET_ROUTES: list[tuple[str, set[str]]] = [
    ("/tasks", WORK),
    ("/cases", CASE),
    ("/cases/new", {"clerk"}),
    ("/deliberation", {"panel1", "panel2", "panel3", "head", "officer1", "officer2", "legal"}),
    ("/dashboard", {"head"}),
    ("/audit", {"auditor"}),
    ("/admin/users", {"admin"}),
    ("/admin/definitions", {"admin"}),
    ("/admin/settings", {"admin", "head", "auditor"}),
    ("/admin/calendar", {"admin"}),
    ("/admin/signing-pins", {"admin", "head"}),
    ("/api/tasks", CASE),
]

POST_ROUTES: list[tuple[str, set[str]]] = [
    ("/admin/users", {"admin"}),
    ("/admin/definitions", {"admin"}),
    ("/admin/calendar", {"admin"}),
    ("/admin/users/officer1/unblock-pin", {"admin", "head"}),
    ("/audit/verify", {"auditor"}),
    ("/audit/bundle", {"auditor"}),
    ("/tasks/no-such-task/assign", {"head"}),
    ("/cases/new", {"clerk"}),
]


@pytest.fixture
def loaded(app, svc, clock):
    store_default_definition(svc=svc, clock=clock)
    return app


@pytest.mark.parametrize("user", sorted(USERS))
def test_every_route_is_forbidden_to_roles_that_may_not_use_it(loaded, user):
    client = loaded.test_client()
    login(client, user)
    for path, allowed in GET_ROUTES:
        status = client.get(path).status_code
        assert status == (200 if user in allowed else 403), (path, user, status)
    token = csrf_token(client, "/account/password")  # every user has it (/public has no form: no logout there)
    for path, allowed in POST_ROUTES:
        if user not in allowed:
            assert client.post(path, data={"csrf_token": token}).status_code == 403, (path, user)


@pytest.mark.parametrize("path", [p for p, _ in GET_ROUTES if not p.startswith("/api")])
def test_anonymous_visitors_are_sent_to_login(loaded, path):
    response = loaded.test_client().get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_api_answers_json_errors(loaded):
    client = loaded.test_client()
    login(client, "admin")
    response = client.get("/api/tasks")
    assert response.status_code == 403
    assert response.is_json


def test_public_needs_no_login(loaded):
    assert loaded.test_client().get("/public").status_code == 200


@pytest.mark.parametrize("path", [p for p, _ in POST_ROUTES])
def test_post_without_csrf_token_is_refused_even_for_the_right_role(loaded, path):
    allowed = dict(POST_ROUTES)[path]
    client = loaded.test_client()
    login(client, sorted(allowed)[0])
    assert client.post(path, data={"anything": "x"}).status_code == 400
