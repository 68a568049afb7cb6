"""Every outcome of the statutory procedure, driven end to end through the real model."""

from __future__ import annotations

import pytest

from engine.spiff.scenarios import PRESERVATIONS, SCENARIOS, run_scenario

EXPECTED_STEPS = {
    "penalty_hearing": ["schedule_hearing", "wait_hearing_date", "hold_hearing", "hearing_report"],
    "penalty_window_elapsed": ["window_elapsed", "record_window_elapsed"],
    "penalty_statement": ["review_statement", "statement_window_closed"],
    "penalty_statement_hearing_window": ["review_statement", "wait_statement_window"],
    "penalty_legal_correction": ["legal_review", "correct_case"],
    "penalty_collective": ["collective_discussion", "collective_done_script"],
    "summary_penalty": ["dmn_procedure", "summary_penalty"],
    "transferred": ["transfer_complaint", "record_transfer_receipt", "record_transfer_feedback"],
    "not_accepted": ["notify_not_accepted"],
    "not_filed": ["notify_not_filed"],
    "no_penalty_minor": ["no_penalty_decision"],
    "no_penalty_facts": ["no_penalty_decision"],
    "referred_judicial": ["refer_judicial", "record_transfer_receipt", "record_transfer_feedback"],
    "penalty_preservation": ["register_evidence", "approve_preservation", "investigation_report"],
    "penalty_preservation_refused": ["register_evidence", "approve_preservation", "investigation_report"],
}
ALL = {**SCENARIOS, **PRESERVATIONS}  # 先行登记保存's scenarios too: not in SCENARIOS (engine/spiff/scenarios.py)


@pytest.mark.parametrize("name", sorted(ALL))
def test_scenario_reaches_its_outcome_and_closes(name, definition, settings, calendar, start):
    scenario = ALL[name]
    instance, _ = run_scenario(definition, scenario, start=start, settings=settings, calendar=calendar)
    assert instance.completed
    assert instance.outcome == scenario.outcome
    assert instance.stage == "closed"
    assert instance.ready_user_tasks() == []
    path = instance.completed_path()
    for spec_id in EXPECTED_STEPS.get(name, []):
        assert spec_id in path, f"{spec_id} missing from {path}"


def test_legal_review_return_for_correction_loops_back(definition, settings, calendar, start):
    instance, _ = run_scenario(definition, SCENARIOS["penalty_legal_correction"], start=start, settings=settings,
                               calendar=calendar)
    path = instance.completed_path()
    first = path.index("legal_review")
    assert path.index("correct_case") > first
    assert "legal_review" in path[path.index("correct_case"):]


def test_outcome_stays_open_until_the_case_closes(definition, settings, calendar, start):
    scenario = SCENARIOS["penalty_waiver"]
    instance, _ = run_scenario(definition, scenario, start=start, settings=settings, calendar=calendar,
                               stop_before=len(scenario.steps) - 1)
    assert instance.outcome == "open"
    assert instance.stage == "closing"
    assert [t.spec_id for t in instance.ready_user_tasks()] == ["notify_result"]


def test_anonymous_complainant_is_not_told(definition, settings, calendar, start):
    instance, _ = run_scenario(definition, SCENARIOS["not_filed_anonymous"], start=start, settings=settings,
                               calendar=calendar)
    assert instance.outcome == "not_filed"
    assert "notify_not_filed" not in instance.completed_path()


def test_dmn_tables_feed_the_case(definition, settings, calendar, start):
    scenario = SCENARIOS["penalty_hearing"]
    index = [s.spec_id for s in scenario.steps].index("appoint_panel")
    instance, _ = run_scenario(definition, scenario, start=start, settings=settings, calendar=calendar,
                               stop_before=index)
    data = instance.data
    assert data["hearing_right"] is True  # 25000 yuan >= the province's 较大数额 for organisations
    assert data["exemption"] == "none"
    assert (data["fine_min"], data["fine_max"]) == (5000, 30000)  # 公共场所 无证营业, 加重情形
    assert data["procedure"] == "general"


def test_deliberation_keeps_dissent(definition, settings, calendar, start):
    scenario = SCENARIOS["no_penalty_facts"]
    instance, _ = run_scenario(definition, scenario, start=start, settings=settings, calendar=calendar)
    data = instance.data
    assert data["deliberation_outcome"] == "no_penalty_facts"
    assert [d["member"] for d in data["deliberation_dissent"]] == ["panel3"]
    assert len(data["ballots"]) == 3


def test_panel_votes_are_assigned_to_each_member(definition, settings, calendar, start):
    scenario = SCENARIOS["penalty_waiver"]
    index = [s.spec_id for s in scenario.steps].index("panel_vote")
    instance, _ = run_scenario(definition, scenario, start=start, settings=settings, calendar=calendar,
                               stop_before=index)
    votes = [t for t in instance.ready_user_tasks() if t.spec_id == "panel_vote"]
    assert sorted(t.assignee_hint for t in votes) == ["panel1", "panel2", "panel3"]
    assert {t.role for t in votes} == {"panel"}
    assert all(t.document == "deliberation_record" for t in votes)
