"""Scenario tables: one per outcome and per way through the party's window, and an in-memory player."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from documents.samples import drawn_signature
from engine.rules.drawn_images import as_recorded
from engine.spiff.benchmarks import in_force
from engine.spiff.clocks import MutableClock
from engine.spiff.driving import (
    TIMER,
    Context,
    Scenario,
    Step,
    default_actor,
    resolve,
    sample_form_data,
)

if TYPE_CHECKING:
    from engine.rules.settings import Settings
    from engine.rules.workdays import WorkingCalendar
    from engine.spiff.definitions import LoadedDefinition
    from engine.spiff.instance import ProcessInstance

OFFICERS = ["officer1", "officer2"]
PANEL = ["panel1", "panel2", "panel3"]


def _accept() -> Step:
    return Step("acceptance_review", {"acceptance_decision": "accept", "unit": "公共场所卫生监督科",
                                      "case_officers": OFFICERS})


def _filing(fine: float = 3000) -> list[Step]:
    return [
        _accept(),
        Step("preliminary_check", {"check_proposal": "file", "case_cause": "未取得公共场所卫生许可证擅自营业",
                                   "legal_basis": "《公共场所卫生管理条例实施细则》第三十五条", "facts_certain": True,
                                   "proposed_fine": fine}),
        Step("filing_approval", {"filing_decision": "file"}),
        Step("feedback_filing"),
    ]


def _inspected(ctx: Context) -> str:
    return (ctx.now - dt.timedelta(hours=2)).isoformat(timespec="seconds")


def _inspection_ended(ctx: Context) -> str:
    return (ctx.now - dt.timedelta(hours=1, minutes=15)).isoformat(timespec="seconds")


def _inquired(ctx: Context) -> str:
    return (ctx.now - dt.timedelta(minutes=50)).isoformat(timespec="seconds")


def _inquiry_ended(ctx: Context) -> str:
    return (ctx.now - dt.timedelta(minutes=10)).isoformat(timespec="seconds")


def _signed(signer: str, strokes: int = 3) -> dict[str, Any]:
    """The party's signature drawn on the terminal's screen (`strokes`: another drawing, another file)."""
    return {"mode": "drawn", "image": drawn_signature(strokes), "signer_name": signer}


#: 被询问人 refuses to sign: the officers note it, a witness signs (the 执法记录仪 recorded it)
REFUSED = {"mode": "refused", "refusal_note": "被询问人核对笔录后表示不认可调查结论，拒绝签名；执法人员当场注明。",
           "witness_name": "赵某某", "witness_identity": "所在社区居委会工作人员", "av_record": "执法记录仪 DSJ-0231 录像"}


def _investigation(report: dict[str, Any], *, inquiry_signature: dict[str, Any] | None = None) -> list[Step]:
    base = {"severity": "ordinary", "illegal_income": 0, "proposed_outcome": "penalty", "proposed_warning": True,
            "proposed_fine": 3000, "harmful_consequence": "some"}
    base.update(report)
    return [
        Step("onsite_inspection", {"inspectors": OFFICERS, "next_action": "inquiry_record", "inspected_at": _inspected,
                                   "inspection_ended_at": _inspection_ended, "party_present": True,
                                   "person_in_charge": "王某某", "person_in_charge_title": "店长",
                                   "party_signature": _signed("王某某")}),
        Step("inquiry", {"rights_told": True, "verified_by_person": True, "next_action": "evidence",
                         "inquired_person": "王某某", "inquired_role": "当事人（店长）", "inquired_at": _inquired,
                         "inquiry_ended_at": _inquiry_ended,
                         "party_signature": inquiry_signature or _signed("王某某")}),
        Step("register_evidence", {"preservation_requested": False, "next_action": "final_report"}),
        Step("investigation_report", base),
    ]


def _deliberation(vote: str, votes: list[str] | None = None) -> list[Step]:
    steps = [Step("appoint_panel", {"panel_members": PANEL, "presiding_member": "panel1"})]
    for member, choice in zip(PANEL, votes or [vote] * 3, strict=True):
        steps.append(Step("panel_vote", {"vote": choice, "suggested_fine": 3000}, actor=member))
    return steps


def _notice(fine: float = 3000) -> list[Step]:
    return [
        Step("prior_notice", {"notified_fine": fine, "notified_warning": True, "hearing_right_informed": True}),
        Step("serve_prior_notice", {"service_method": "direct"}),
    ]


# The default cases' violation (公共场所未取得卫生许可证擅自营业) with its article: what a decision and its
# publication state (公共场所卫生管理条例实施细则 第二十二条 requires the licence, 第三十五条 sets the penalty).
_BASIS = "违反《公共场所卫生管理条例实施细则》第二十二条第一款，依据该细则第三十五条，给予警告并处罚款"
_PUBLIC_SUMMARY = ("当事人未依法取得公共场所卫生许可证擅自营业，违反《公共场所卫生管理条例实施细则》第二十二条第一款。"
                   "本机关依据该细则第三十五条，给予警告并处罚款。")


def _decision_to_close(fine: float = 3000) -> list[Step]:
    return [
        # The decision's 文号 is the engine's (numbered per kind and year when it is signed): never typed.
        Step("make_decision", {"final_fine": fine, "final_warning": True, "basis": f"{_BASIS}人民币{fine:,.0f}元。"}),
        Step("serve_decision", {"service_method": "direct"}),
        Step("prepare_publication", {"publish": True, "party_is_minor": False, "redacted_summary": _PUBLIC_SUMMARY}),
        Step("release_publication"),
        Step("record_payment", {"payment_status": "paid", "amount_paid": fine}),
        *_closing("executed"),
    ]


def _closing(reason: str) -> list[Step]:
    return [Step("closing_report", {"closing_reason": reason}),
            Step("closing_approval", {"closing_approved": True}),
            Step("notify_result")]


def _followed_up(body: str, result: str) -> list[Step]:
    """移送回执 and the body's feedback, recorded after the letter (transfer_follow_up.bpmn)."""
    return [Step("record_transfer_receipt", {"receipt_signed_by": f"{body} 办公室 刘签收"}),
            Step("record_transfer_feedback", {"feedback_result": result, "feedback_content": f"{body}已函告处理结果。"})]


