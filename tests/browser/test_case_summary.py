"""A panel member opens their vote on a phone: the case summary stands above the form, with the evidence files
the signed steps took, and no tally while the round is open."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.demo import play_step
from engine.spiff.clocks import MutableClock
from engine.usecases.tasks import list_tasks
from tests.browser.conftest import shot, watched_page
from tests.browser.test_browser_flows import log_in
from tests.web.webcases import START, index_of, scenario
from tests.web.webhelpers import PIN

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _to_the_panel(svc, number: str) -> None:
    """The evidence case played on from 证据登记 to the panel's vote."""
    sc = scenario()
    clock = MutableClock(START + dt.timedelta(days=1))
    for step in sc.steps[index_of(sc, "register_evidence"):index_of(sc, "panel_vote")]:
        clock.advance_to(clock() + dt.timedelta(hours=1))
        play_step(svc, number, step, clock, pin=PIN)


def test_the_panel_vote_page_opens_with_the_summary_and_its_evidence_files_on_a_phone(browser, live, svc,
                                                                                     evidence_case):
    _to_the_panel(svc, evidence_case.number)
    vote = next(t for t in list_tasks(svc, case=evidence_case.number) if t.spec_id == "panel_vote")
    member = vote.assignee or "panel1"
    with watched_page(browser, live, viewport=PHONE) as page:
        log_in(page, member)
        page.goto(f"/tasks/{vote.id}")
        summary = page.locator("#case-summary")
        assert summary.is_visible()
        files = summary.locator(".summary-files li")
        assert files.count() == 2  # not the parties' drawn signatures: files of their steps, but no evidence
        assert {files.nth(i).locator("a").inner_text() for i in range(2)} == {"门口.jpg", "执法记录仪.mp4"}
        text = summary.inner_text()
        assert "认定的违法事实" in text and "裁量基准" in text
        assert "合议尚未结束" in text  # no tally while the round is open
        assert "举报材料.pdf" not in text  # the clerk's staged complaint material is not in the summary
        # above the form, and readable at 390 px: nothing wider than the screen
        form_top = page.locator("form.task-form").bounding_box()["y"]
        assert summary.bounding_box()["y"] < form_top
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "case_summary_panel_vote_phone")
