"""The demo's cases across agencies (issue 16), each driven through the engine's use cases like every seeded step:
a 和平区 (cz-hp) case the city's supervisor flags for 挂牌督办, with one progress report made, and a complaint
和平区 hands over to 西山区 (cz-xs), which receives it under its own number."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy import select

from engine.db.tables import AgencyRow, CaseRow
from engine.demo import SCENARIOS, BeforeStep, play
from engine.demo_users import DEMO_AGENCIES, DEMO_PIN, cast_of
from engine.errors import CasetrailError
from engine.services import Services
from engine.spiff.clocks import MutableClock
from engine.spiff.driving import Scenario
from engine.usecases.supervision import flag_case
from engine.usecases.tasks import complete_task, list_tasks
from engine.values import CompleteTask, FlagCase

SUPERVISOR = "supervisor"  # the city's 督查 (engine/demo_users.py)
SENDER, RECEIVER = DEMO_AGENCIES
# 西山区's territory as the jurisdiction rules read it (settings.json `jurisdiction`: the receiving agency's areas
# must name the place of the act); the agencies' admin pages do not set areas, so the demo records them.
RECEIVER_AREAS = ("西山区",)
HANDED_OVER_PARTY = {"name": "呈州市西山区悦颜美容工作室", "kind": "organisation", "credit_code": "92330106MA2H5J6K7C",
                     "address": "呈州市西山区西山路18号"}


def seed_platform_cases(svc: Services, today: dt.datetime, evidence: BeforeStep, supervised: Scenario) -> int:
    """The supervised case and the hand-over, dated in the last fortnight so that nothing of them is overdue
    `today`; the cases made (the received one included). `supervised`: the scenario of the flagged case (with
    its party), played up to its investigation; `evidence`: the seed's files before each step that takes them."""
    _supervised_case(svc, today - dt.timedelta(days=12), evidence, supervised)
    _handed_over_complaint(svc, today - dt.timedelta(days=4))
    return 3


def _supervised_case(svc: Services, start: dt.datetime, evidence: BeforeStep, scenario: Scenario) -> None:
    cast = cast_of(SENDER)
    stop = [s.spec_id for s in scenario.steps].index("onsite_inspection")
    number = play(svc, scenario, start=start, stop_before=stop, before_step=evidence, cast=cast).case.number
    clock = MutableClock(start + dt.timedelta(days=6))
    due = (clock() + dt.timedelta(days=60)).astimezone(svc.settings.zone).date()
    flag_case(FlagCase(number, SUPERVISOR, {
        "supervision_instructions": "群众反映强烈，请依法从严查处，每十个工作日报告查办进展。",
        "supervision_due_date": due.isoformat(), "supervision_reason": "涉及多名消费者健康，社会关注度高"}, pin=DEMO_PIN),
        svc=svc, clock=clock)
    clock.advance_to(clock() + dt.timedelta(days=4))
    _complete(svc, clock, number, "report_supervision", cast["officer1"], {
        "supervision_progress": "已立案并调取经营记录，拟于近日开展现场检查。", "supervision_final_report": False})


def _handed_over_complaint(svc: Services, start: dt.datetime) -> None:
    """Registered at 和平区, accepted there for hand-over by its head, handed over by its clerk to 西山区 (where the
    act took place), received there by 西山区's head: the sender ends `transferred`, the receiver's case waits
    for its own acceptance review."""
    _record_territory(svc, RECEIVER.code, RECEIVER_AREAS)
    sender, receiver = cast_of(SENDER), cast_of(RECEIVER)
    base = SCENARIOS["transferred"]
    complaint = replace(base, intake={**base.intake, "respondent": HANDED_OVER_PARTY,
                                      "violation_type": "public_place_unlicensed",
                                      "content": "西山路一美容工作室未取得公共场所卫生许可证即营业。"})
    number = play(svc, complaint, start=start, stop_before=0, cast=sender).case.number
    clock = MutableClock(start)
    clock.advance_to(start + dt.timedelta(hours=2))
    _complete(svc, clock, number, "acceptance_review", sender["head"], {
        "acceptance_decision": "hand_over", "acceptance_opinion": "违法行为发生地在西山区，移送西山区卫生健康局",
        "case_summary": "美容工作室无证经营"})
    clock.advance_to(clock() + dt.timedelta(hours=1))
    _complete(svc, clock, number, "hand_over_complaint", sender["clerk"], {
        "receiving_agency": RECEIVER.code, "transfer_reason": "违法行为发生地在西山区（地域管辖）",
        "transferred_at": clock().isoformat()})
    received = _received_number(svc, number)
    clock.advance_to(clock() + dt.timedelta(days=1))
    _complete(svc, clock, received, "receive_transfer", receiver["head"], {
        "receive_decision": "accept", "receive_opinion": "属本局管辖，予以接收"})


def _complete(svc: Services, clock: MutableClock, number: str, spec_id: str, user: str, data: dict) -> None:
    task = next(t for t in list_tasks(svc, case=number) if t.spec_id == spec_id and t.status == "ready")
    complete_task(CompleteTask(task_id=task.id, user_id=user, data=data, pin=DEMO_PIN), svc=svc, clock=clock)


def _received_number(svc: Services, origin: str) -> str:
    """The number 西山区 gave the case handed over: its newest case, opened by the hand-over."""
    with svc.uow.read() as session:
        number = session.scalar(select(CaseRow.number).where(CaseRow.agency_code == RECEIVER.code)
                                .order_by(CaseRow.id.desc()).limit(1))
    if number is None:
        raise CasetrailError(f"{origin}: the hand-over opened no case at {RECEIVER.code}")
    return number


def _record_territory(svc: Services, code: str, areas: tuple[str, ...]) -> None:
    with svc.uow() as work:
        row = work.session.scalar(select(AgencyRow).where(AgencyRow.code == code).with_for_update())
        if row is not None and not (row.settings or {}).get("areas"):
            row.settings = {**(row.settings or {}), "areas": list(areas)}
        work.commit()


__all__ = ["seed_platform_cases"]
