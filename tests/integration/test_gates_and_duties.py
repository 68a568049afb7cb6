"""Legal gates and separation of duties, enforced by `complete_task` (not only by the model)."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import replace

import pytest

from engine.demo import SCENARIOS, play
from engine.demo_users import DEMO_PASSWORD, DEMO_PIN
from engine.errors import Conflict, Forbidden, LegalGateRefused, ValidationError
from engine.rules.settings import parse_settings
from engine.spiff.driving import sample_form_data
from engine.usecases.cases import show_case
from engine.usecases.tasks import assign_task, claim_task, complete_task, list_tasks, show_task
from engine.usecases.users import add_user
from engine.values import AddUser, AssignTask, ClaimTask, CompleteTask, fixed_clock
from tests.conftest import at

START = at("2026-09-14 09:00")


@pytest.fixture
def ready_svc(ready_svc):
    # An officer who is also a trained legal reviewer: allowed to review, but never a case of their own.
    add_user(AddUser(user_id="dual", name="钱双岗", password=DEMO_PASSWORD, roles=["officer", "legal"],
                     pin=DEMO_PIN, cert_no="呈卫执 2024-0301", cert_valid_until=dt.date(2031, 6, 30)), svc=ready_svc, clock=fixed_clock(START))
    return ready_svc


def _stop_at(svc, scenario: str, spec_id: str, **intake):
    sc = SCENARIOS[scenario]
    if intake:
        sc = replace(sc, intake={**sc.intake, **intake})
    index = [s.spec_id for s in sc.steps].index(spec_id)
    case = play(svc, sc, start=START, stop_before=index).case
    task = next(t for t in list_tasks(svc, case=case.number) if t.spec_id == spec_id)
    return case, show_task(svc, task.id)


def _complete(svc, task, user, overrides=None, when="2026-12-20 10:00"):
    data = sample_form_data(task.form_schema, overrides or {}, now=at(when))
    return complete_task(CompleteTask(task_id=task.id, user_id=user, data=data, pin=DEMO_PIN), svc=svc, clock=fixed_clock(at(when)))


def test_summary_procedure_above_art_51_limit_is_refused(ready_svc):
    citizen = {"name": "刘某", "kind": "citizen", "address": "呈州市和平路9号"}
    case, task = _stop_at(ready_svc, "summary_penalty", "summary_penalty", respondent=citizen)
    with pytest.raises(LegalGateRefused) as err:  # a citizen: at most 200 yuan on the spot
        _complete(ready_svc, task, "officer1", {"summary_fine": 500, "penalty_warning": True,
                                                "collected_on_spot": False})
    assert "第五十一条" in err.value.article
    assert show_case(ready_svc, case.number).stage == task.stage  # nothing written


ORGANISATION = {"name": "呈州市某某宾馆有限公司", "kind": "organisation", "credit_code": "91330100MA2C7D8E9K",
                "address": "呈州市解放路126号"}
SUMMARY_5000 = {"summary_fine": 5000, "penalty_warning": False, "collected_on_spot": False}


def test_a_5000_yuan_summary_fine_on_an_organisation_reaches_the_art_51_gate(ready_svc):
    """The form sets no limit of its own: the province's limit (settings) refuses, and the refusal names the
    article and states the limits in force."""
    case, task = _stop_at(ready_svc, "summary_penalty", "summary_penalty", respondent=ORGANISATION)
    assert "maximum" not in task.form_schema["properties"]["summary_fine"]
    with pytest.raises(LegalGateRefused) as err:
        _complete(ready_svc, task, "officer1", SUMMARY_5000)
    assert "第五十一条" in err.value.article
    assert "3000元" in str(err.value) and "200元" in str(err.value)
    assert show_case(ready_svc, case.number).stage == task.stage  # nothing written


def test_a_province_with_a_higher_art_51_limit_accepts_the_5000_yuan_summary_fine(ready_svc):
    raw = copy.deepcopy(dict(ready_svc.settings.raw))
    raw["thresholds"]["summary_fine_max_organisation"]["value"] = 10000
    svc = replace(ready_svc, settings=parse_settings(raw))
    case, task = _stop_at(svc, "summary_penalty", "summary_penalty", respondent=ORGANISATION)
    done = _complete(svc, task, "officer1", SUMMARY_5000)
    assert done.status == "completed"
    assert show_case(svc, case.number).stage != task.stage  # the case went on past the summary penalty


def test_the_panel_votes_again_after_a_round_without_a_majority(ready_svc):
    """One vote per member per round (the model's gate and assignment): a round without an absolute majority
    is voted again by the same members."""
    case, _ = _stop_at(ready_svc, "penalty_waiver", "panel_vote")
    split = {"panel1": "penalty", "panel2": "no_penalty_minor", "panel3": "referred_judicial"}
    for vote in [show_task(ready_svc, t.id) for t in list_tasks(ready_svc, case=case.number) if t.spec_id == "panel_vote"]:
        _complete(ready_svc, vote, vote.assignee, {"vote": split[vote.assignee]})
    again = [show_task(ready_svc, t.id) for t in list_tasks(ready_svc, case=case.number) if t.spec_id == "panel_vote"]
    assert sorted(v.assignee for v in again) == ["panel1", "panel2", "panel3"]
    for vote in again:
        _complete(ready_svc, vote, vote.assignee, {"vote": "penalty"}, when="2026-12-21 10:00")
    assert not [t for t in list_tasks(ready_svc, case=case.number) if t.spec_id == "panel_vote"]


def test_investigator_may_not_chair_the_hearing(ready_svc):
    _case, task = _stop_at(ready_svc, "penalty_hearing", "schedule_hearing")
    with pytest.raises(LegalGateRefused) as err:
        _complete(ready_svc, task, "head", {"hearing_chair": "officer2", "public_hearing": True,
                                            "hearing_at": "2027-01-05T09:00:00+08:00"})
    assert "第六十四条" in err.value.article


def test_case_officer_never_sees_or_takes_the_legal_review_of_own_case(ready_svc):
    scenario = SCENARIOS["penalty_waiver"]
    steps = list(scenario.steps)
    accept = steps[0]
    steps[0] = type(accept)(accept.spec_id, {**accept.overrides, "case_officers": ["dual", "officer2"]})
    played = play(ready_svc, replace(scenario, steps=tuple(steps)), start=START,
                  stop_before=[s.spec_id for s in steps].index("legal_review")).case
    review = next(t for t in list_tasks(ready_svc, case=played.number) if t.spec_id == "legal_review")
    assert "dual" in show_task(ready_svc, review.id).excluded
    assert review.id not in {t.id for t in list_tasks(ready_svc, user_id="dual")}
    assert review.id in {t.id for t in list_tasks(ready_svc, user_id="legal")}
    with pytest.raises(Forbidden):
        claim_task(ClaimTask(review.id, "dual"), svc=ready_svc, clock=fixed_clock(at("2026-12-01 09:00")))
    with pytest.raises(Forbidden):
        _complete(ready_svc, show_task(ready_svc, review.id), "dual", {"legal_conclusion": "approve"})


def test_a_panel_member_votes_once_even_when_given_a_second_vote(ready_svc):
    case, _ = _stop_at(ready_svc, "penalty_waiver", "panel_vote")
    votes = [show_task(ready_svc, t.id) for t in list_tasks(ready_svc, case=case.number) if t.spec_id == "panel_vote"]
    assert sorted(v.assignee for v in votes) == ["panel1", "panel2", "panel3"]
    mine = next(v for v in votes if v.assignee == "panel1")
    other = next(v for v in votes if v.assignee == "panel2")
    with pytest.raises(Forbidden):
        _complete(ready_svc, other, "panel1", {"vote": "penalty"})
    _complete(ready_svc, mine, "panel1", {"vote": "penalty"})
    assign_task(AssignTask(other.id, "panel1", by="head", pin=DEMO_PIN), svc=ready_svc,
                clock=fixed_clock(at("2026-12-20 11:00")))
    with pytest.raises(LegalGateRefused) as err:
        _complete(ready_svc, show_task(ready_svc, other.id), "panel1", {"vote": "penalty"})
    assert "合议" in err.value.article


def test_invalid_form_names_the_field_and_writes_nothing(ready_svc):
    case, task = _stop_at(ready_svc, "penalty_waiver", "acceptance_review")
    with pytest.raises(ValidationError) as err:
        complete_task(CompleteTask(task_id=task.id, user_id="head", data={"acceptance_decision": "maybe"}),
                      svc=ready_svc, clock=fixed_clock(START))
    assert "acceptance_decision" in err.value.errors
    assert "acceptance_opinion" in err.value.errors
    with pytest.raises(ValidationError) as err:
        _complete(ready_svc, task, "head", {"legal_review_passed": True})
    assert "(form)" in err.value.errors  # unknown fields never reach the case data
    after = show_case(ready_svc, case.number)
    assert [t.spec_id for t in after.open_tasks if not t.supervision] == ["acceptance_review"]
    assert [e.kind for e in after.events] == ["opened"]


def test_a_completed_task_cannot_be_completed_again(ready_svc):
    _case, task = _stop_at(ready_svc, "penalty_waiver", "preliminary_check")
    _complete(ready_svc, task, "officer1", dict(SCENARIOS["penalty_waiver"].steps[1].overrides))
    with pytest.raises(Conflict):
        _complete(ready_svc, task, "officer2", dict(SCENARIOS["penalty_waiver"].steps[1].overrides))


def test_wrong_role_and_strangers_are_refused(ready_svc):
    _case, task = _stop_at(ready_svc, "penalty_waiver", "preliminary_check")
    with pytest.raises(Forbidden):
        _complete(ready_svc, task, "publisher")
    with pytest.raises(Forbidden):  # an officer who is not one of the case's officers
        _complete(ready_svc, task, "officer3", dict(SCENARIOS["penalty_waiver"].steps[1].overrides))
