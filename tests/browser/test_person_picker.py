"""People are picked, not typed, in Chromium: the head appoints the 合议 panel by ticking members in the list of
those eligible (姓名 · 单位 · 执法证号) — one of them with the keyboard alone — and choosing the presiding member
from a list; the step records their login ids and the page then shows their names."""

from __future__ import annotations

import pytest

from engine.usecases.tasks import list_tasks, show_task
from tests.browser.conftest import USERS_AND_MODEL, shot
from tests.browser.test_browser_flows import log_in
from tests.dbtemplates import MIGRATED, Template, starting_point
from tests.web.webcases import play_until, scenario
from tests.web.webhelpers import PIN

pytestmark = pytest.mark.browser

AT_APPOINT_PANEL = USERS_AND_MODEL.then("a penalty case up to appoint_panel",
                                        lambda svc: play_until(svc, scenario(), "appoint_panel"))


@pytest.fixture
def db_template(request: pytest.FixtureRequest) -> Template:
    return starting_point(request, MIGRATED, live=USERS_AND_MODEL, at_appoint_panel=AT_APPOINT_PANEL)


@pytest.fixture
def at_appoint_panel(live: str, template_result: object) -> object:
    return template_result


def test_the_head_picks_the_panel_from_the_list_of_eligible_members(page, svc, at_appoint_panel):
    task = next(t for t in list_tasks(svc, case=at_appoint_panel.case.number) if t.spec_id == "appoint_panel")
    log_in(page, "head")
    page.goto(f"/tasks/{task.id}")
    members = page.locator("fieldset.persons#f-panel_members")
    labels = members.locator("label").all_inner_texts()
    assert "周合议 · 测试科 · 呈卫执 2021-0033（有效期至 2031-12-31）" in [t.strip() for t in labels]
    assert not any("承办" in t or "局长" in t for t in labels)  # officers and heads are not panel members
    page.get_by_label("周合议", exact=False).first.check()
    page.get_by_label("吴合议", exact=False).first.check()
    third = members.locator("input[value='panel3']")
    third.focus()
    page.keyboard.press("Space")  # reachable and operable by keyboard
    assert third.is_checked()
    page.select_option("#f-presiding_member", "panel1")
    assert "周合议" in page.locator("#f-presiding_member option:checked").inner_text()
    shot(page, "person-picker")
    page.fill("#pin", PIN)
    page.click("form.task-form button.primary")
    page.wait_for_load_state()
    assert f"/tasks/{task.id}" not in page.url
    done = show_task(svc, task.id)
    assert done.status == "completed"
    assert done.form_data["panel_members"] == ["panel1", "panel2", "panel3"]
    assert done.form_data["presiding_member"] == "panel1"
    page.goto(f"/tasks/{task.id}")
    assert "周合议、吴合议、郑合议" in page.inner_text("dl.data")
