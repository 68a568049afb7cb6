"""/public on a 390 px phone (real Chromium): no sideways scrolling on the list or a decision, and the agency's own
header — no internal product name, no login."""

from __future__ import annotations

import pytest

from engine.spiff.driving import Step
from tests.browser.conftest import USERS_AND_MODEL, shot, watched_page
from tests.dbtemplates import Template, starting_point
from tests.web.webcases import play_until, scenario

# A long unbroken run (a URL-like reference, a credit code) is what pushes a narrow page sideways.
LONG = "当事人未取得卫生许可证从事美容美发服务，经查属实。参见" + "https://www.example.gov.cn/xzcf/" + "a" * 80
PUBLISHED = USERS_AND_MODEL.then("a published penalty with a long summary", lambda svc: play_until(svc, scenario(
    replace_steps={"prepare_publication": Step("prepare_publication", {
        "publish": True, "party_is_minor": False, "redacted_summary": LONG})}), None))


@pytest.fixture
def db_template(request: pytest.FixtureRequest) -> Template:
    return starting_point(request, USERS_AND_MODEL, published=PUBLISHED)


@pytest.fixture
def published(live: str, template_result: object) -> object:
    return template_result


def _overflow(page) -> tuple[int, int]:
    return page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_public_pages_fit_a_390_px_phone_without_sideways_scrolling(browser, live, published, lang):
    with watched_page(browser, live, viewport={"width": 390, "height": 844}, is_mobile=True,
                      device_scale_factor=3) as page:
        for path in ("/public", f"/public/{published.case.id}"):
            page.goto(f"{path}?lang={lang}")
            width, inner = _overflow(page)
            shot(page, f"public-390-{lang}-{path.strip('/').replace('/', '-')}")
            assert inner == 390
            assert width <= inner, f"{path} ({lang}) is {width} px wide on a {inner} px screen"
            header = page.locator("header").inner_text()
            assert "卫生监督案件办理" not in header and "casetrail" not in header
            assert "呈州市卫生健康委员会" in header
            assert page.locator("a[href*='/login']").count() == 0
            assert "卫生监督案件办理" not in page.title()
            # The demo's cases read like real ones: no form sample text (示例…) or XXX reaches a visitor.
            body = page.locator("body").inner_text()
            assert "示例" not in body and "XXX" not in body, body