def _hearing_at(ctx: Context) -> str:
    moment = ctx.due("hearing_notice") + dt.timedelta(days=1)
    return moment.replace(hour=1, minute=30).isoformat()


def _reminder_served(ctx: Context) -> str:
    return (ctx.now - dt.timedelta(days=12)).isoformat()


def _report_overdue(ctx: Context) -> dt.datetime:
    """When the supervised case's next report is due (the timer that raises the 催报 fires then)."""
    return ctx.due("supervision_report", dt.datetime.fromisoformat(str(ctx.data["supervision_since"])))


def _decision_to_execution() -> list[Step]:
    """The decision, served and published, up to the party's performance (履行)."""
    return [s for s in _decision_to_close() if s.spec_id in
            ("make_decision", "serve_decision", "prepare_publication", "release_publication")]


# 同意 with every point of the review confirmed (an unconfirmed point would need its reason: gates.json)
APPROVE = Step("legal_review", {"legal_conclusion": "approve", "check_jurisdiction": True, "check_facts": True,
                                "check_basis": True, "check_procedure": True, "check_discretion": True})
HEARING_FINE = 25000.0
_GENERAL = [*_filing(), *_investigation({}), *_deliberation("penalty"), *_notice()]

SCENARIOS: dict[str, Scenario] = {s.name: s for s in [
    Scenario("not_accepted", "not_accepted", (
        Step("acceptance_review", {"acceptance_decision": "not_accept", "not_accepted_reason": "不属于卫生健康监督职责范围"}),
        Step("notify_not_accepted"))),
    Scenario("transferred", "transferred", (
        Step("acceptance_review", {"acceptance_decision": "transfer", "transfer_agency": "呈州市市场监督管理局"}),
        Step("transfer_complaint", {"receiving_agency": "呈州市市场监督管理局"}),
        *_followed_up("呈州市市场监督管理局", "filed"))),
    Scenario("not_filed", "not_filed", (
        _accept(),
        Step("preliminary_check", {"check_proposal": "not_file", "not_file_reason": "经核查无违法事实"}),
        Step("filing_approval", {"filing_decision": "not_file", "not_filed_reason": "经核查无违法事实"}),
        Step("notify_not_filed"))),
    Scenario("not_filed_anonymous", "not_filed", (
        _accept(),
        Step("preliminary_check", {"check_proposal": "not_file", "not_file_reason": "经核查无违法事实"}),
        Step("filing_approval", {"filing_decision": "not_file", "not_filed_reason": "经核查无违法事实"})),
        intake={"complainant": {"anonymous": True}}),
    Scenario("summary_penalty", "summary_penalty", (
        _accept(),
        Step("preliminary_check", {"check_proposal": "summary", "facts_certain": True, "proposed_fine": 200,
                                   "proposed_warning": True}),
        Step("summary_penalty", {"summary_fine": 200, "penalty_warning": True, "collected_on_spot": False}),
        *_closing("summary"))),
    Scenario("penalty_waiver", "penalty_published", (
        *_GENERAL, Step("await_party_response", {"response": "waiver"}), APPROVE, *_decision_to_close()),
        description="普通程序：当事人明确放弃陈述申辩和听证"),
    Scenario("penalty_statement", "penalty_published", (
        *_GENERAL, Step("await_party_response", {"response": "statement", "statement_text": "已停业整改，请求从轻。"}),
        Step("review_statement", {"statement_adopted": False, "revised_fine": 3000, "waive_hearing": False}),
        APPROVE, *_decision_to_close()),
        description="普通程序：陈述申辩、复核（无听证权利，复核后即可决定）"),
    Scenario("penalty_statement_hearing_window", "penalty_published", (
        *_filing(HEARING_FINE),
        *_investigation({"severity": "aggravated", "proposed_fine": HEARING_FINE}),
        *_deliberation("penalty"), *_notice(HEARING_FINE),
        Step("await_party_response", {"response": "statement", "statement_text": "罚款过重，请求减轻。"}),
        Step("review_statement", {"statement_adopted": True, "revised_fine": 20000, "waive_hearing": False}),
        Step(TIMER), APPROVE, *_decision_to_close(20000)),
        description="陈述申辩成立减轻罚款；未放弃听证，等待听证申请期限届满（中间定时器）后决定"),
    Scenario("penalty_window_elapsed", "penalty_published", (
        *_GENERAL, Step(TIMER), APPROVE, *_decision_to_close()),
        description="普通程序：告知后期限届满未陈述申辩（中断定时器）"),
    Scenario("penalty_hearing", "penalty_published", (
        *_filing(HEARING_FINE),
        *_investigation({"severity": "aggravated", "proposed_fine": HEARING_FINE}),
        *_deliberation("penalty"), *_notice(HEARING_FINE),
        Step("await_party_response", {"response": "hearing_request"}),
        Step("schedule_hearing", {"hearing_chair": "legal", "hearing_at": _hearing_at, "public_hearing": True}),
        Step(TIMER),
        Step("hold_hearing", {"party_appeared": True, "party_signed": True}),
        Step("hearing_report", {"hearing_recommendation": "maintain", "recommended_fine": HEARING_FINE}),
        APPROVE, *_decision_to_close(HEARING_FINE)),
        description="普通程序：较大数额罚款，当事人要求听证"),
    Scenario("penalty_legal_correction", "penalty_published", (
        *_GENERAL, Step("await_party_response", {"response": "waiver"}),
        Step("legal_review", {"legal_conclusion": "correct"}),
        Step("correct_case", {"corrections": "补充证据目录", "revised_fine": 3000}),
        APPROVE, *_decision_to_close()),
        description="法制审核退回补正后通过"),
    Scenario("penalty_collective", "penalty_published", (
        *_filing(), *_investigation({"major_case": True}), *_deliberation("penalty"), *_notice(),
        Step("await_party_response", {"response": "waiver"}), APPROVE,
        Step("collective_discussion", {"participants": ["head", "head2"], "collective_decision": "penalty"}),
        *_decision_to_close()),
        description="重大案件：负责人集体讨论决定"),
    Scenario("penalty_withdrawn", "penalty_published", (
        *_GENERAL, Step("await_party_response", {"response": "waiver"}), APPROVE, *_decision_to_execution(),
        Step("record_payment", {"payment_status": "revoked"}),
        Step("withdraw_publication", {"withdrawal_reason": "行政复议决定撤销原处罚决定"}),
        *_closing("terminated")),
        description="决定被复议撤销：撤回公示（第四十八条），终止"),
    Scenario("penalty_court_enforcement", "penalty_published", (
        *_GENERAL, Step("await_party_response", {"response": "waiver"}), APPROVE, *_decision_to_execution(),
        Step("record_payment", {"payment_status": "unpaid"}),
        Step("court_enforcement", {"reminder_served_at": _reminder_served, "court": "呈州市人民法院",
                                   "enforcement_result": "法院已受理强制执行申请"}),
        *_closing("executed")),
        description="逾期不缴纳：催告十日后申请人民法院强制执行（行政强制法第五十四条）"),
    Scenario("no_penalty_minor", "no_penalty", (
        *_filing(), *_investigation({"severity": "minor", "harmful_consequence": "none", "corrected_promptly": True,
                                     "proposed_outcome": "no_penalty_minor", "proposed_fine": 0}),
        *_deliberation("no_penalty_minor"),
        Step("no_penalty_decision", {"no_penalty_ground": "minor", "education_given": True}),
        *_closing("no_penalty"))),
    Scenario("no_penalty_facts", "no_penalty", (
        *_filing(), *_investigation({"proposed_outcome": "no_penalty_facts", "proposed_fine": 0}),
        *_deliberation("no_penalty_facts", ["no_penalty_facts", "no_penalty_facts", "penalty"]),
        Step("no_penalty_decision", {"no_penalty_ground": "facts_not_established"}),
        *_closing("no_penalty"))),
    Scenario("referred_judicial", "referred_judicial", (
        *_filing(), *_investigation({"proposed_outcome": "referred_judicial"}, inquiry_signature=REFUSED),
        *_deliberation("referred_judicial"),
        Step("refer_judicial", {"receiving_agency": "呈州市公安局"}),
        *_followed_up("呈州市公安局", "filed"),
        *_closing("referred"))),
]}

