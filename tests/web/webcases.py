"""Cases for the web tests, driven through the engine's own use cases (engine.demo.play), task by task."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from engine.demo import SCENARIOS, Played, play
from engine.services import Services
from engine.spiff.driving import Scenario, Step
from engine.usecases.definitions import store_default_definition
from engine.usecases.users import add_user
from engine.values import AddUser
from tests.web.webhelpers import PIN

START = dt.datetime(2026, 9, 14, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 Beijing
EXTRA_USERS = {"head2": ("韩副局长", ("head",)), "officer3": ("孙承办", ("officer",))}


def load_model(svc: Services, clock: Any, password: str) -> None:
    store_default_definition(svc=svc, clock=clock)
    for user_id, (name, roles) in EXTRA_USERS.items():
        add_user(AddUser(user_id=user_id, name=name, password=password, roles=list(roles), pin=PIN), svc=svc,
                 clock=clock)


def scenario(name: str = "penalty_waiver", *, intake: dict[str, Any] | None = None,
             replace_steps: dict[str, Step] | None = None, extra: tuple[Step, ...] = ()) -> Scenario:
    base = SCENARIOS[name]
    steps = tuple((replace_steps or {}).get(s.spec_id, s) for s in base.steps) + extra
    return dataclasses.replace(base, steps=steps, intake={**base.intake, **(intake or {})})


def index_of(sc: Scenario, spec_id: str, nth: int = 0) -> int:
    return [i for i, s in enumerate(sc.steps) if s.spec_id == spec_id][nth]


def play_until(svc: Services, sc: Scenario, spec_id: str | None, *, nth: int = 0, start: dt.datetime = START,
               pin: str = PIN) -> Played:
    """Open a case and play its steps up to (not including) the `nth` step `spec_id`; None plays all."""
    stop = None if spec_id is None else index_of(sc, spec_id, nth)
    return play(svc, sc, start=start, stop_before=stop, pin=pin)


def revoked_and_withdrawn() -> Scenario:
    """A published penalty whose decision is later revoked: the publication is withdrawn (Art 48)."""
    base = scenario()
    cut = index_of(base, "record_payment")
    steps = (*base.steps[:cut], Step("record_payment", {"payment_status": "revoked"}),
             Step("withdraw_publication", {"withdrawal_reason": "行政复议决定撤销原处罚决定"}))
    return dataclasses.replace(base, steps=steps)
