"""Forms in Chromium. 证据登记 with an error in a repeatable row: a row added with "add a row", the rows come back
whole (each its name, kind, file picked, quantity, source) with the error marked in its row, the officer fixes it
and submits again, and the step records the rows as typed. The complaint form: the registration time starts at
now, and 姓名/电话 are starred only while the complainant is not anonymous."""

from __future__ import annotations

import pytest

from engine.usecases.tasks import list_tasks, show_task
from engine.usecases.viewer import case_for_viewer
from tests.browser.conftest import shot
from tests.browser.test_browser_flows import log_in
from tests.web.webcases import evidence_items
from tests.web.webhelpers import PIN

pytestmark = pytest.mark.browser


def _star_shown(page, name: str) -> bool:
    return page.locator(f"label[for='f-{name}'] .req").is_visible()


def _fill_row(page, index: int, item: dict) -> None:
    row = f"evidence_items.{index}"
    page.fill(f"[name='{row}.name']", item["name"])
    page.select_option(f"[name='{row}.kind']", item["kind"])
    page.check(f"[name='{row}.file_id'][value='{item['file_id']}']")
    page.fill(f"[name='{row}.quantity']", item["quantity"])
    page.fill(f"[name='{row}.source']", item["source"])


def test_a_row_with_an_error_is_fixed_and_the_evidence_registered_with_its_rows(page, svc, evidence_case):
    task = next(t for t in list_tasks(svc, case=evidence_case.number) if t.spec_id == "register_evidence")
    log_in(page, task.assignee or "officer1")
    page.goto(f"/tasks/{task.id}")
    items = evidence_items(evidence_case)
    rows = [items[0], {**items[1], "name": ""}]  # the second's name forgotten
    _fill_row(page, 0, rows[0])
    page.click("fieldset[data-rows='evidence_items'] .add-row")
    _fill_row(page, 1, rows[1])
    page.check("input[name='next_action'][value=final_report]")
    page.fill("#pin", PIN)
    page.click("form.task-form button.primary")
    page.wait_for_load_state()

    assert "请修改下面标红的 1 处" in page.inner_text(".alert-error")
    bad_row = page.locator(".row-item[data-row='1']")
    assert bad_row.locator("#e-evidence_items-1-name").inner_text() == "必填"
    for index, item in enumerate(rows):
        row = page.locator(f".row-item[data-row='{index}']")
        for key in ("name", "kind", "quantity", "source"):
            assert row.locator(f"[name='evidence_items.{index}.{key}']").input_value() == item[key]
        assert row.locator(f"[name='evidence_items.{index}.file_id'][value='{item['file_id']}']").is_checked()
    assert page.locator(".row-list [name^='evidence_items.2']").count() == 0  # no row split off
    assert page.is_checked("input[name='next_action'][value=final_report]")
    shot(page, "form-row-error")

    page.fill("[name='evidence_items.1.name']", items[1]["name"])
    page.fill("#pin", PIN)
    page.click("form.task-form button.primary")
    page.wait_for_load_state()
    assert f"/tasks/{task.id}" not in page.url
    done = show_task(svc, task.id)
    assert done.status == "completed" and done.form_data["evidence_items"] == items


def test_the_complaint_form_starts_at_now_and_stars_what_is_required_while_it_is(page, svc):
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
    page.fill("#pin", PIN)
    page.click("button.primary")
    page.wait_for_load_state()
    assert "/cases/" in page.url and "new" not in page.url
    case = case_for_viewer(svc, int(page.url.rsplit("/", 1)[1]), "clerk")
    assert case.intake["received_at"] == "2026-09-19T09:00:00+08:00"
    assert case.intake["complainant"] == {"anonymous": False, "name": "王五", "phone": "0571-87001234"}
