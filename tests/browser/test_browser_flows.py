"""The main flows in a real browser: complete a task with the PIN, vote, review, and read /public."""

from __future__ import annotations

import pytest

from engine.spiff.driving import Step
from engine.usecases.tasks import list_tasks
from tests.browser.conftest import shot
from tests.web.webcases import play_until, scenario
from tests.web.webhelpers import PASSWORD, PIN

pytestmark = pytest.mark.browser


def log_in(page, user: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.fill("#user_id", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_an_officer_completes_a_task_with_the_pin_and_it_leaves_the_list(page, svc):
    played = play_until(svc, scenario(), "preliminary_check")
    task = next(t for t in list_tasks(svc, case=played.case.number) if t.spec_id == "preliminary_check")
    log_in(page, "officer1")
    assert page.locator(f"tr[data-task='{task.id}']").count() == 1
    shot(page, "tasks")
    page.click(f"tr[data-task='{task.id}'] a.task-name")
    page.check("input[name=check_proposal][value=file]")
    page.fill("[name=case_cause]", "未取得公共场所卫生许可证擅自营业")
    page.fill("[name=facts_found]", "现场核查：该美容店正在营业，未能出示卫生许可证。")
    page.fill("[name=legal_basis]", "《公共场所卫生管理条例实施细则》第三十五条")
    page.check("input[name=facts_certain]")
    page.fill("[name=proposed_fine]", "3000")
    page.fill("#pin", PIN)
    shot(page, "task")
    page.click("button.primary")
    page.wait_for_load_state()
    assert "已办结" in page.inner_text(".flash")
    assert page.locator(f"tr[data-task='{task.id}']").count() == 0
    assert next(t for t in list_tasks(svc, case=played.case.number, include_done=True)
                if t.id == task.id).status == "completed"


def test_three_panel_members_vote_and_the_result_opens(page, svc):
    played = play_until(svc, scenario(), "panel_vote")
    choices = {"panel1": "penalty", "panel2": "penalty", "panel3": "no_penalty_facts"}
    for user, vote in choices.items():
        log_in(page, user)
        page.goto(f"/deliberation/{played.case.id}")
        if user == "panel2":
            assert "表决保密中" in page.content()
            assert "panel1 的意见" not in page.content()
        page.check(f"input[name=vote][value={vote}]")
        page.fill("[name=opinion]", f"{user} 的意见")
        page.fill("#pin", PIN)
        page.click("button.primary")
        page.wait_for_load_state()
        assert "已办结" in page.inner_text(".flash")
    page.goto(f"/deliberation/{played.case.id}")
    text = page.inner_text("main")
    assert "合议结果" in text and "给予行政处罚" in text
    assert "panel3 的意见" in text and "不同意见" in text
    shot(page, "deliberation")


def test_a_legal_reviewer_approves(page, svc, at_legal_review):
    played = at_legal_review
    task = next(t for t in list_tasks(svc, case=played.case.number) if t.spec_id == "legal_review")
    log_in(page, "legal")
    page.goto(f"/tasks/{task.id}")
    for name in ("check_jurisdiction", "check_facts", "check_basis", "check_procedure", "check_discretion",
                 "reviewer_qualified"):
        page.check(f"input[name={name}]")
    page.check("input[name=legal_conclusion][value=approve]")
    page.fill("[name=legal_opinion]", "事实清楚，证据确凿，程序合法，裁量适当。")
    page.fill("#pin", PIN)
    shot(page, "legal_review")
    page.click("button.primary")
    page.wait_for_load_state()
    assert "已办结" in page.inner_text(".flash")
    assert "make_decision" in {t.spec_id for t in list_tasks(svc, case=played.case.number)}


def test_the_public_page_shows_the_redacted_decision(page, svc):
    intake = {"content": "举报人身份证110101199003077777，手机13912345678。"}
    publish = Step("prepare_publication", {"publish": True, "party_is_minor": False,
                                           "redacted_summary": "当事人无证营业，举报人手机13912345678。"})
    played = play_until(svc, scenario(intake=intake, replace_steps={"prepare_publication": publish}), "record_payment")
    page.context.clear_cookies()
    page.goto("/public")
    shot(page, "public")
    page.click(f"a[href='/public/{played.case.id}']")
    page.wait_for_load_state()
    text = page.inner_text("main")
    assert "呈州市丽人美容店" in text
    assert "13912345678" not in page.content() and "110101199003077777" not in page.content()
    assert "＊＊＊" in text
    shot(page, "public_detail")


def test_pages_fit_a_tablet(page, svc):
    play_until(svc, scenario(), "acceptance_review")
    page.set_viewport_size({"width": 768, "height": 1024})
    log_in(page, "head")
    page.goto("/tasks")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 768
    shot(page, "tasks_tablet")
    page.goto("/dashboard")
    shot(page, "dashboard")


@pytest.mark.parametrize("width", [1366, 768])
def test_main_pages_fit_laptop_and_tablet_and_switch_to_english(page, svc, width, at_legal_review):
    played = at_legal_review
    page.set_viewport_size({"width": width, "height": 900})
    visits = {"head": [f"/cases/{played.case.id}", "/dashboard", "/cases"], "auditor": ["/audit"],
              "admin": ["/admin/users", "/admin/settings"], "clerk": ["/cases/new"]}
    for user, paths in visits.items():
        log_in(page, user)
        for path in paths:
            page.goto(path)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (user, path)
            shot(page, f"{user}{path.replace('/', '_')}_{width}")
    page.click("a[lang=en]")
    page.wait_for_load_state()
    assert "Case number" in page.content() or "Register a complaint" in page.content()
    assert page.locator("html").get_attribute("lang") == "en"


def test_an_auditor_verifies_a_case_and_sees_it_green(page, svc, at_legal_review):
    played = at_legal_review
    log_in(page, "auditor")
    page.goto("/audit")
    page.fill("#case", played.case.number)  # typed, with the current page's cases as suggestions
    page.click("form[action$='/audit/verify'] button[type=submit] >> nth=0")
    page.wait_for_load_state()
    assert "核验通过" in page.inner_text(".report h2")
    shot(page, "audit_report")
