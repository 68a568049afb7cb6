"""The duties and visibility rules alone: plain values in, answers out (no database, no app)."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.rules.duties import (
    AUDITOR_VIEW,
    CaseFacts,
    Person,
    TaskFacts,
    closed,
    eligible_assignees,
    may_act,
    may_claim,
    may_download,
    may_download_dossier,
    may_see_case,
    may_see_identity,
    may_unclaim,
    owed_vote,
    refusal_to_act,
    refusal_to_add_evidence,
    refusal_to_assign,
    refusal_to_be_assigned,
    refusal_to_see_case,
    refusal_to_see_task,
    refusal_to_urge,
    refusal_to_vote,
    sealing_for,
    stranded_names,
    team_scope,
)
from engine.rules.redaction import REDACTED, redact_complaint, redact_identity
from engine.values import TaskView

CASE = CaseFacts(7, members=frozenset({"x", "officer1", "head", "legal"}))  # "x": the person asked about
OUTSIDE = CaseFacts(8)  # a case nobody asked about takes part in, offering no task by lane
OFFICER1 = Person.of("officer1", ["officer"])
OFFICER3 = Person.of("officer3", ["officer"])
HEAD = Person.of("head", ["head"])
HEAD2 = Person.of("head2", ["head"])
PANEL1, PANEL2 = Person.of("panel1", ["panel"]), Person.of("panel2", ["panel"])
CHECK = TaskFacts(role="officer", restricted=True, candidates=frozenset({"officer1", "officer2"}))


def test_a_task_offered_by_name_is_only_for_those_named():
    assert may_act(OFFICER1, CHECK)
    refused = refusal_to_act(OFFICER3, CHECK)
    assert refused is not None and refused.kind == "not_offered" and "officer3" in refused.message
    assert may_act(OFFICER3, TaskFacts(role="officer"))  # open to the group: any officer


def test_the_reasons_come_in_order_role_then_separation_then_offer_then_holder():
    assert refusal_to_act(HEAD, CHECK).kind == "role"
    barred = TaskFacts(role="officer", excluded=frozenset({"officer1"}), restricted=True,
                       candidates=frozenset({"officer1"}))
    assert refusal_to_act(OFFICER1, barred).kind == "excluded"
    assert "回避" in refusal_to_act(OFFICER1, barred).message
    held = TaskFacts(role="officer", assignee="officer2")
    assert refusal_to_act(OFFICER1, held).kind == "held"
    assert may_act(Person.of("officer2", ["officer"]), held)
    assert refusal_to_act(Person.of("officer1", ["officer"], active=False), TaskFacts(role="officer")).kind == "inactive"


def test_a_closed_task_is_no_ones():
    done = TaskFacts(role="officer", status="completed", completed_by="officer1")
    assert refusal_to_act(OFFICER1, done).kind == "closed"
    assert "officer1" in closed(done).message
    assert closed(TaskFacts(role="officer")) is None


def test_the_assignee_of_a_named_task_may_act_though_not_named():
    handed = TaskFacts(role="officer", restricted=True, candidates=frozenset({"officer1"}), assignee="officer3")
    assert may_act(OFFICER3, handed)


def test_claiming_and_returning():
    assert may_claim(OFFICER1, CHECK) and not may_claim(OFFICER3, CHECK)
    assert not may_claim(OFFICER1, TaskFacts(role="officer", assignee="officer1"))  # already theirs
    assert may_unclaim(OFFICER1, TaskFacts(role="officer", assignee="officer1"))
    assert not may_unclaim(OFFICER1, TaskFacts(role="officer", assignee="officer2"))
    assert not may_unclaim(PANEL1, TaskFacts(role="panel", assignee="panel1", vote=True))


def test_one_vote_per_member():
    vote = TaskFacts(role="panel", vote=True)
    assert refusal_to_vote(PANEL1, vote, voted=True).kind == "voted"
    assert refusal_to_vote(PANEL1, vote, voted=False) is None
    assert refusal_to_vote(OFFICER1, TaskFacts(role="officer"), voted=True) is None  # not a vote


def test_only_heads_assign_and_only_to_who_could_act():
    assert refusal_to_assign(HEAD) is None
    assert refusal_to_assign(OFFICER1).kind == "not_head"
    held = TaskFacts(role="officer", assignee="officer1", restricted=True, candidates=frozenset({"officer1", "officer2"}))
    people = [OFFICER1, Person.of("officer2", ["officer"]), OFFICER3, HEAD,
              Person.of("officer4", ["officer"], active=False)]
    assert [p.id for p in eligible_assignees(held, people)] == ["officer1", "officer2"]
    assert refusal_to_be_assigned(OFFICER3, held).kind == "not_offered"
    barred = TaskFacts(role="legal", excluded=frozenset({"legal1"}))
    assert eligible_assignees(barred, [Person.of("legal1", ["legal"]), Person.of("legal2", ["legal"]),
                                       ]) == (Person.of("legal2", ["legal"]),)
    assert eligible_assignees(TaskFacts(role="officer", status="cancelled"), people) == ()


@pytest.mark.parametrize("roles, case, identity, outside", [
    (["intake"], True, True, False), (["officer"], True, True, False), (["head"], True, True, True),
    (["panel"], True, False, False), (["legal"], True, False, False), (["publisher"], True, False, False),
    (["auditor"], True, False, True), (["admin"], False, False, False),
])
def test_who_sees_the_case_and_the_complainant(roles, case, identity, outside):
    """As a member of the case (CASE), and with no part in it (OUTSIDE): only heads and auditors read a case
    they take no part in, and then without the complainant's identity."""
    person = Person.of("x", roles)
    assert may_see_case(person, CASE) is case
    assert may_see_identity(person, CASE) is identity
    assert may_download_dossier(person, CASE) is identity
    assert may_download(person, "complaint_registration", CASE) is identity
    assert may_download(person, "penalty_decision", CASE)
    assert may_see_case(person, OUTSIDE) is outside
    assert not may_see_identity(person, OUTSIDE) and not may_download_dossier(person, OUTSIDE)
    assert (refusal_to_see_case(person, OUTSIDE) is None) is outside


