"""Issue 15 "Heads": in Chromium, a head picks two tasks of the team view, reassigns them with a reason and reads
the confirmation by name — and the page is usable on a 390 px phone."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.usecases.tasks import claim_task, list_tasks, show_task
from engine.values import ClaimTask
from tests.browser.conftest import shot, watched_page
from tests.web.webcases import START, play_until, scenario
from tests.web.webhelpers import PASSWORD, PIN

pytestmark = pytest.mark.browser


def _held_check(svc, hours: int):
    played = play_until(svc, scenario(), "preliminary_check", start=START + dt.timedelta(hours=hours))
    task = next(t for t in list_tasks(svc, case=played.case.number) if t.spec_id == "preliminary_check")
    claim_task(ClaimTask(task.id, "officer1"), svc=svc, clock=lambda: task.created_at + dt.timedelta(minutes=5))
    return task


def _log_in(page, user: str) -> None:
    page.goto("/login")
    page.fill("#user_id", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_a_heads_batch_reassignment(browser, live, svc):
    first, second = _held_check(svc, 0), _held_check(svc, 3)
    with watched_page(browser, live, viewport={"width": 1366, "height": 900}) as page:
        _log_in(page, "head")
        page.goto("/team?holder=officer1")
        for task in (first, second):
            page.check(f"tr[data-task='{task.id}'] input[name=task]")
        page.select_option("#assignee", label="赵承办 · 测试科")
        page.fill("#reason", "王承办病假，由赵承办接办")
        page.fill("#pin", PIN)
        page.click("#reassign-chosen")
        page.wait_for_selector("#reassigned")
        rows = page.locator("table.handovers td.handover").all_inner_texts()
        assert rows == ["王承办 → 赵承办", "王承办 → 赵承办"]
        body = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
        assert first.case_number in body and second.case_number in body
        assert "officer1" not in body and "officer2" not in body  # names, never login ids
        shot(page, "team-batch-reassigned")
    assert {show_task(svc, t.id).assignee for t in (first, second)} == {"officer2"}


def test_the_team_view_fits_a_390_px_phone(browser, live, svc):
    _held_check(svc, 0)
    with watched_page(browser, live, viewport={"width": 390, "height": 844}) as page:
        _log_in(page, "head")
        page.goto("/team")
        assert page.locator("input[name=task]").count() >= 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.locator("#reassign-chosen").is_visible()
        shot(page, "team-390")
