"""Web fixtures: the app over the `svc` database (SQLite, and PostgreSQL when configured), users, a clock.

The users, and for `model` the process model, are in the database template the test's copy starts from
(built once per session: tests/dbtemplates.py)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.services import Services
from engine.spiff.driving import Scenario
from tests.dbtemplates import MIGRATED, Template, starting_point
from tests.web.webhelpers import PASSWORD, MovableClock, add_users
from web.app import create_app

START = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # Monday 2026-03-02 09:00 Beijing


def _users(svc: Services) -> None:
    add_users(svc, MovableClock(START))


def _model(svc: Services) -> None:
    from tests.web.webcases import load_model

    load_model(svc, MovableClock(START), PASSWORD)  # and the extra demo users the scenarios name


WEB_USERS = MIGRATED.then("web test users", _users)
WEB_MODEL = WEB_USERS.then("process model", _model)


def played(name: str, scenario: Scenario, until: str | None) -> Template:
    """WEB_MODEL and one case of `scenario` played up to (not including) step `until` (None: to its end) —
    played once per session, copied per test. The template's result is the `Played` case."""
    from tests.web.webcases import play_until

    return WEB_MODEL.then(name, lambda svc: play_until(svc, scenario, until))


@functools.cache
def penalty_case_until(until: str) -> Template:
    """The default penalty case played up to `until` (one template per step, shared across modules)."""
    from tests.web.webcases import scenario

    return played(f"a penalty case up to {until}", scenario(), until)


def _with_evidence(svc: Services) -> object:
    from tests.web.webcases import case_with_evidence

    return case_with_evidence(svc)


WITH_EVIDENCE = WEB_MODEL.then("a penalty case with evidence files at 证据登记", _with_evidence)

# The stages tests most often start from: fixture `at_<step>` is the default penalty case played up to <step>.
STAGES = ("acceptance_review", "preliminary_check", "investigation_report", "legal_review", "panel_vote",
          "await_party_response")


@pytest.fixture
def db_template(request: pytest.FixtureRequest) -> Template:
    return starting_point(request, MIGRATED, app=WEB_USERS, model=WEB_MODEL, evidence_case=WITH_EVIDENCE,
                          **{f"at_{step}": penalty_case_until(step) for step in STAGES})


def _stage_fixture(step: str) -> object:
    @pytest.fixture(name=f"at_{step}")
    def played_up_to(model: Flask, template_result: object) -> object:
        return template_result

    played_up_to.__doc__ = f"The default penalty case played up to {step} (a copy of a session template)."
    return played_up_to


at_acceptance_review = _stage_fixture("acceptance_review")
at_preliminary_check = _stage_fixture("preliminary_check")
at_investigation_report = _stage_fixture("investigation_report")
at_legal_review = _stage_fixture("legal_review")
at_panel_vote = _stage_fixture("panel_vote")
at_await_party_response = _stage_fixture("await_party_response")


@pytest.fixture
def evidence_case(model: Flask, template_result: object) -> object:
    """The default penalty case at 证据登记 with evidence files (tests/web/webcases.py `case_with_evidence`: a
    `WithEvidence`), a copy of a session template."""
    return template_result


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(START)


@pytest.fixture
def app(svc: Services, clock: MovableClock) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "CASETRAIL_CLOCK": clock}, services=svc)
    yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def model(app: Flask, clock: MovableClock) -> Flask:
    """The app with the process model loaded (and the extra demo users the scenarios name)."""
    from tests.web.webcases import START as CASES_START

    clock.moment = CASES_START + dt.timedelta(days=5)  # after the scenarios' steps (one hour apart)
    return app
