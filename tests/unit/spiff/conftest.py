"""Fixtures for driving the real model in memory (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.rules.deadlines import calendar_for
from engine.rules.settings import Settings, load_settings
from engine.rules.workdays import WorkingCalendar
from engine.spiff.definitions import LoadedDefinition, load_default_definition

BEIJING = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(scope="session")
def definition() -> LoadedDefinition:
    return load_default_definition()


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def calendar(settings: Settings) -> WorkingCalendar:
    return calendar_for(settings)


@pytest.fixture
def start() -> dt.datetime:
    """Monday 2026-09-14, 09:00 Beijing time."""
    return dt.datetime(2026, 9, 14, 9, 0, tzinfo=BEIJING)
