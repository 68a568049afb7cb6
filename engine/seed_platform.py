"""The demo's cases across agencies (issue 16), each driven through the engine's use cases like every seeded step:
a 和平区 (cz-hp) case the city's supervisor flags for 挂牌督办, with one progress report made, and a complaint
和平区 hands over to 西山区 (cz-xs), which receives it under its own number. Their steps are the model's demo
scenarios (engine/spiff/scenarios.py); here only when, by whom, and what the seed does between them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from engine.db.tables import CaseRow
from engine.demo import BeforeStep, play, play_steps
from engine.demo_users import DEMO_AGENCIES, DEMO_PIN, cast_of
from engine.errors import CasetrailError
from engine.services import Services
from engine.spiff.clocks import MutableClock
from engine.spiff.scenarios import PLATFORM_SUPERVISED, handed_over
from engine.usecases.agencies import set_agency_areas
from engine.usecases.supervision import flag_case
from engine.values import FlagCase, SetAgencyAreas

SUPERVISOR = "supervisor"  # the city's 督查 (engine/demo_users.py)
ADMIN = "admin"  # the platform's 信息科 administrator
SENDER, RECEIVER = DEMO_AGENCIES
# 西山区's territory as the jurisdiction rules read it (settings.json `jurisdiction`: the receiving agency's areas
# must name the place of the act), set by the platform's admin as on the agency's page.
RECEIVER_AREAS = ("西山区",)


def seed_platform_cases(svc: Services, today: dt.datetime, evidence: BeforeStep, party: Mapping[str, Any]) -> int:
    """The supervised case and the hand-over, dated in the last fortnight so that nothing of them is overdue
    `today`; the cases made (the received one included). `party`: the flagged case's intake changes (its party);
    `evidence`: the seed's files before each step that takes them, up to the flag."""
    _supervised_case(svc, today - dt.timedelta(days=12), evidence, party)
    _handed_over_complaint(svc, today - dt.timedelta(days=4))
    return 3


def _supervised_case(svc: Services, start: dt.datetime, evidence: BeforeStep, party: Mapping[str, Any]) -> None:
    """Played by 和平区's people up to its investigation, flagged six days after it was registered, reported on four
    days after the flag."""
    cast = cast_of(SENDER)
    scenario = replace(PLATFORM_SUPERVISED.scenario, intake={**PLATFORM_SUPERVISED.scenario.intake, **party})
    number = play(svc, scenario, start=start, before_step=evidence, cast=cast).case.number
    clock = MutableClock(start + dt.timedelta(days=6))
    due = (clock() + dt.timedelta(days=60)).astimezone(svc.settings.zone).date()
    flag_case(FlagCase(number, SUPERVISOR, {
        "supervision_instructions": "群众反映强烈，请依法从严查处，每十个工作日报告查办进展。",
        "supervision_due_date": due.isoformat(), "supervision_reason": "涉及多名消费者健康，社会关注度高"}, pin=DEMO_PIN),
        svc=svc, clock=clock)
    play_steps(svc, number, PLATFORM_SUPERVISED.then, clock, step_gap=dt.timedelta(days=4), cast=cast)


def _handed_over_complaint(svc: Services, start: dt.datetime) -> None:
    """Registered at 和平区 and handed over by its people two and three hours later; received by 西山区's people a
    day after: the sender ends `transferred`, the receiver's case waits for its own acceptance review."""
    set_agency_areas(SetAgencyAreas(code=RECEIVER.code, areas=RECEIVER_AREAS, by=ADMIN), svc=svc, clock=lambda: start)
    sender, receiver = cast_of(SENDER), cast_of(RECEIVER)
    case = handed_over(RECEIVER.code)
    number = play(svc, case.scenario, start=start, stop_before=0, cast=sender).case.number
    clock = MutableClock(start + dt.timedelta(hours=1))
    play_steps(svc, number, case.scenario.steps, clock, cast=sender)
    play_steps(svc, _received_number(svc, number), case.then, clock, step_gap=dt.timedelta(days=1), cast=receiver)


def _received_number(svc: Services, origin: str) -> str:
    """The number 西山区 gave the case handed over: its newest case, opened by the hand-over."""
    with svc.uow.read() as session:
        number = session.scalar(select(CaseRow.number).where(CaseRow.agency_code == RECEIVER.code)
                                .order_by(CaseRow.id.desc()).limit(1))
    if number is None:
        raise CasetrailError(f"{origin}: the hand-over opened no case at {RECEIVER.code}")
    return number


__all__ = ["seed_platform_cases"]
