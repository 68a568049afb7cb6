"""Issue 15 in Chromium: a decision prefilled. The head opens 处罚决定 and finds the facts and evidence, the basis,
the fine with the 裁量基准 beside it and the standing wording already there, each marked where it came from;
nothing asks for a 文号. Signed without retyping, the decision records what was shown and the engine's 文号."""

from __future__ import annotations

import pytest

from engine.usecases.tasks import list_tasks, show_task
from tests.browser.conftest import USERS_AND_MODEL, shot
from tests.browser.test_browser_flows import log_in
from tests.dbtemplates import Template, starting_point
from tests.web.carrycases import FACTS_AND_EVIDENCE, REPORT, carried_scenario
from tests.web.webcases import play_until
from tests.web.webhelpers import PIN

pytestmark = pytest.mark.browser

AT_DECISION = USERS_AND_MODEL.then("a penalty case with its own report, up to make_decision",
                                   lambda svc: play_until(svc, carried_scenario(), "make_decision"))


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, at_decision=AT_DECISION)


@pytest.fixture
def at_decision(live: str, template_result: object) -> object:
    return template_result


def test_a_decision_prefilled_is_signed_without_retyping(page, svc, at_decision):
    task = next(t for t in list_tasks(svc, case=at_decision.case.number) if t.spec_id == "make_decision")
    log_in(page, "head")
    page.goto(f"/tasks/{task.id}")

    assert page.input_value("#f-facts_and_evidence") == FACTS_AND_EVIDENCE
    assert page.input_value("#f-basis") == REPORT["legal_basis"]
    assert page.input_value("#f-final_fine") == "3000"
    assert page.is_checked("#f-final_warning")
    assert page.inner_text("[data-carried='facts_and_evidence']") == "取自事先告知"
    assert page.inner_text("[data-benchmark='final_fine']") == "裁量基准：1,500–3,500 元"
    assert page.locator("[name='decision_number']").count() == 0
    assert page.inner_text("[data-fixed='decision_number'] .fixed-value") == "签发时由系统自动编号"
    shot(page, "decision-prefilled")

    page.fill("#pin", PIN)  # the decision date starts at now: nothing else is typed
    page.click("form.task-form button.primary")
    page.wait_for_load_state()
    assert f"/tasks/{task.id}" not in page.url, page.inner_text("main")[:2000]
    done = show_task(svc, task.id)
    assert done.status == "completed"
    data = done.form_data or {}
    assert (data["facts_and_evidence"], data["basis"], data["final_fine"]) == (FACTS_AND_EVIDENCE, REPORT["legal_basis"],
                                                                             3000)
    assert data["decision_number"] == "呈卫罚〔2026〕001号"
