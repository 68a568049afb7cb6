"""Web fixtures: the app over the `svc` database (SQLite, and PostgreSQL when configured), users, a clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.services import Services
from tests.web.webhelpers import MovableClock, add_users
from web import create_app

START = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # Monday 2026-03-02 09:00 Beijing


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(START)


@pytest.fixture
def app(svc: Services, clock: MovableClock) -> Iterator[Flask]:
    add_users(svc, clock)
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "CASETRAIL_CLOCK": clock}, services=svc)
    yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def model(app: Flask, svc: Services, clock: MovableClock) -> Flask:
    """The app with the process model loaded (and the extra demo users the scenarios name)."""
    from tests.web.webcases import START as CASES_START
    from tests.web.webcases import load_model
    from tests.web.webhelpers import PASSWORD

    load_model(svc, clock, PASSWORD)
    clock.moment = CASES_START + dt.timedelta(days=5)  # after the scenarios' steps (one hour apart)
    return app