# 挂牌督办 (issue 16) on a penalty case: flagged after 立案 by a supervisor of a superior agency, one progress report,
# a report let run late (the timer raises the supervisor's 催报), the final report and the 销号 before the 结案审批
# (which its gate refuses while the supervision runs). Not in SCENARIOS: its supervisor must sit above the case's
# agency, which the demo's single agency has not (tests place the agencies: tests/integration/test_supervision.py).
_FLAG = Step("supervision_flagged", {"supervision_instructions": "请依法从严查处，按期报告查办进展。",
                                     "supervision_due_date": "2026-12-31"}, actor="supervisor")
_WAIVER_STEPS = [*_GENERAL, Step("await_party_response", {"response": "waiver"}), APPROVE, *_decision_to_close()]
_AT_CLOSING = [s.spec_id for s in _WAIVER_STEPS].index("closing_approval")
SUPERVISED = Scenario("penalty_supervised", "penalty_published", (
    *_WAIVER_STEPS[:3], _FLAG,
    Step("report_supervision", {"supervision_progress": "已完成现场检查和询问。", "supervision_final_report": False}),
    Step(TIMER, until=_report_overdue), Step("remind_supervision_report", {"supervision_reminder": "请于两个工作日内报送查办进展。"}, actor="supervisor"),
    *_WAIVER_STEPS[3:_AT_CLOSING],
    Step("report_supervision", {"supervision_progress": "已作出处罚决定并执行完毕。", "supervision_final_report": True}),
    Step("close_supervision", {"supervision_closed": True, "supervision_opinion": "同意销号。"}, actor="supervisor"),
    *_WAIVER_STEPS[_AT_CLOSING:]),
    description="挂牌督办：定期报告、逾期催报、办结销号后结案")