def test_a_task_open_to_the_lane_lets_its_lane_read_the_case_redacted():
    offering = CaseFacts(9, members=frozenset({"clerk"}), lane_offers=(TaskFacts(role="officer"),))
    assert may_see_case(OFFICER3, offering) and not may_see_identity(OFFICER3, offering)
    assert not may_see_case(PANEL1, offering)  # not their lane
    barred = CaseFacts(9, lane_offers=(TaskFacts(role="officer", excluded=frozenset({"officer3"})),))
    assert not may_see_case(OFFICER3, barred)  # barred from it (回避): it is not offered to him
    for offer in (TaskFacts(role="officer", assignee="officer1"), TaskFacts(role="officer", restricted=True),
                  TaskFacts(role="officer", status="completed")):
        assert not may_see_case(OFFICER3, CaseFacts(9, lane_offers=(offer,))), offer
    refused = refusal_to_see_case(OFFICER3, OUTSIDE)
    assert refused.kind == "unseen" and "未参与本案" in refused.message and "take no part" in refused.message


def test_without_a_usable_certificate_no_claim_no_assignment_no_offer():
    revoked = Person.of("officer1", ["officer"], cannot_sign="签名证书已于 2026-09-14 01:00Z 吊销 (signing certificate revoked)")
    refused = refusal_to_act(revoked, CHECK)
    assert refused.kind == "no_certificate" and "吊销" in refused.message and "no valid signing certificate" in refused.message
    assert not may_claim(revoked, TaskFacts(role="officer"))
    assert refusal_to_be_assigned(revoked, CHECK).kind == "no_certificate"
    assert refusal_to_act(Person.of("h", ["head"], cannot_sign="x"), CHECK).kind == "role"  # the lane comes first
    officer2 = Person.of("officer2", ["officer"])
    assert eligible_assignees(CHECK, [revoked, officer2, OFFICER3]) == (officer2,)


def test_a_task_named_only_to_people_who_cannot_take_it_is_stranded_and_goes_to_the_lane():
    revoked = Person.of("officer1", ["officer"], cannot_sign="revoked")
    gone = Person.of("officer2", ["officer"], active=False)
    officer2 = Person.of("officer2", ["officer"])
    assert stranded_names(CHECK, [revoked, officer2]) == ()  # officer2 can still take it
    assert stranded_names(CHECK, [revoked, gone]) == (revoked, gone)
    assert stranded_names(TaskFacts(role="officer"), [revoked]) == ()  # open to the group: never stranded
    assert stranded_names(TaskFacts(role="officer", restricted=True, status="completed",
                                    candidates=frozenset({"officer1"})), [revoked]) == ()
    assert refusal_to_be_assigned(OFFICER3, CHECK).kind == "not_offered"
    assert refusal_to_be_assigned(OFFICER3, CHECK, stranded=True) is None
    assert eligible_assignees(CHECK, [revoked, gone, OFFICER3, HEAD], stranded=True) == (OFFICER3,)


def test_the_cli_reads_without_a_user_as_an_auditor():
    assert may_see_case(AUDITOR_VIEW, CASE) and not may_see_identity(AUDITOR_VIEW, CASE)


