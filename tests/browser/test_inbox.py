"""The inbox in Chromium: the legal reviewer sees the review offered to them, the header counts it, and marking
it read clears the count."""

from __future__ import annotations

import pytest

from tests.browser.conftest import shot
from tests.browser.test_browser_flows import log_in

pytestmark = pytest.mark.browser


def test_the_inbox_shows_a_notice_and_marks_it_read(page, svc, at_legal_review):
    log_in(page, "legal")
    badge = page.locator("#nav-inbox .unread-count")
    assert badge.inner_text() == "1"
    page.click("#nav-inbox")
    page.wait_for_load_state()
    row = page.locator("tr.notice.is-unread")
    assert row.count() == 1
    assert "有新的待办任务" in row.inner_text() and at_legal_review.case.number in row.inner_text()
    assert "法制审核" in row.inner_text()
    shot(page, "inbox")
    row.locator("button.mark-read").click()
    page.wait_for_load_state()
    assert "已将 1 条通知标为已读" in page.inner_text(".flash")
    assert page.locator("tr.notice.is-unread").count() == 0
    assert page.locator("tr.notice.is-read").count() == 1
    assert page.locator("#nav-inbox .unread-count").count() == 0
