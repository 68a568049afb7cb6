"""Every hard legal gate refuses with its article (defence in depth beside the model's structure)."""

from __future__ import annotations

import pytest

from engine.spiff.driving import sample_form_data
from engine.spiff.scenarios import SCENARIOS, run_scenario


def _ready(definition, settings, calendar, start, scenario_name, spec_id):
    scenario = SCENARIOS[scenario_name]
    index = [s.spec_id for s in scenario.steps].index(spec_id)
    instance, clock = run_scenario(definition, scenario, start=start, settings=settings, calendar=calendar,
                                   stop_before=index)
    task = [t for t in instance.ready_user_tasks() if t.spec_id == spec_id][0]
    good = sample_form_data(definition.form_schema(spec_id), {}, now=clock())
    return instance, task, good


CASES = [
    # (scenario, task, submitted data, article fragment)
    ("penalty_waiver", "acceptance_review", {"acceptance_decision": "accept", "case_officers": ["officer1"]}, "第四十二条"),
    ("summary_penalty", "summary_penalty", {"summary_fine": 3500}, "第五十一条"),
    ("summary_penalty", "summary_penalty", {"summary_fine": 200, "other_measures_proposed": True}, "第五十一条"),
    ("summary_penalty", "summary_penalty", {"summary_fine": 150, "collected_on_spot": True}, "第六十八条"),
    ("penalty_hearing", "schedule_hearing", {"hearing_chair": "officer1", "hearing_at": "2027-01-01T09:00:00+08:00"},
     "第六十四条第四项"),
    ("penalty_hearing", "schedule_hearing", {"hearing_chair": "legal", "hearing_at": "2026-10-09T09:00:00+08:00",
                                             "hearing_notice_served_at": "2026-10-08T09:00:00+08:00"}, "第六十四条第二项"),
    ("penalty_hearing", "hold_hearing", {"_actor": "officer2"}, "第六十四条第四项"),
    ("penalty_waiver", "legal_review", {"_actor": "officer1"}, "第五十八条"),
    ("penalty_waiver", "appoint_panel", {"panel_members": ["panel1", "panel2", "panel3", "head2", "legal"]}, "合议"),
    ("penalty_waiver", "panel_vote", {"_actor": "officer1"}, "合议"),
    ("penalty_statement", "review_statement", {"revised_fine": 5000}, "第四十五条"),
    ("penalty_legal_correction", "correct_case", {"revised_fine": 9000}, "第四十五条"),
    ("penalty_waiver", "make_decision", {"notice_served": False}, "第六十二条"),
    ("penalty_waiver", "make_decision", {"response_window_closed": False}, "第六十二条"),
    ("penalty_waiver", "make_decision", {"legal_review_passed": False}, "第五十八条"),
    ("penalty_waiver", "make_decision", {"major_case": True}, "第五十七条"),
    ("penalty_waiver", "make_decision", {"final_fine": 3500}, "第四十五条"),
    ("penalty_waiver", "make_decision", {"exemption": "minor_mandatory"}, "第三十三条"),
    ("no_penalty_minor", "no_penalty_decision", {"no_penalty_ground": "minor", "education_given": False}, "第三十三条第三款"),
    ("penalty_waiver", "serve_prior_notice", {"service_method": "electronic"}, "第六十一条"),
    ("penalty_waiver", "serve_decision", {"service_method": "electronic"}, "第六十一条"),
    ("penalty_waiver", "prepare_publication", {"publish": True, "party_is_minor": True}, "未成年人"),
]


@pytest.mark.parametrize(("scenario", "spec_id", "bad", "article"), CASES,
                         ids=[f"{c[1]}-{c[3]}-{i}" for i, c in enumerate(CASES)])
def test_gate_refuses_with_article(definition, settings, calendar, start, scenario, spec_id, bad, article):
    instance, task, good = _ready(definition, settings, calendar, start, scenario, spec_id)
    gate = instance.evaluate_gates(task.id, {**good, **bad})
    assert gate is not None, f"{spec_id} accepted {bad}"
    assert article in gate.article
    assert gate.message


def test_decision_allowed_once_every_condition_holds(definition, settings, calendar, start):
    instance, task, good = _ready(definition, settings, calendar, start, "penalty_waiver", "make_decision")
    assert instance.evaluate_gates(task.id, {**good, "final_fine": 3000, "final_warning": True}) is None


def test_court_enforcement_waits_ten_days_after_the_reminder(definition, settings, calendar, start):
    scenario = SCENARIOS["penalty_waiver"]
    index = [s.spec_id for s in scenario.steps].index("record_payment")
    instance, clock = run_scenario(definition, scenario, start=start, settings=settings, calendar=calendar,
                                   stop_before=index)
    payment = [t for t in instance.ready_user_tasks() if t.spec_id == "record_payment"][0]
    instance.complete(payment.id, {"payment_status": "unpaid"})
    task = [t for t in instance.ready_user_tasks() if t.spec_id == "court_enforcement"][0]
    data = sample_form_data(definition.form_schema("court_enforcement"), {
        "reminder_served_at": "2026-12-01T09:00:00+08:00", "application_at": "2026-12-05T09:00:00+08:00"})
    gate = instance.evaluate_gates(task.id, data)
    assert gate is not None and "行政强制法》第五十四条" in gate.article
    assert instance.evaluate_gates(task.id, {**data, "application_at": "2026-12-12T09:00:00+08:00"}) is None


def test_gate_that_cannot_be_evaluated_refuses(definition, settings, calendar, start):
    instance, task, good = _ready(definition, settings, calendar, start, "penalty_statement", "review_statement")
    gate = instance.evaluate_gates(task.id, {k: v for k, v in good.items() if k != "revised_fine"})
    assert gate is not None and "第四十五条" in gate.article
