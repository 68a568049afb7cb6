"""The case summary above a judgement: built from the signed steps, the panel's tally only once its round has
closed, and never the complainant's identity."""

from __future__ import annotations

import json

import pytest

from engine.demo import SCENARIOS, play
from engine.usecases.case_summary import case_summary, task_case_summary
from engine.usecases.tasks import list_tasks
from engine.usecases.viewer import case_for_viewer, task_for_viewer
from engine.values import fixed_clock
from tests.conftest import at

START = at("2026-09-14 09:00")
CLOCK = fixed_clock(at("2027-03-01 09:00"))
IDENTITY = ("张三", "13800000000", "和平路1号")  # the default complainant (engine/spiff/driving.py)


def _stop_before(svc, spec_id: str, nth: int = 0):
    sc = SCENARIOS["penalty_waiver"]
    index = [i for i, s in enumerate(sc.steps) if s.spec_id == spec_id][nth]
    return play(svc, sc, start=START, stop_before=index).case


def _task(svc, case, spec_id: str, viewer: str):
    task = next(t for t in list_tasks(svc, case=case.number) if t.spec_id == spec_id)
    return task_for_viewer(svc, task.id, viewer, at=CLOCK())


def test_the_head_deciding_reads_the_signed_case_with_range_tally_and_legal_opinion(ready_svc):
    case = _stop_before(ready_svc, "make_decision")
    view = _task(ready_svc, case, "make_decision", "head")
    summary = task_case_summary(ready_svc, view, clock=CLOCK)
    assert summary is not None
    [facts] = summary.section("facts")
    assert facts.values["facts"] and facts.record_seq > 1  # the investigation report, as its record says
    assert summary.section("evidence")[0].values["evidence_summary"]
    assert summary.section("basis")[0].values["legal_basis"]
    measure = {k: v for e in summary.section("measure") for k, v in e.values.items()}
    assert measure["proposed_fine"] == 3000 and measure["notified_fine"] == 3000
    # 裁量基准: public_place_unlicensed × ordinary is 1500–3500 (discretion_benchmark.dmn), the fine within it
    assert (summary.benchmark.fine_min, summary.benchmark.fine_max, summary.benchmark.fine) == (1500, 3500, 3000)
    assert summary.benchmark.within is True and "第三十五条" in summary.benchmark.basis
    assert summary.tally is not None
    assert summary.tally.tally.counts == (("penalty", 3),) and summary.tally.tally.decision == "penalty"
    [party] = summary.section("party")
    assert party.values["response"] == "waiver"
    legal = {k: v for e in summary.section("legal") for k, v in e.values.items()}
    assert legal["legal_conclusion"] == "approve" and legal["check_facts"] is True
    text = json.dumps(summary.to_json(), ensure_ascii=False)
    assert not any(word in text for word in IDENTITY)  # the head may see it on the case page, not here


def test_a_page_whose_form_does_not_ask_for_it_has_no_summary(ready_svc):
    case = _stop_before(ready_svc, "prior_notice")
    assert task_case_summary(ready_svc, _task(ready_svc, case, "prior_notice", "officer1"), clock=CLOCK) is None


@pytest.mark.parametrize("viewer", ["panel1", "panel2", "head"])
def test_while_the_panel_votes_no_tally_and_no_vote_is_in_the_summary(ready_svc, viewer):
    case = _stop_before(ready_svc, "panel_vote", nth=1)  # panel1 has voted, two votes are open
    summary = case_summary(ready_svc, case_for_viewer(ready_svc, case.number, viewer), clock=CLOCK)
    assert summary.tally is None
    text = json.dumps(summary.to_json(), ensure_ascii=False)
    assert '"vote"' not in text and "suggested_fine" not in text and "opinion" not in text
    assert summary.section("facts") and summary.benchmark is not None  # the material is there
    assert not any(word in text for word in IDENTITY)


def test_the_evidence_files_of_the_signed_steps_are_listed_without_the_complaints_material(ready_svc):
    from tests.web.webcases import case_with_evidence

    made = case_with_evidence(ready_svc)
    task = next(t for t in list_tasks(ready_svc, case=made.number) if t.spec_id == "register_evidence")
    view = task_for_viewer(ready_svc, task.id, "officer1", at=CLOCK())
    summary = case_summary(ready_svc, view.case, clock=CLOCK)
    names = {f.name for f in summary.evidence}
    # Attached at 现场检查; the clerk's staged PDF is not signed; the parties' drawn signatures are no evidence.
    assert names == {"门口.jpg", "执法记录仪.mp4"}
    assert all(f.seq and f.seq > 1 for f in summary.evidence)
