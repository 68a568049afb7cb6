"""Integration fixtures: a database with the default model and the demo users (with signing keys)."""

from __future__ import annotations

import pytest

from engine.demo_users import DEMO_PASSWORD, DEMO_PIN, DEMO_USERS
from engine.usecases.definitions import store_default_definition
from engine.usecases.users import add_user
from engine.values import fixed_clock
from tests.conftest import at

SETUP_TIME = at("2026-09-01 08:00")


@pytest.fixture
def ready_svc(svc):
    clock = fixed_clock(SETUP_TIME)
    store_default_definition(svc, clock=clock)
    for user_id, name, roles, unit in DEMO_USERS:
        add_user(svc, user_id=user_id, name=name, password=DEMO_PASSWORD, roles=list(roles), unit=unit, clock=clock,
                 pin=DEMO_PIN)
    return svc