def test_a_task_is_read_by_its_lane_heads_and_auditors():
    """Of a case they may see: a task of a case they may not see is refused as that case is."""
    legal = TaskFacts(role="legal")
    assert refusal_to_see_task(Person.of("legal2", ["legal"]), legal, OUTSIDE).kind == "unseen"
    assert refusal_to_see_task(HEAD, legal, OUTSIDE) is None
    assert refusal_to_see_task(Person.of("legal", ["legal"]), legal, CASE) is None
    assert refusal_to_see_task(HEAD, legal, CASE) is None
    assert refusal_to_see_task(AUDITOR_VIEW, legal, CASE) is None
    assert refusal_to_see_task(OFFICER1, legal, CASE).kind == "unseen"
    assert refusal_to_see_task(Person.of("legal", ["admin", "legal"]), legal, CASE) is None  # as a reviewer
    assert refusal_to_see_task(Person.of("admin", ["admin"]), legal, CASE).kind == "unseen"


def _step(task_id: str, status: str, by: str | None = None, *, role: str = "panel", spec: str = "panel_vote"):
    at = dt.datetime(2026, 9, 14, tzinfo=dt.UTC)
    return TaskView(id=task_id, case_id=7, case_number="N", spec_id=spec, name="合议", role=role, stage="s",
                    status=status, assignee=by, due_at=None, created_at=at, supervision=False, respondent="R",
                    completed_by=by if status == "completed" else None)


def test_a_vote_is_sealed_from_all_but_its_author_until_the_round_closes():
    history = [_step("a", "completed", "panel1"), _step("b", "ready", "panel2"), _step("c", "ready", "panel3"),
               _step("x", "completed", "officer1", role="officer", spec="report")]
    for_other = sealing_for(history, "panel2", panel_size=3)
    assert for_other.hides("a") and not for_other.hides("x") and not for_other.hides(None)
    assert for_other.open_specs == {"panel_vote"}
    assert not sealing_for(history, "panel1", panel_size=3).hides("a")
    closed_round = [_step(i, "completed", p) for i, p in (("a", "panel1"), ("b", "panel2"), ("c", "panel3"))]
    assert not sealing_for(closed_round, "head", panel_size=3).hides("a")
    assert sealing_for(closed_round[:2], "head", panel_size=3).hides("a")  # fewer votes than the panel's size


def test_the_vote_a_member_owes():
    mine = TaskFacts(role="panel", vote=True, assignee="panel2")
    group = TaskFacts(role="panel", vote=True)
    done = TaskFacts(role="panel", vote=True, status="completed", completed_by="panel1")
    assert owed_vote(PANEL2, [("a", done), ("b", group), ("c", mine)]) == "c"
    assert owed_vote(PANEL1, [("a", done), ("b", group)]) is None  # voted already
    assert owed_vote(PANEL2, [("b", group)]) == "b"
    assert owed_vote(PANEL2, [("b", TaskFacts(role="panel", vote=True, excluded=frozenset({"panel2"})))]) is None


def test_identity_redaction_follows_the_answer():
    data = {"complainant": {"name": "甲"}, "content": "电话 13800138000", "x": [{"reporter_phone": "1"}]}
    assert redact_identity(data, identity_shown=True) == data
    hidden = redact_identity(data, identity_shown=False)
    assert hidden["complainant"] == REDACTED and hidden["x"][0]["reporter_phone"] == REDACTED
    assert "13800138000" in hidden["content"]  # only the registered complaint's text is masked as well
    assert "13800138000" not in redact_complaint(data, identity_shown=False)["content"]


# --- agencies (issue 16): a city "cz" with two districts "da" and "db" ---------------------------------------
def _at(person: Person, agency: str, reads: frozenset[str] = frozenset()) -> Person:
    return Person.of(person.id, person.roles, agency=agency, reads=reads)


CITY_TREE = frozenset({"cz", "da", "db"})
IN_DA = CaseFacts(9, members=frozenset({"officer1", "head"}), agency="da",
                  lane_offers=(TaskFacts(role="officer", agency="da"),))
SUPERVISOR = Person.of("sup", ["supervisor"], agency="cz", reads=CITY_TREE)
SUPERVISOR_DB = Person.of("supb", ["supervisor"], agency="db", reads=frozenset({"db"}))


