"""Deadlines in 2027, a year whose holiday schedule nobody has entered yet, are marked provisional (暂定) on every
page and in the API; the administrator's pages ask for the schedule, and once it is entered — in another
worker — the marks go and the days move.

Today is Sunday 2026-12-06: a case filed today has its 90-day decision clock end in 2027 (docs/calendar.md).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask.testing import FlaskClient

from engine.rules.settings import load_settings
from engine.startup import build_services
from tests.conftest import TEST_KDF_COST, at
from tests.web.webcases import play_until, scenario
from tests.web.webhelpers import login, post
from web.app import create_app

TODAY = at("2026-12-06 09:00")
# TEST DATA — not the State Council's 2027 notice (no source carries it yet): Monday 2027-03-08 off.
TEST_SCHEDULE = {"year": "2027", "reference": "测试数据 TEST-2027（非真实通知 not a real notice）",
                 "days_off": "2027-01-01\n2027-03-08", "workdays": "2027-03-13", "complete": "1"}
BADGE = re.compile(r'class="badge provisional" data-provisional="2027"')


@pytest.fixture
def filed(model, svc, clock):
    """A case filed today, waiting for officer1's investigation report (decision clock: 2027-03-08)."""
    played = play_until(svc, scenario(), "investigation_report", start=TODAY)
    clock.moment = TODAY + dt.timedelta(hours=8)
    return played.case


@pytest.fixture
def other_worker(filed, db_url, tmp_path, clock) -> FlaskClient:
    """A second app on its own Services: what another gunicorn worker serves."""
    services = build_services(db_url, settings=load_settings(), keys_dir=tmp_path / "agency-keys",
                              kdf_cost=TEST_KDF_COST, upgrade=False, calendar_max_age=0)
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "CASETRAIL_CLOCK": clock}, services=services)
    yield app.test_client()
    services.engine.dispose()


def _pages(client: FlaskClient, case) -> dict[str, str]:
    [task] = [t for t in client.get("/api/tasks").get_json() if t["case_number"] == case.number]
    return {"tasks": client.get("/tasks").get_data(as_text=True),
            "case": client.get(f"/cases/{case.id}").get_data(as_text=True),
            "task": client.get(f"/tasks/{task['id']}").get_data(as_text=True)}


def test_every_page_and_the_api_mark_a_2027_deadline_provisional(filed, client):
    login(client, "officer1")
    for name, html in _pages(client, filed).items():
        assert BADGE.search(html), name
        assert "暂定" in html, name
    [task] = [t for t in client.get("/api/tasks").get_json() if t["case_number"] == filed.number]
    assert (task["provisional"], task["uncovered_years"], task["due_at"][:10]) == (True, [2027], "2027-03-08")
    case = client.get(f"/api/cases/{filed.id}").get_json()
    [decision] = [d for d in case["deadlines"] if d["task_id"] is None]
    assert (decision["provisional"], decision["due_at"][:10]) == (True, "2027-03-08")
    assert all(t["provisional"] for t in case["open_tasks"])
    english = client.get(f"/cases/{filed.id}?lang=en").get_data(as_text=True)
    assert ">provisional<" in english and "no holiday schedule for 2027 yet" in english


def test_the_admin_is_asked_for_the_schedule_and_entering_it_clears_the_marks_in_another_worker(
        filed, client, other_worker):
    login(client, "admin")
    for path in ("/admin/settings", "/admin/calendar"):
        html = client.get(path).get_data(as_text=True)
        assert 'id="missing-schedule" data-years="2027"' in html, path
    response = post(client, "/admin/calendar/schedule", TEST_SCHEDULE, token_from="/admin/calendar")
    assert response.status_code == 302
    assert "重算期限 1 个" in client.get("/admin/calendar").get_data(as_text=True)
    login(other_worker, "officer1")
    pages = _pages(other_worker, filed)
    for name, html in pages.items():
        assert not BADGE.search(html), name
    assert "2027-03-09" in pages["case"]
    [task] = [t for t in other_worker.get("/api/tasks").get_json() if t["case_number"] == filed.number]
    assert (task["provisional"], task["due_at"][:10]) == (False, "2027-03-09")
    login(other_worker, "admin")
    assert 'id="missing-schedule"' not in other_worker.get("/admin/settings").get_data(as_text=True)
    calendar_page = other_worker.get("/admin/calendar").get_data(as_text=True)
    assert 'data-year="2027" data-coverage="schedule"' in calendar_page
    assert TEST_SCHEDULE["reference"] in calendar_page


@pytest.mark.parametrize(("field", "value"), [("year", "二〇二七"), ("days_off", "2027-02-30"),
                                               ("workdays", "2027-03-08"), ("reference", "")])
def test_a_refused_schedule_shows_the_field_and_changes_nothing(filed, client, svc, field, value):
    login(client, "admin")
    response = post(client, "/admin/calendar/schedule", {**TEST_SCHEDULE, field: value}, token_from="/admin/calendar")
    assert response.status_code == 422
    assert 'class="field has-error"' in response.get_data(as_text=True)
    assert not svc.calendar.covers(2027)
    assert svc.calendar.is_workday(dt.date(2027, 3, 8))


def test_only_an_administrator_may_enter_a_schedule(filed, client, svc):
    login(client, "head")
    assert "missing-schedule" in client.get("/admin/settings").get_data(as_text=True)  # heads see it too
    response = post(client, "/admin/calendar/schedule", TEST_SCHEDULE, token_from="/tasks")
    assert response.status_code == 403
    assert not svc.calendar.covers(2027)
