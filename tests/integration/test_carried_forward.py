"""Issue 15: the 事先告知书 and the 处罚决定书 start from what the case recorded (调查终结报告, 合议, 裁量基准), and
their 文号 are the engine's — per document kind, agency and year — never typed."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from engine.db.document_tables import DocumentRow
from engine.demo import SCENARIOS, pick_actor, play, play_step, ready_task
from engine.demo_users import DEMO_PIN
from engine.errors import ValidationError
from engine.numbering import claim_number
from engine.services import Services
from engine.spiff.clocks import MutableClock
from engine.spiff.driving import Scenario, Step
from engine.stepdocs import document_number
from engine.usecases.carry import CarriedForm, FineRange, carried_form
from engine.usecases.completion import complete_task
from engine.usecases.tasks import show_task
from engine.usecases.viewer import task_for_viewer
from engine.values import CompleteTask
from tests.conftest import at

START = at("2026-09-14 09:00")
REPORT = {"facts": "2026年9月14日，呈州市丽人美容店未取得公共场所卫生许可证擅自营业，已营业三个月。",
          "evidence_summary": "现场检查笔录、询问笔录、营业执照复印件、现场照片 6 张",
          "legal_basis": "《公共场所卫生管理条例实施细则》第二十二条第一款、第三十五条第一款"}
BALLOT_FINES = (2800, 3400, 3200)  # the report proposes 3000; the panel's fine is the one a majority backs


def _scenario() -> Scenario:
    base = SCENARIOS["penalty_waiver"]
    fines = iter(BALLOT_FINES)
    steps = []
    for step in base.steps:
        if step.spec_id == "investigation_report":
            step = dataclasses.replace(step, overrides={**step.overrides, **REPORT})
        elif step.spec_id == "panel_vote":
            step = dataclasses.replace(step, overrides={**step.overrides, "suggested_fine": next(fines)})
        steps.append(step)
    return dataclasses.replace(base, steps=tuple(steps))


def _index(sc: Scenario, spec_id: str) -> int:
    return [s.spec_id for s in sc.steps].index(spec_id)


def _carried(svc: Services, case_number: str, spec_id: str, clock: MutableClock) -> tuple[str, str, CarriedForm]:
    task = ready_task(svc, case_number, Step(spec_id))
    actor = pick_actor(task, Step(spec_id))
    view = task_for_viewer(svc, task.id, actor, at=clock())
    return task.id, actor, carried_form(svc, view, at=clock())


def _play(svc: Services, sc: Scenario, case_number: str, clock: MutableClock, first: str, stop: str) -> None:
    for step in sc.steps[_index(sc, first):_index(sc, stop)]:
        clock.advance_to(clock() + dt.timedelta(hours=1))
        play_step(svc, case_number, step, clock, pin=DEMO_PIN)


def _doc_numbers(svc: Services, case_id: int) -> dict[str, str | None]:
    with svc.uow.read() as session:
        return {kind: number for kind, number in session.execute(
            select(DocumentRow.kind, DocumentRow.doc_number).where(DocumentRow.case_id == case_id))}


def test_a_notice_and_a_decision_start_from_the_report_the_panel_and_the_benchmark(ready_svc):
    svc, sc = ready_svc, _scenario()
    case = play(svc, sc, start=START, stop_before=_index(sc, "prior_notice")).case
    clock = MutableClock(START + dt.timedelta(hours=_index(sc, "prior_notice") + 1))

    task_id, actor, notice = _carried(svc, case.number, "prior_notice", clock)
    assert notice.values["notified_facts"] == REPORT["facts"]
    assert notice.values["notified_reasons"] == REPORT["legal_basis"]
    assert notice.values["notified_warning"] is True
    assert notice.values["notified_fine"] == 3200  # 2 of 3 members backed at least 3200 (the report said 3000)
    assert notice.sources["notified_facts"].spec_id == "investigation_report"
    assert notice.sources["notified_fine"].name == "合议" and notice.sources["notified_fine"].spec_id is None
    low_high = notice.ranges["notified_fine"]
    assert (low_high.low, low_high.high) == (1500, 3500) and "第三十五条" in low_high.basis  # 一般情节, 无证经营
    assert notice.numbered == "notice_number" and "notice_number" not in notice.values

    # A 文号 typed by the caller is refused, nothing written; the carried values alone complete the step.
    with pytest.raises(ValidationError) as refused:
        complete_task(CompleteTask(task_id, actor, {**notice.initial(None), "notice_number": "呈卫罚告〔2026〕999号"},
                                   pin=DEMO_PIN), svc=svc, clock=clock)
    assert set(refused.value.errors) == {"notice_number"}
    complete_task(CompleteTask(task_id, actor, notice.initial(None), pin=DEMO_PIN), svc=svc, clock=clock)
    recorded = show_task(svc, task_id).form_data or {}
    assert recorded["notice_number"] == "呈卫罚告〔2026〕001号" and recorded["notified_fine"] == 3200
    assert _doc_numbers(svc, case.id)["penalty_prior_notice"] == "呈卫罚告〔2026〕001号"

    _play(svc, sc, case.number, clock, "serve_prior_notice", "make_decision")
    clock.advance_to(clock() + dt.timedelta(hours=1))
    task_id, actor, decision = _carried(svc, case.number, "make_decision", clock)
    assert decision.values["facts_and_evidence"] == f"{REPORT['facts']}\n证据：{REPORT['evidence_summary']}"
    assert decision.values["basis"] == REPORT["legal_basis"]  # as notified (Art 45: no basis not notified)
    assert decision.values["final_fine"] == 3200 and decision.values["final_warning"] is True
    assert decision.sources["final_fine"].spec_id == "prior_notice"
    assert decision.values["remedy"] == svc.settings.raw["wording"]["remedy"]["text"]
    orders = svc.settings.raw["wording"]["correction_orders"]
    assert decision.values["correction_order"] == orders["public_place_unlicensed"]["text"]  # the case's violation
    assert decision.ranges["final_fine"] == FineRange(1500, 3500, low_high.basis)
    complete_task(CompleteTask(task_id, actor, decision.initial({"decision_date": clock().isoformat()}), pin=DEMO_PIN),
                  svc=svc, clock=clock)
    assert (show_task(svc, task_id).form_data or {})["decision_number"] == "呈卫罚〔2026〕001号"

    # The receipt shows the 文号 of the decision it serves, from the case: not an input, refused if submitted.
    clock.advance_to(clock() + dt.timedelta(hours=1))
    _, _, receipt = _carried(svc, case.number, "serve_decision", clock)
    assert receipt.values["document_number"] == "呈卫罚〔2026〕001号" and "document_number" in receipt.fixed
    assert receipt.initial({"document_number": "typed"})["document_number"] == "呈卫罚〔2026〕001号"  # never typed over
    numbers = _doc_numbers(svc, case.id)
    assert (numbers["penalty_prior_notice"], numbers["penalty_decision"]) == ("呈卫罚告〔2026〕001号", "呈卫罚〔2026〕001号")


def test_nothing_is_carried_for_a_viewer_who_may_not_act(ready_svc):
    svc, sc = ready_svc, _scenario()
    case = play(svc, sc, start=START, stop_before=_index(sc, "prior_notice")).case
    task = ready_task(svc, case.number, Step("prior_notice"))
    view = task_for_viewer(svc, task.id, "head", at=START + dt.timedelta(days=1))
    assert not view.may_act
    assert carried_form(svc, view, at=START + dt.timedelta(days=1)) == CarriedForm()


def test_each_kind_of_document_is_numbered_on_its_own_and_starts_again_each_year(ready_svc):
    svc = ready_svc
    late_2026, early_2027 = at("2026-12-31 23:30"), at("2027-01-01 00:30")  # Beijing time: the agency's year
    with svc.uow() as work:
        given = []
        for code, moment in (("prior_notice", late_2026), ("prior_notice", late_2026), ("penalty_decision", late_2026),
                             ("prior_notice", early_2027), ("penalty_decision", early_2027)):
            claim = document_number(work.session, svc.settings, code, moment)
            assert claim is not None
            claim_number(work.session, claim)
            given.append(claim.text)
        assert document_number(work.session, svc.settings, "inquiry_record", late_2026) is None  # numbered by the case only
        work.commit()
    assert given == ["呈卫罚告〔2026〕001号", "呈卫罚告〔2026〕002号", "呈卫罚〔2026〕001号",
                     "呈卫罚告〔2027〕001号", "呈卫罚〔2027〕001号"]