# 先行登记保存 (《行政处罚法》第五十六条) in a penalty case: 证据登记 asks for it, the 负责人 approves, and the party
# signs the 物品清单 on the terminal's screen — a drawn signature, or 拒绝签名 with the officers' note and a witness
# (who signs on the screen too) — which the 证据先行登记保存决定书 shows in its block and the step's record lists as
# files. Not in SCENARIOS, which hold one case per outcome and per way through the party's window (the demo seed,
# the reports and the cross-process tests play each): these take the investigation's preservation loop, a way
# through none of them depends on, to the same end as penalty_waiver. Each signature here is a drawing of its own (not
# the 现场笔录's and 询问笔录's): its file, and a fault in it, belong to this step alone.
_PRESERVED_ITEMS = [{"name": "无证经营的价目表", "kind": "documentary", "quantity": "3张"},
                    {"name": "顾客消费登记簿", "kind": "documentary", "quantity": "1本"}]
#: 当事人 refuses to sign the 清单: the officers note it, a witness signs on the screen (the 执法记录仪 recorded it)
REFUSED_PRESERVATION = {
    "mode": "refused", "refusal_note": "当事人对先行登记保存物品清单无异议，但拒绝签名；执法人员当场注明。",
    "witness_name": "赵某某", "witness_identity": "所在社区居委会工作人员", "witness_signature": drawn_signature(2),
    "av_record": "执法记录仪 DSJ-0231 录像"}


