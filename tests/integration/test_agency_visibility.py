"""Visibility follows the agency tree (issue 16), in the engine's queries: the home city "cz" with two districts,
"da" and "db", each with its own people, and one case registered in the city and one in district da, both
waiting for their heads' acceptance review (offered to the heads' lane).

What each person is offered, may pick, hand out, urge, count and verify is stated here by hand; the rules under
test (engine/rules/duties.py and its SQL in engine/usecases/access.py) compute it.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select, update

from engine.db.notice_tables import NotificationRow
from engine.db.tables import AgencyRow, TaskRow, UserRow
from engine.demo import play_step
from engine.demo_users import DEMO_PASSWORD, DEMO_PIN
from engine.errors import Conflict, Forbidden, ValidationError
from engine.officer_keys import unblockers
from engine.spiff.clocks import MutableClock
from engine.spiff.driving import Step, intake_data
from engine.usecases.access import agency_subtree
from engine.usecases.audit import verify_cases
from engine.usecases.cases import cases_page, open_case
from engine.usecases.people import eligible, person_choices
from engine.usecases.reports import dashboard
from engine.usecases.signing_pins import unblock_signing_pin
from engine.usecases.taskpage import task_page
from engine.usecases.tasks import list_tasks
from engine.usecases.team import reassign_tasks, team_page, urge_preview
from engine.usecases.users import add_user
from engine.usecases.viewer import task_for_viewer
from engine.values import AddUser, OpenCase, ReassignTasks, UnblockSigningPin
from tests.conftest import at
from tests.dbtemplates import Template
from tests.integration.conftest import READY

START = at("2026-09-14 09:00")
CERT = {"cert_valid_until": at("2031-06-30 12:00").date()}
# user: (roles, agency, 执法证号 or None)
PEOPLE = {
    "clerk-a": (["intake"], "da", None), "head-a": (["head"], "da", None), "head-a2": (["head"], "da", None),
    "officer-a1": (["officer"], "da", "甲卫执 0001"), "officer-a2": (["officer"], "da", "甲卫执 0002"),
    "auditor-a": (["auditor"], "da", None),
    "head-b": (["head"], "db", None), "officer-b": (["officer"], "db", "乙卫执 0001"),
}
# The city's supervisor is the demo's `supervisor` (engine/demo_users.py), already in the template.


@dataclasses.dataclass(frozen=True)
class Tree:
    home: str
    city_case: int  # registered by the city's clerk
    district_case: int  # registered by da's clerk
    city_review: str  # the open acceptance review of each
    district_review: str
    district_number: str


def _build(svc) -> Tree:
    home = svc.settings.agency.code
    with svc.uow() as work:
        for code, name in (("da", "呈州市甲区卫生健康局"), ("db", "呈州市乙区卫生健康局")):
            work.session.add(AgencyRow(code=code, name=name, short=name[3:5], parent_code=home, level="county",
                                       case_number_prefix="呈卫投", penalty_number_prefix="呈卫罚", review_agency="",
                                       court="", settings={}, active=True, created_at=START))
        work.commit()
    for user, (roles, _agency, cert_no) in PEOPLE.items():
        add_user(AddUser(user_id=user, name=f"{user}姓名", password=DEMO_PASSWORD, roles=roles, pin=DEMO_PIN,
                         **({"cert_no": cert_no, **CERT} if cert_no else {})), svc=svc, clock=MutableClock(START))
    with svc.uow() as work:
        for user, (_roles, agency, _cert) in PEOPLE.items():
            if agency:
                work.session.execute(update(UserRow).where(UserRow.id == user).values(agency_code=agency))
        work.commit()
    opened = {clerk: open_case(OpenCase(user_id=clerk, data=intake_data({}, now=START), pin=DEMO_PIN), svc=svc,
                               clock=MutableClock(START)) for clerk in ("clerk", "clerk-a")}
    reviews = {clerk: next(t.id for t in list_tasks(svc, case=case.number)) for clerk, case in opened.items()}
    return Tree(home, opened["clerk"].id, opened["clerk-a"].id, reviews["clerk"], reviews["clerk-a"],
                opened["clerk-a"].number)


TREE = READY.then("a city with two districts, their people and a case in the city and in district da", _build)


@pytest.fixture
def db_template() -> Template:
    return TREE


@pytest.fixture
def tree(ready_svc, template_result) -> Tree:
    return template_result


NOW = START.replace(hour=12)


def _ids(tasks) -> set[str]:
    return {t.id for t in tasks}


def test_the_subtree_is_one_recursive_query(ready_svc, tree):
    with ready_svc.uow.read() as session:
        assert agency_subtree(session, tree.home) == {tree.home, "da", "db"}
        assert agency_subtree(session, "da") == {"da"}


def test_a_lane_is_offered_its_case_agencys_people_only(ready_svc, tree):
    both = {tree.city_review, tree.district_review}
    offered = {user: _ids(list_tasks(ready_svc, user_id=user)) & both for user in ("head", "head2", "head-a",
                                                                                   "head-b")}
    assert offered == {"head": {tree.city_review}, "head2": {tree.city_review}, "head-a": {tree.district_review},
                       "head-b": set()}
    on_page = {user: {i.task.id for i in task_page(ready_svc, user_id=user, now=NOW).items} & both
               for user in ("head", "head-a", "head-b")}
    assert on_page == {"head": {tree.city_review}, "head-a": {tree.district_review}, "head-b": set()}
    with ready_svc.uow.read() as session:  # the offer was told to those it was offered to, and to no one else
        told = set(session.scalars(select(NotificationRow.recipient).where(
            NotificationRow.task_id == tree.district_review)))
        assert session.scalar(select(TaskRow.agency_code).where(TaskRow.id == tree.district_review)) == "da"
    assert told == {"head-a", "head-a2"}


def test_pickers_and_assignees_are_the_case_agencys_people(ready_svc, tree):
    page = task_for_viewer(ready_svc, tree.district_review, "head-a", now=NOW)
    assert {u.id for u in page.assignees} == {"head-a", "head-a2"}
    choices = person_choices(ready_svc, schema=page.task.form_schema, case_id=tree.district_case, at=NOW)
    assert {p.id for p in choices["case_officers"]} == {"officer-a1", "officer-a2"}
    with ready_svc.uow.read() as session:
        assert {p.id for p in eligible(session, role="officer", on=NOW.date(), case_id=tree.district_case)} == {
            "officer-a1", "officer-a2"}
        assert "officer-b" in {p.id for p in eligible(session, role="officer", on=NOW.date())}  # no case: all


def test_a_person_of_another_agency_is_refused_at_their_field(ready_svc, tree):
    step = Step("acceptance_review", {"acceptance_decision": "accept", "unit": "甲区监督所",
                                      "case_officers": ["officer-a1", "officer1"]}, actor="head-a")
    with pytest.raises(ValidationError) as refused:
        play_step(ready_svc, tree.district_number, step, MutableClock(NOW))
    assert set(refused.value.errors) == {"case_officers/1"}
    assert "不属于办理本案的单位" in refused.value.errors["case_officers/1"]
    play_step(ready_svc, tree.district_number, dataclasses.replace(
        step, overrides={**step.overrides, "case_officers": ["officer-a1", "officer-a2"]}), MutableClock(NOW))


def test_a_head_leads_and_hands_out_their_agencys_tasks_only(ready_svc, tree):
    teams = {head: _ids(i.task for i in team_page(ready_svc, head_id=head, now=NOW).items)
             for head in ("head", "head-a", "head-b")}
    assert tree.city_review in teams["head"] and tree.district_review not in teams["head"]
    assert teams["head-a"] == {tree.district_review} and teams["head-b"] == set()
    assert {n.id for n in team_page(ready_svc, head_id="head-a", now=NOW).assignees} == {"head-a", "head-a2"}
    with pytest.raises(Forbidden, match="不属于办理本案的单位"):
        reassign_tasks(ReassignTasks(task_ids=(tree.district_review,), assignee="head-a", by="head", pin=DEMO_PIN,
                                     reason="病假"), svc=ready_svc, clock=MutableClock(NOW))
    with pytest.raises(Forbidden, match="不属于办理本案的单位"):  # to one of its own: refused just the same
        reassign_tasks(ReassignTasks(task_ids=(tree.city_review,), assignee="head-a", by="head", pin=DEMO_PIN,
                                     reason="病假"), svc=ready_svc, clock=MutableClock(NOW))
    with pytest.raises(Forbidden, match="不属于办理本案的单位"):
        urge_preview(ready_svc, task_id=tree.district_review, head_id="head-b", now=NOW)
    done = reassign_tasks(ReassignTasks(task_ids=(tree.district_review,), assignee="head-a2", by="head-a",
                                        pin=DEMO_PIN, reason="病假"), svc=ready_svc, clock=MutableClock(NOW))
    assert [h.assignee.id for h in done] == ["head-a2"]


def test_figures_and_case_lists_cover_what_one_oversees(ready_svc, tree):
    def cases(viewer: str | None, agency: str | None = None) -> int:
        return dashboard(ready_svc, now=NOW, viewer_id=viewer, agency=agency).total_cases

    everything = cases(None)
    assert cases("supervisor") == everything and cases("auditor") == everything  # the city's: the whole tree
    assert cases("head-a") == cases("supervisor", "da") == cases("auditor-a") == 1
    assert cases("head") == everything - 1  # a city head: the city's own cases only
    assert cases("head-b") == cases("supervisor", "db") == 0
    assert cases("head-a", "db") == 0  # a filter outside one's reach shows nothing of it
    listed = cases_page(ready_svc, viewer_id="supervisor", agency="da")
    assert [c.id for c in listed.items] == [tree.district_case]
    assert dict(listed.agencies).keys() == {tree.home, "da", "db"}
    assert cases_page(ready_svc, viewer_id="head-a").agencies == ()
    assert {c.id for c in cases_page(ready_svc, viewer_id="supervisor").items} >= {tree.city_case, tree.district_case}


def test_an_auditor_verifies_what_they_may_read(ready_svc, tree):
    clock = MutableClock(NOW)
    mine = verify_cases(ready_svc, None, clock=clock, reader="auditor-a")
    assert [r.case_id for r in mine] == [str(tree.district_case)] and mine[0].ok
    with pytest.raises(Forbidden, match="不属于办理本案的单位"):
        verify_cases(ready_svc, [str(tree.city_case)], clock=clock, reader="auditor-a")
    everything = {r.case_id for r in verify_cases(ready_svc, None, clock=clock, reader="auditor")}
    assert {str(tree.city_case), str(tree.district_case)} <= everything


def test_a_head_unblocks_the_signing_pins_of_their_own_agencys_people(ready_svc, tree):
    def unblock(by: str) -> None:
        unblock_signing_pin(UnblockSigningPin(user_id="officer-a1", by=by, reason="忘记PIN码"), svc=ready_svc,
                            clock=MutableClock(NOW))

    with pytest.raises(Forbidden, match="不属于本单位"):
        unblock("head")  # the city's head: not theirs
    for allowed in ("head-a", "admin"):  # may: refused only because the key is not blocked
        with pytest.raises(Conflict, match="未被锁定"):
            unblock(allowed)
    with ready_svc.uow.read() as session:
        named = {uid for uid, _name in unblockers(session, "officer-a1")}
    assert named == {"head-a", "head-a2", "admin"}
