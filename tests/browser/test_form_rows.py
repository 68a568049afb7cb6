"""A form with an error in a repeatable row, in Chromium: the rows come back whole with the error marked in its
row, the clerk fixes it and submits again, and the case is registered with the rows as typed. On the way: the
registration time starts at now, and 姓名/电话 are starred only while the complainant is not anonymous."""

from __future__ import annotations

import pytest

from engine.usecases.viewer import case_for_viewer
from tests.browser.conftest import shot
from tests.browser.test_browser_flows import log_in
from tests.web.webhelpers import PIN

pytestmark = pytest.mark.browser

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def _star_shown(page, name: str) -> bool:
    return page.locator(f"label[for='f-{name}'] .req").is_visible()


def test_a_row_with_an_error_is_fixed_and_the_complaint_registered_with_its_rows(page, svc):
    log_in(page, "clerk")
    page.goto("/cases/new")
    assert page.input_value("#f-received_at") == "2026-09-19T09:00"  # now, in the agency's time
    assert _star_shown(page, "complainant-name") and _star_shown(page, "complainant-phone")
    page.check("#f-complainant-anonymous")
    assert not _star_shown(page, "complainant-name") and not _star_shown(page, "complainant-phone")
    page.uncheck("#f-complainant-anonymous")
    assert _star_shown(page, "complainant-name")

    page.select_option("#f-channel", "letter")
    page.fill("#f-complainant-name", "王五")
    page.fill("#f-complainant-phone", "0571-87001234")
    page.fill("#f-respondent-name", "某某游泳馆")
    page.check("input[name='respondent.kind'][value=organisation]")
    page.fill("#f-respondent-credit_code", "91110000600037341L")
    page.fill("#f-respondent-address", "呈州市中山路3号")
    page.select_option("#f-violation_type", "other")
    page.fill("#f-content", "游泳馆无证经营。")
    page.fill("[name='attachments.0.name']", "门头.jpg")
    page.fill("[name='attachments.0.sha256']", SHA)
    page.fill("[name='attachments.0.size']", "1024")
    page.click("fieldset[data-rows='attachments'] .add-row")
    page.fill("[name='attachments.1.name']", "价目表.jpg")
    page.fill("[name='attachments.1.sha256']", "not-a-digest")
    page.fill("[name='attachments.1.size']", "2048")
    page.fill("#pin", PIN)
    page.click("button.primary")
    page.wait_for_load_state()

    assert "请修改下面标红的 1 处" in page.inner_text(".alert-error")
    bad_row = page.locator(".row-item[data-row='1']")
    assert bad_row.locator("#e-attachments-1-sha256").inner_text() == "格式不正确"
    for index, (name, digest, size) in enumerate([("门头.jpg", SHA, "1024"), ("价目表.jpg", "not-a-digest", "2048")]):
        row = page.locator(f".row-item[data-row='{index}']")
        assert row.locator(f"[name='attachments.{index}.name']").input_value() == name
        assert row.locator(f"[name='attachments.{index}.sha256']").input_value() == digest
        assert row.locator(f"[name='attachments.{index}.size']").input_value() == size
    assert page.locator(".row-list input[name^='attachments.2']").count() == 0  # no row split off
    shot(page, "form-row-error")

    page.fill("[name='attachments.1.sha256']", SHA)
    page.fill("#pin", PIN)
    page.click("button.primary")
    page.wait_for_load_state()
    assert "/cases/" in page.url and "new" not in page.url
    case = case_for_viewer(svc, int(page.url.rsplit("/", 1)[1]), "clerk")
    assert case.intake["attachments"] == [{"name": "门头.jpg", "sha256": SHA, "size": 1024},
                                        {"name": "价目表.jpg", "sha256": SHA, "size": 2048}]
    assert case.intake["received_at"] == "2026-09-19T09:00:00+08:00"
