"""Integration fixtures: a database with the default model and the demo users (with signing keys)."""

from __future__ import annotations

import datetime as dt
import functools

import pytest

from engine.demo import SCENARIOS, play
from engine.demo_users import DEMO_PASSWORD, DEMO_PIN, DEMO_USERS, demo_certificate
from engine.services import Services
from engine.usecases.definitions import store_default_definition
from engine.usecases.tasks import list_tasks, show_task
from engine.usecases.users import add_user
from engine.values import AddUser, CaseView, TaskView, fixed_clock
from tests.conftest import at
from tests.dbtemplates import MIGRATED, Template, Templates, starting_point

SETUP_TIME = at("2026-09-01 08:00")


def _model_and_demo_users(svc: Services) -> None:
    clock = fixed_clock(SETUP_TIME)
    store_default_definition(svc=svc, clock=clock)
    for user_id, name, roles, unit in DEMO_USERS:
        add_user(AddUser(user_id=user_id, name=name, password=DEMO_PASSWORD, roles=list(roles), unit=unit,
                         pin=DEMO_PIN, **demo_certificate(user_id)), svc=svc, clock=clock)


def task_at(svc: Services, scenario: str, spec_id: str, *, start: dt.datetime) -> tuple[CaseView, TaskView]:
    """A case of `scenario` played from `start` up to its first step `spec_id`, and that open task (with its form)."""
    steps = SCENARIOS[scenario].steps
    case = play(svc, SCENARIOS[scenario], start=start, stop_before=[s.spec_id for s in steps].index(spec_id)).case
    return case, show_task(svc, next(t.id for t in list_tasks(svc, case=case.number) if t.spec_id == spec_id))


READY = MIGRATED.then("default model and demo users", _model_and_demo_users)
PLAY_START = at("2026-09-14 09:00")


@functools.cache
def scenarios_played(names: tuple[str, ...]) -> Template:
    """READY, then a case of each scenario in `names` played to its end from PLAY_START, in order (each on the
    template of the ones before it, so that template is shared too)."""
    parent = READY if len(names) == 1 else scenarios_played(names[:-1])
    return parent.then(f"{names[-1]} played", lambda svc: play(svc, SCENARIOS[names[-1]], start=PLAY_START).case)


def _played_names(request: pytest.FixtureRequest) -> tuple[str, ...]:
    names = request.node.callspec.params["played"]
    return (names,) if isinstance(names, str) else tuple(names)


@pytest.fixture
def db_template(request: pytest.FixtureRequest) -> Template:
    """Tests that use `ready_svc` start from READY, those that use `played` from its scenarios played; each
    built once per session."""
    if "played" in request.fixturenames:
        return starting_point(request, MIGRATED, ready_svc=READY, played=scenarios_played(_played_names(request)))
    return starting_point(request, MIGRATED, ready_svc=READY)


@pytest.fixture
def ready_svc(svc: Services) -> Services:
    return svc


@pytest.fixture
def played(request: pytest.FixtureRequest, ready_svc: Services, db_templates: Templates, db_backend: str,
           db_template: Template) -> CaseView | tuple[CaseView, ...]:
    """The case(s) of the scenario(s) a test names by indirect parametrization — `"penalty_waiver"`, or
    `("not_accepted", "transferred")` for one case of each — played to the end from PLAY_START on a template
    (once per session), as they were when played: a CaseView, or a tuple of them."""
    cases = tuple(r for r in db_templates.results(db_template, db_backend) if isinstance(r, CaseView))
    return cases[0] if isinstance(request.param, str) else cases