def _preservation(signature: dict[str, Any]) -> Scenario:
    investigation = _investigation({})
    at = [s.spec_id for s in investigation].index("register_evidence")
    preserved = [Step("register_evidence", {"preservation_requested": True, "next_action": "final_report",
                                            "evidence_items": _PRESERVED_ITEMS}),
                 Step("approve_preservation", {"preservation_approved": True, "storage_place": "呈州市和平路8号店内",
                                               "preservation_opinion": "价目表和登记簿是无证经营的证据，可能灭失，同意先行登记保存",
                                               "party_signature": signature})]
    refused = signature.get("mode") == "refused"
    return Scenario(
        "penalty_preservation_refused" if refused else "penalty_preservation", "penalty_published",
        (*_filing(), *investigation[:at], *preserved, *investigation[at + 1:], *_deliberation("penalty"), *_notice(),
         Step("await_party_response", {"response": "waiver"}), APPROVE, *_decision_to_close()),
        description="先行登记保存：当事人拒绝签名，执法人员注明，见证人签名" if refused else
        "先行登记保存：当事人在屏幕上手写签名")


PRESERVATIONS: dict[str, Scenario] = {s.name: s for s in (_preservation(_signed("王某某", strokes=4)),
                                                           _preservation(REFUSED_PRESERVATION))}


@dataclass(frozen=True)
class PlatformCase:
    """A demo case across the platform's agencies (issue 16; engine/seed_platform.py plays it): `scenario` played
    as any, then — after what the seed does in between, a superior agency's flag or the hand-over's arrival at
    the receiving agency — the steps `then`, on the same case or on the one the hand-over opened there (by that
    agency's people)."""

    scenario: Scenario
    then: tuple[Step, ...]


# A 和平区 case flagged for 挂牌督办 by the city's supervisor once filed (before its 现场检查), then its first progress
# report by its officer.
PLATFORM_SUPERVISED = PlatformCase(
    Scenario("platform_supervised", "open", tuple(_filing()), description="挂牌督办：立案后由上级机关挂牌，首次报告查办进展"),
    (Step("report_supervision", {"supervision_progress": "已立案并调取经营记录，拟于近日开展现场检查。",
                                 "supervision_final_report": False}, actor="officer1"),))


def _now(ctx: Context) -> str:
    return ctx.now.isoformat()


