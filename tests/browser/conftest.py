"""Real Chromium (Debian's, never a downloaded one) against the workbench served on 127.0.0.1."""

from __future__ import annotations

import contextlib
import pathlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from engine.services import Services
from tests.dbtemplates import MIGRATED, Template, starting_point
from tests.web.webcases import START, case_with_evidence, load_model, play_until, scenario
from tests.web.webhelpers import PASSWORD, MovableClock, add_users
from web.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = pathlib.Path(__file__).resolve().parent / "artifacts"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not pathlib.Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run scripts/setup.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def _users_and_model(svc: Services) -> None:
    clock = MovableClock(START)
    add_users(svc, clock)
    load_model(svc, clock, PASSWORD)


USERS_AND_MODEL = MIGRATED.then("browser test users and the process model", _users_and_model)
AT_LEGAL_REVIEW = USERS_AND_MODEL.then("a penalty case up to legal_review",
                                       lambda svc: play_until(svc, scenario(), "legal_review"))
WITH_EVIDENCE = USERS_AND_MODEL.then("a penalty case with evidence files at 证据登记", case_with_evidence)


@pytest.fixture
def db_template(request: pytest.FixtureRequest) -> Template:
    return starting_point(request, MIGRATED, live=USERS_AND_MODEL, at_legal_review=AT_LEGAL_REVIEW,
                          evidence_case=WITH_EVIDENCE)


@pytest.fixture
def at_legal_review(live: str, template_result: object) -> object:
    """The default penalty case played up to legal_review (a copy of a session template)."""
    return template_result


@pytest.fixture
def evidence_case(live: str, template_result: object) -> object:
    """The default penalty case at 证据登记 with evidence files to pick (tests/web/webcases.py `case_with_evidence`:
    a `WithEvidence`), a copy of a session template."""
    return template_result


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(START)


@pytest.fixture
def live(svc: Services, clock: MovableClock) -> Iterator[str]:
    """The app with users and the model (from the template), served by a thread on a free port; yields its base
    URL."""
    import datetime as dt

    clock.moment = START + dt.timedelta(days=5)
    app = create_app({"SECRET_KEY": "browser-test", "CASETRAIL_CLOCK": clock}, services=svc)
    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextlib.contextmanager
def watched_page(browser: object, live: str, **options: Any) -> Iterator[object]:
    """A page in a context of its own, in Chinese; a script that fails on it (e.g. app.js that does not parse)
    fails the test that saw it."""
    context = browser.new_context(base_url=live, locale="zh-CN", **options)  # type: ignore[attr-defined]
    page = context.new_page()
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(f"{page.url}: {error}"))
    yield page
    context.close()
    assert not script_errors, "the page's scripts failed:\n" + "\n".join(script_errors)


@pytest.fixture
def page(browser: object, live: str) -> Iterator[object]:
    with watched_page(browser, live, viewport={"width": 1366, "height": 900}) as page:
        yield page


def shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
