"""Accessibility in real Chromium: axe-core on every main page (zh and en, a laptop and a 390 px phone) finds no
serious or critical violation; the task page is usable from the keyboard alone; on a phone the task list's
filters fold into a <details> above the list."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from engine.usecases.documents import list_documents
from engine.usecases.drafts import save_draft
from engine.usecases.tasks import claim_task, list_tasks
from engine.values import ClaimTask, SaveDraft
from tests.browser.conftest import USERS_AND_MODEL, watched_page
from tests.dbtemplates import Template, starting_point
from tests.web.webcases import case_with_evidence, play_until, scenario
from tests.web.webhelpers import PASSWORD

IMPACTS = ("serious", "critical")
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

# The case at 证据登记 with evidence files (a form with the upload widget), a penalty case played to its
# publication (documents, a deliberation, a public entry), one at 受理审查 (person pickers) and one at 法制审核
# (the case summary above the form).
CASES = USERS_AND_MODEL.then("a penalty case with evidence files at 证据登记", case_with_evidence).then(
    "a published penalty case up to record_payment", lambda svc: play_until(svc, scenario(), "record_payment")).then(
    "a penalty case at acceptance_review", lambda svc: play_until(svc, scenario(), "acceptance_review")).then(
    "a penalty case up to legal_review", lambda svc: play_until(svc, scenario(), "legal_review"))
# What the legal reviewer typed and left: the page restores it with its notice.
DRAFT = {"legal_opinion": ["Facts and evidence agree; the fine is within the benchmark."]}


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, cases=CASES)


@dataclass(frozen=True)
class Cases:
    evidence_case: int
    evidence_task: str  # claimed by officer1: the form, the file picker and the submit button are on its page
    published_case: int
    published_task: str
    picker_task: str  # 受理审查: the head picks the case officers
    review_task: str  # 法制审核: the case summary, and the reviewer's restored draft


@pytest.fixture
def cases(live: str, svc: Any, clock: Any, db_templates: Any, db_backend: str) -> Cases:
    evidence, published, accepting, reviewing = db_templates.results(CASES, db_backend)[-4:]
    [task] = list_tasks(svc, case=evidence.number)
    if task.assignee != "officer1":
        claim_task(ClaimTask(task.id, "officer1"), svc=svc, clock=clock)
    assert list_documents(svc, published.case.id)
    [later, *_] = list_tasks(svc, case=published.case.number)
    [picker] = list_tasks(svc, case=accepting.case.number)
    [review] = list_tasks(svc, case=reviewing.case.number)
    save_draft(SaveDraft(user_id="legal", task_id=review.id, fields=DRAFT), svc=svc, clock=clock)
    return Cases(evidence.case_id, task.id, published.case.id, later.id, picker.id, review.id)


def _pages(c: Cases) -> dict[str | None, list[str]]:
    """The main pages, by the user who opens them (None: not logged in)."""
    return {
        None: ["/login", "/public", f"/public/{c.published_case}"],
        "officer1": ["/tasks", f"/tasks/{c.evidence_task}", f"/cases/{c.evidence_case}", "/deliberation",
                     f"/deliberation/{c.published_case}", "/account/password"],
        "head": ["/dashboard", f"/cases/{c.published_case}", f"/tasks/{c.published_task}", "/cases", "/team",
                 f"/team/tasks/{c.evidence_task}/urge", f"/tasks/{c.picker_task}"],
        "legal": [f"/tasks/{c.review_task}"],
        "clerk": ["/cases/new"],
        "auditor": ["/audit"],
        "admin": ["/admin/users", "/admin/users/officer1", "/admin/definitions", "/admin/settings",
                  "/admin/signing-pins", "/admin/calendar", "/admin/agencies", "/admin/agencies/cz"],
    }


def _shows(c: Cases) -> dict[str, tuple[str, ...]]:
    """What a page is on the list for, as selectors it must match: axe checks those parts, not a page without them."""
    return {f"/tasks/{c.picker_task}": ("fieldset.persons input[type=checkbox]",),
            f"/tasks/{c.review_task}": ("#case-summary .summary-entry", ".draft-notice"),
            f"/team/tasks/{c.evidence_task}/urge": (".urge-holders bdi",), "/team": ("table.team tbody tr",),
            f"/public/{c.published_case}": ("header.public-top",)}


def _login(page: Any, user_id: str) -> None:
    page.goto("/login")
    page.fill("#user_id", user_id)
    page.fill("#password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"{user_id} could not log in"


@pytest.fixture
def axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def _serious(axe: Any, page: Any) -> list[str]:
    results = axe.run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] if isinstance(n["target"][0], str)
                                                                  else str(n["target"]) for n in v["nodes"][:4])
            for v in results.response["violations"] if v["impact"] in IMPACTS]


def test_the_check_reports_what_axe_calls_serious_or_critical(browser, axe):
    context = browser.new_context()
    page = context.new_page()
    page.set_content('<html><body><main><img src="data:,"><p style="color:#ccc;background:#fff">faint</p>'
                     '<button></button></main></body></html>')
    found = " ".join(_serious(axe, page))
    context.close()
    assert "image-alt (critical)" in found and "button-name (critical)" in found
    assert "color-contrast (serious)" in found


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_serious_or_critical_axe_violation_on_the_main_pages(browser, live, cases, axe, viewport):
    found: dict[str, list[str]] = {}
    checked = 0
    shows = _shows(cases)
    for user_id, paths in _pages(cases).items():
        with watched_page(browser, live, viewport=viewport) as page:
            if user_id:
                _login(page, user_id)
            for language in ("zh", "en"):
                for path in paths:
                    response = page.goto(f"{path}?lang={language}")
                    assert response is not None and response.ok, f"{path} as {user_id}: {response and response.status}"
                    assert page.locator("html").get_attribute("lang") == ("zh-CN" if language == "zh" else "en")
                    checked += 1
                    for selector in shows.get(path, ()):
                        assert page.locator(selector).count(), f"{path} ({language}): nothing matches {selector}"
                    problems = _serious(axe, page)
                    if problems:
                        found[f"{path} ({language}, {user_id})"] = problems
    assert checked == 2 * sum(len(p) for p in _pages(cases).values())
    assert not found, "axe found serious or critical violations:\n" + "\n".join(
        f"{where}:\n  " + "\n  ".join(problems) for where, problems in found.items())


def _focus_path(page: Any, limit: int = 250) -> Iterator[dict[str, Any]]:
    """Tab through the page from its top: what has the focus after each key press."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        yield page.evaluate("""() => { const e = document.activeElement; return {
            tag: e.tagName.toLowerCase(), type: e.getAttribute('type') || '', text: (e.innerText || '').trim(),
            id: e.id, form: e.closest('form') ? e.closest('form').className : '' }; }""")


def test_the_task_page_is_usable_from_the_keyboard(browser, live, cases):
    with watched_page(browser, live, viewport=DESKTOP) as page:
        _login(page, "officer1")
        page.goto(f"/tasks/{cases.evidence_task}?lang=en")
        page.keyboard.press("Tab")
        first = page.evaluate("() => document.activeElement.className")
        assert first == "skip-link"
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.id") == "main"  # the skip link moved the focus

        page.goto(f"/tasks/{cases.evidence_task}?lang=en")
        reached_file_picker = reached_submit = False
        for focused in _focus_path(page):
            reached_file_picker |= focused["tag"] == "input" and focused["type"] == "file"
            if focused["tag"] == "button" and focused["type"] == "submit" and "task-form" in focused["form"]:
                reached_submit = True
                assert focused["text"] == "Sign and submit"
                break
        assert reached_file_picker, "Tab never reached the file picker"
        assert reached_submit, "Tab never reached the form's submit button"


def test_on_a_phone_the_task_filters_fold_above_the_list(browser, live, cases):
    with watched_page(browser, live, viewport=PHONE) as page:
        _login(page, "officer1")
        page.goto("/tasks?lang=en")
        summary = page.locator(".filters details.filter-fold > summary")
        facet = page.locator(".filters .facets a").first
        assert summary.is_visible()
        assert not facet.is_visible()  # folded away
        assert page.locator(".filters").bounding_box()["y"] < page.locator(".results").bounding_box()["y"]
        summary.focus()
        page.keyboard.press("Enter")  # a summary opens from the keyboard too
        assert facet.is_visible()

    with watched_page(browser, live, viewport=DESKTOP) as page:
        _login(page, "officer1")
        page.goto("/tasks?lang=en")
        assert not page.locator(".filters details.filter-fold > summary").is_visible()
        assert page.locator(".filters .facets a").first.is_visible()  # beside the list, nothing to unfold