def handed_over(receiving_agency: str) -> PlatformCase:
    """A complaint of an act at another district: accepted for hand-over by the head, handed over by the clerk to
    `receiving_agency` (a platform agency's code) — the sender's case ends `transferred` — then received there by
    its head, its case waiting for its own 受理审查."""
    return PlatformCase(
        Scenario("handed_over", "transferred", (
            Step("acceptance_review", {"acceptance_decision": "hand_over",
                                       "acceptance_opinion": "违法行为发生地在西山区，移送西山区卫生健康局",
                                       "case_summary": "美容工作室无证经营"}, actor="head"),
            Step("hand_over_complaint", {"receiving_agency": receiving_agency,
                                         "transfer_reason": "违法行为发生地在西山区（地域管辖）", "transferred_at": _now},
                 actor="clerk")),
            intake={"respondent": {"name": "呈州市西山区悦颜美容工作室", "kind": "organisation",
                                   "credit_code": "92330106MA2H5J6K7C", "address": "呈州市西山区西山路18号"},
                    "violation_type": "public_place_unlicensed",
                    "content": "西山路一美容工作室未取得公共场所卫生许可证即营业。"},
            description="平台内移送：违法行为发生地在另一区，移送该区卫生健康局并由其接收"),
        (Step("receive_transfer", {"receive_decision": "accept", "receive_opinion": "属本局管辖，予以接收"}, actor="head"),))


# Cases the demo seed leaves waiting for a person, by what they show: (scenario, the step it waits at). The
# seed (engine/seed.py) and the benchmarks' screenshots name the case they want, never a step id.
WAITING: dict[str, tuple[str, str]] = {
    "acceptance": ("penalty_waiver", "acceptance_review"),
    "claimable": ("penalty_waiver", "preliminary_check"),
    "inspection": ("penalty_waiver", "onsite_inspection"),
    "vote": ("penalty_statement", "panel_vote"),
    "party_response": ("penalty_statement", "await_party_response"),
    "review": ("penalty_legal_correction", "legal_review"),
    "collective": ("penalty_collective", "collective_discussion"),
    "decision": ("penalty_waiver", "make_decision"),
    "release": ("penalty_waiver", "release_publication"),
}
# Where the engine benchmark (bench/engine.py) leaves one penalty_waiver case each, for its task lists.
BENCH_STOPS = ("preliminary_check", "onsite_inspection", "investigation_report", "panel_vote",
               "await_party_response", "legal_review", "make_decision", "release_publication")


def play_step(instance: ProcessInstance, step: Step, clock: MutableClock, settings: Settings,
              calendar: WorkingCalendar, *, check_gates: bool = True,
              record: list[tuple[str, dict[str, Any]]] | None = None) -> list[str]:
    """Play one step in memory; returns the timers fired (for "@timer" steps).

    `record` collects (task spec id, form data with `_actor`) of user steps, as the engine records them.
    """
    if step.spec_id == TIMER:
        target = step.until(Context(clock(), instance.data, settings, calendar)) if step.until else \
            instance.next_timer_due()
        if target is None:
            raise AssertionError("no timer is waiting")
        clock.advance_to(target + dt.timedelta(seconds=1))
        return instance.fire_due_timers()
    if step.spec_id in instance.definition.message_starts:  # a step taken without a task (挂牌督办)
        start = instance.definition.message_starts[step.spec_id]
        ctx = Context(clock(), instance.data, settings, calendar)
        data = sample_form_data(instance.definition.forms[start.form], resolve(step.overrides, ctx), now=clock())
        actor = step.actor or default_actor(start.role, None)
        if check_gates and (gate := instance.evaluate_message_gates(start.spec_id, data, actor)) is not None:
            raise AssertionError(f"gate refused {step.spec_id}: {gate.article} {gate.message}")
        instance.receive(start.spec_id, {**data, "_actor": actor})
        if record is not None:
            record.append((start.spec_id, {**data, "_actor": actor}))
        return []
    ready = [t for t in instance.ready_user_tasks() if t.spec_id == step.spec_id]
    if step.actor:
        ready = [t for t in ready if t.assignee_hint in (None, step.actor)]
    if not ready:
        names = sorted({t.spec_id for t in instance.ready_user_tasks()})
        raise AssertionError(f"{step.spec_id} is not ready; ready: {names}")
    task = ready[0]
    ctx = Context(clock(), task.data, settings, calendar)
    schema = instance.definition.form_schema(task.spec_id)
    # A drawn signature as the engine records it once stored as a file (engine/usecases/drawn_images.py): by
    # digest, so that this run and the engine's give the same form data.
    data = as_recorded(schema, sample_form_data(schema, resolve(step.overrides, ctx), now=clock()))
    data = {**data, **in_force(instance.definition, settings, schema)}  # as the engine records them (completion.py)
    actor = step.actor or default_actor(task.role, task.assignee_hint)
    if check_gates:
        gate = instance.evaluate_gates(task.id, {**data, "_actor": actor})
        if gate is not None:
            raise AssertionError(f"gate refused {step.spec_id}: {gate.article} {gate.message}")
    instance.complete(task.id, {**data, "_actor": actor})
    if record is not None:
        record.append((task.spec_id, {**data, "_actor": actor}))
    return []


