"""The deliberation in a real browser against real `casetrail serve` processes: two servers, two gunicorn workers
each, every vote on a connection of its own and alternate votes on alternate servers, so no vote is handled by
the process that handled the one before (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.usecases.cases import case_data, show_case
from tests.browser.test_browser_flows import log_in
from tests.served import served
from tests.web.webcases import START, load_model, play_until, scenario
from tests.web.webhelpers import PASSWORD, PIN, MovableClock, add_users

pytestmark = pytest.mark.browser


@pytest.fixture
def servers(svc, tmp_path) -> Iterator[list[str]]:
    """Two `casetrail serve --workers 2` processes on the test's database; yields their base URLs."""
    clock = MovableClock(START)
    add_users(svc, clock)
    load_model(svc, clock, PASSWORD)
    with served(svc, tmp_path) as urls:
        yield urls


def test_a_deliberation_voted_through_different_server_processes_reaches_prior_notice(browser, svc, servers):
    played = play_until(svc, scenario(), "panel_vote")
    votes = {"panel1": "penalty", "panel2": "penalty", "panel3": "no_penalty_facts"}
    for index, (user, vote) in enumerate(votes.items()):
        # A new browser context per vote: its own connection, to the other server than the vote before.
        context = browser.new_context(base_url=servers[index % 2], locale="zh-CN")
        page = context.new_page()
        try:
            log_in(page, user)
            page.goto(f"/deliberation/{played.case.id}")
            page.check(f"input[name=vote][value={vote}]")
            page.fill("[name=opinion]", f"{user} 的意见")
            page.fill("#pin", PIN)
            page.click("button.primary")
            page.wait_for_load_state()
            assert "已办结" in page.inner_text(".flash")
        finally:
            context.close()
    case = show_case(svc, played.case.number)
    assert case.stage == "notice"
    assert [t.spec_id for t in case.open_tasks if not t.supervision] == ["prior_notice"]
    assert sorted(b["member"] for b in case_data(svc, played.case.number)["ballots"]) == sorted(votes)
    context = browser.new_context(base_url=servers[1], locale="zh-CN")
    page = context.new_page()
    log_in(page, "officer1")
    page.goto(f"/cases/{played.case.id}")
    assert "事先告知" in page.inner_text("main")
    context.close()