def test_an_agencys_people_read_and_act_only_on_its_cases():
    officer_da, officer_db = _at(OFFICER3, "da"), _at(OFFICER3, "db")
    assert may_see_case(officer_da, IN_DA)  # offered its task by lane
    assert not may_see_case(officer_db, IN_DA)  # the same lane, a sibling agency: not offered, not read
    refused = refusal_to_see_case(officer_db, IN_DA)
    assert refused is not None and "不属于办理本案的单位" in refused.message
    task = TaskFacts(role="officer", agency="da")
    assert may_act(officer_da, task) and may_claim(officer_da, task)
    assert refusal_to_act(officer_db, task).kind == "agency"
    # A member's id is no key to another agency's case: membership counts in the case's agency only.
    assert not may_see_case(_at(OFFICER1, "db"), IN_DA) and may_see_case(_at(OFFICER1, "da"), IN_DA)
    assert not may_see_identity(_at(OFFICER1, "db"), IN_DA) and may_see_identity(_at(OFFICER1, "da"), IN_DA)


def test_a_panel_member_of_another_agency_reads_the_case_and_its_vote_only_while_named_on_it():
    member = Person.of("panel3", ["panel"], agency="db")
    vote = TaskFacts(role="panel", agency="da", assignee="panel3", vote=True)
    named = CaseFacts(9, agency="da", named_open=frozenset({"panel3"}))
    assert may_see_case(member, named) and not may_see_identity(member, named)  # redacted
    assert refusal_to_see_task(member, vote, named) is None and may_act(member, vote)
    other_step = TaskFacts(role="panel", agency="da", assignee="panel1", vote=True)
    assert refusal_to_see_task(member, other_step, named) is not None  # not another member's vote
    assert refusal_to_add_evidence(member, named, None) is not None
    voted = CaseFacts(9, members=frozenset({"panel3"}), agency="da")  # their vote done: named on nothing open
    assert not may_see_case(member, voted)
    assert refusal_to_see_task(member, TaskFacts(role="panel", agency="da", status="completed",
                                                 assignee="panel3", completed_by="panel3"), voted) is not None


def test_heads_oversee_their_own_agency_only_and_hand_out_its_work():
    head_da, head_db, head_cz = _at(HEAD2, "da"), _at(HEAD2, "db"), _at(HEAD2, "cz")
    assert may_see_case(head_da, IN_DA) and not may_see_identity(head_da, IN_DA)  # supervising, not a member
    assert not may_see_case(head_db, IN_DA) and not may_see_case(head_cz, IN_DA)  # above it: a supervisor's
    assert refusal_to_assign(head_da, "da") is None
    assert refusal_to_assign(head_db, "da").kind == "agency"
    assert refusal_to_see_task(head_db, TaskFacts(role="officer", agency="da"), IN_DA) is not None


def test_a_supervisor_reads_the_subtree_redacted_and_never_acts():
    assert may_see_case(SUPERVISOR, IN_DA) and may_see_case(SUPERVISOR, CaseFacts(1, agency="cz"))
    assert not may_see_identity(SUPERVISOR, IN_DA)
    assert not may_download(SUPERVISOR, "complaint_registration", IN_DA)
    assert may_download(SUPERVISOR, "case_acceptance", IN_DA)
    assert not may_download_dossier(SUPERVISOR, IN_DA)
    task = TaskFacts(role="officer", agency="cz")
    assert refusal_to_see_task(SUPERVISOR, TaskFacts(role="officer", agency="da"), IN_DA) is None
    assert refusal_to_act(SUPERVISOR, task).kind == "role" and not may_claim(SUPERVISOR, task)
    assert refusal_to_assign(SUPERVISOR, "cz").kind == "not_head"
    assert refusal_to_add_evidence(SUPERVISOR, IN_DA, None) is not None
    # A supervisor of a sibling district: not theirs.
    assert not may_see_case(SUPERVISOR_DB, IN_DA)
    assert "不属于办理本案的单位" in refusal_to_see_case(SUPERVISOR_DB, IN_DA).message


def test_auditors_read_their_subtree_and_the_root_auditor_the_platform():
    auditor_da = Person.of("aud", ["auditor"], agency="da", reads=frozenset({"da"}))
    auditor_db = Person.of("aud", ["auditor"], agency="db", reads=frozenset({"db"}))
    root = Person.of("aud", ["auditor"], agency="cz", reads=CITY_TREE)
    assert may_see_case(auditor_da, IN_DA) and not may_see_case(auditor_db, IN_DA) and may_see_case(root, IN_DA)
    assert may_see_case(AUDITOR_VIEW, IN_DA) and not may_see_identity(AUDITOR_VIEW, IN_DA)


def test_a_head_urges_only_their_agencys_tasks():
    late = TaskFacts(role="officer", assignee="officer1", agency="da")
    assert refusal_to_urge(_at(HEAD2, "da"), late, "overdue", ["officer1"]) is None
    assert refusal_to_urge(_at(HEAD2, "db"), late, "overdue", ["officer1"]).kind == "agency"
    assert team_scope(_at(HEAD2, "db")) == "db" and team_scope(SUPERVISOR) is None