def run_scenario(definition: LoadedDefinition, scenario: Scenario, *, start: dt.datetime, settings: Settings,
                 calendar: WorkingCalendar, stop_before: int | None = None,
                 on_step: Callable[[int, Step], None] | None = None,
                 record: list[tuple[str, dict[str, Any]]] | None = None) -> tuple[ProcessInstance, MutableClock]:
    """Play a scenario in memory from its intake; each user step happens one hour after the previous one."""
    from engine.spiff.instance import ProcessInstance

    clock = MutableClock(start)
    intake = scenario.intake_data(now=start)
    instance = ProcessInstance.start(definition, intake, clock=clock, settings=settings, calendar=calendar)
    if record is not None:
        record.append((str(definition.start_meta.get("id", "start")), intake))
    for index, step in enumerate(scenario.steps):
        if stop_before is not None and index >= stop_before:
            break
        clock.advance_to(clock() + dt.timedelta(hours=1))
        play_step(instance, step, clock, settings, calendar, record=record)
        if on_step:
            on_step(index, step)
    return instance, clock



def long_case(steps: int) -> tuple[Scenario, int]:
    """A general-procedure case of `steps` signed steps before its decision, and the index of that decision.

    The model's repeatable steps make it long: evidence registered again and again in the investigation loop
    (证据登记 → 继续调查), and 法制审核 sent back for 补正 and corrected again and again. The hearing sub-process
    has no way back in the model (a reopened hearing is not a path of it), so it adds nothing here. The
    benchmark (bench/engine.py --long-case) times the decision against the same step of a fresh case.
    """
    waiver = SCENARIOS["penalty_waiver"]
    fresh = [s.spec_id for s in waiver.steps].index("make_decision")
    extra = steps - fresh
    if extra < 2:
        raise ValueError(f"a long case needs at least {fresh + 2} steps before its decision")
    corrections = extra // 4  # half the extra steps are 补正 rounds (two steps each), the rest evidence
    evidence = extra - 2 * corrections
    investigation = _investigation({})
    # the inquiry already leads to 证据登记 (next_action 'evidence'); each of these asks for one more, and the
    # scenario's own registration after them ends the investigation (next_action 'final_report')
    more = {"preservation_requested": False, "next_action": "evidence"}
    loop = [Step("register_evidence", more)] * evidence
    back = [Step("legal_review", {"legal_conclusion": "correct"}),
            Step("correct_case", {"corrections": "补充证据目录", "revised_fine": 3000})] * corrections
    body = (*_filing(), *investigation[:2], *loop, *investigation[2:], *_deliberation("penalty"), *_notice(),
            Step("await_party_response", {"response": "waiver"}), *back, APPROVE, *_decision_to_close())
    scenario = Scenario(f"long_case_{steps}", "penalty_published", body, description="长案件：反复证据登记与法制审核补正")
    return scenario, [s.spec_id for s in body].index("make_decision")


def correction_rounds(rounds: int) -> tuple[Scenario, int]:
    """A `penalty_legal_correction` case whose 法制审核 sends it back for 补正 `rounds` times (two steps each) before
    approving it, and the index of its decision: the longest loop a case takes through the whole stack."""
    if rounds < 1:
        raise ValueError("at least one 补正 round")
    base = SCENARIOS["penalty_legal_correction"].steps
    ids = [s.spec_id for s in base]
    first = ids.index("legal_review")
    round_ = base[first:first + 2]  # 法制审核 (correct) → 补正
    body = (*base[:first], *round_ * rounds, *base[first + 2:])
    scenario = Scenario(f"correction_rounds_{rounds}", "penalty_published", body, description="法制审核反复退回补正")
    return scenario, [s.spec_id for s in body].index("make_decision")
