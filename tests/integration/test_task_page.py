"""The task page in SQL: visibility as list_tasks has it, filters, facet counts, pages, deadline states."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import pytest

from engine.db.tables import CaseRow
from engine.demo import SCENARIOS, Played, play, play_step
from engine.demo_users import DEMO_PASSWORD, DEMO_PIN, DEMO_USERS
from engine.errors import Forbidden, ValidationError
from engine.rules.settings import load_settings
from engine.services import Services
from engine.spiff.clocks import MutableClock
from engine.spiff.driving import Step
from engine.startup import build_services
from engine.usecases.readcache import ReadCache
from engine.usecases.taskpage import due_state, task_page
from engine.usecases.tasks import claim_task, list_tasks
from engine.usecases.users import add_user
from engine.values import AddUser, ClaimTask, TaskPage, fixed_clock
from tests.conftest import TEST_KDF_COST, at
from tests.dbtemplates import Template, starting_point
from tests.integration.conftest import READY

START = at("2026-09-14 09:00")
LATER = at("2026-12-01 09:00")  # long after every case below was opened
# An officer who is also a legal reviewer: named case officer of one case, so barred from its legal review.
DUAL = "dual"


@dataclass(frozen=True)
class Cases:
    salon: Played       # waiting at acceptance_review (head), public_place_unlicensed
    clinic: Played      # waiting at acceptance_review (head), medical_unlicensed_practice
    checking: Played    # waiting at preliminary_check, offered by name to officer1 and officer2
    reviewing: Played   # waiting at legal_review; DUAL was one of its case officers


def _until(spec_id: str, *, intake: dict | None = None, officers: list[str] | None = None) -> tuple:
    base = SCENARIOS["penalty_waiver"]
    steps = base.steps
    if officers is not None:
        accept = next(s for s in steps if s.spec_id == "acceptance_review")
        replaced = Step(accept.spec_id, {**accept.overrides, "case_officers": officers})
        steps = tuple(replaced if s is accept else s for s in steps)
    scenario = dataclasses.replace(base, steps=steps, intake={**base.intake, **(intake or {})})
    return scenario, [s.spec_id for s in steps].index(spec_id)


def _play_cases(svc: Services) -> Cases:
    add_user(AddUser(user_id=DUAL, name="钱双岗", password=DEMO_PASSWORD, roles=["officer", "legal"],
                     pin=DEMO_PIN, cert_no="呈卫执 2024-0301", cert_valid_until=dt.date(2031, 6, 30)), svc=svc, clock=fixed_clock(START))

    def played(spec_id: str, start: dt.datetime, **kwargs) -> Played:
        scenario, stop = _until(spec_id, **kwargs)
        return play(svc, scenario, start=start, stop_before=stop)

    return Cases(
        salon=played("acceptance_review", START),
        clinic=played("acceptance_review", START + dt.timedelta(days=1), intake={
            "violation_type": "medical_unlicensed_practice",
            "respondent": {"name": "呈州市Renxin诊所", "kind": "organisation", "credit_code": "92330100MA2YYYYY0D",
                           "address": "呈州市和平路9号"}}),
        checking=played("preliminary_check", START + dt.timedelta(days=2)),
        reviewing=played("legal_review", START + dt.timedelta(days=3), officers=["officer1", DUAL]),
    )


CASES = READY.then("four cases for the task page", _play_cases)  # played once per session, copied per test


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, cases=CASES)


@pytest.fixture
def cases(ready_svc, template_result) -> Cases:
    return template_result


def _all_ids(svc, user_id: str, **filters) -> list[str]:
    first = task_page(svc, user_id=user_id, now=LATER, per_page=200, **filters)
    assert first.pages == 1
    return [i.task.id for i in first.items]


def _open_task(svc, played: Played, spec_id: str):
    return next(t for t in list_tasks(svc, case=played.case.number) if t.spec_id == spec_id)


def test_everyone_sees_exactly_the_tasks_their_queue_holds(ready_svc, cases):
    for user_id, *_ in [*DEMO_USERS, (DUAL,)]:
        expected = {t.id for t in list_tasks(ready_svc, user_id=user_id, limit=10_000)}
        page = task_page(ready_svc, user_id=user_id, now=LATER, per_page=200)
        assert {i.task.id for i in page.items} == expected, user_id
        assert page.total == len(expected)
    assert len(_all_ids(ready_svc, "head")) >= 2  # both complaints wait for the head's acceptance review


def test_no_one_sees_a_task_of_a_role_they_lack_or_one_they_are_barred_from(ready_svc, cases):
    review = _open_task(ready_svc, cases.reviewing, "legal_review")
    assert review.id in _all_ids(ready_svc, "legal")
    assert review.id not in _all_ids(ready_svc, DUAL)  # holds the legal role, but investigated the case
    assert review.id not in _all_ids(ready_svc, "officer1")  # lacks the role (and investigated)
    acceptance = _open_task(ready_svc, cases.salon, "acceptance_review")
    assert acceptance.id not in _all_ids(ready_svc, "officer1")
    assert acceptance.id in _all_ids(ready_svc, "head") and acceptance.id in _all_ids(ready_svc, "head2")


def test_a_task_offered_by_name_and_then_claimed(ready_svc, cases):
    check = _open_task(ready_svc, cases.checking, "preliminary_check")
    assert check.id in _all_ids(ready_svc, "officer1") and check.id in _all_ids(ready_svc, "officer2")
    assert check.id not in _all_ids(ready_svc, "officer3")  # an officer, but not one of the case's
    claim_task(ClaimTask(check.id, "officer1"), svc=ready_svc, clock=fixed_clock(LATER))
    assert check.id not in _all_ids(ready_svc, "officer2")
    mine = task_page(ready_svc, user_id="officer1", mine=True, now=LATER)
    assert [i.task.id for i in mine.items] == [check.id]
    everything = task_page(ready_svc, user_id="officer1", now=LATER)
    assert everything.counts["mine"]["mine"] == 1
    assert everything.counts["mine"].get("others", 0) == everything.total - 1


def test_filters_narrow_and_each_facet_counts_under_the_other_filters(ready_svc, cases):
    svc = ready_svc
    every = task_page(svc, user_id="head", now=LATER, per_page=200)
    by_violation = {}
    for item in every.items:
        by_violation.setdefault(item.violation, []).append(item)
    assert every.counts["violation"] == {v: len(items) for v, items in sorted(
        by_violation.items(), key=lambda kv: (-len(kv[1]), kv[0]))}
    clinic = task_page(svc, user_id="head", violation="medical_unlicensed_practice", now=LATER)
    assert {i.task.case_id for i in clinic.items} == {cases.clinic.case.id}
    assert clinic.total == len(clinic.items) == 1
    assert clinic.counts["stage"] == {"acceptance": 1}  # stages among the clinic's tasks only
    assert clinic.counts["violation"] == every.counts["violation"]  # its own filter left out
    both = task_page(svc, user_id="head", violation="medical_unlicensed_practice", stage="filing", now=LATER)
    assert both.total == 0 and both.items == ()
    assert both.counts["violation"].get("medical_unlicensed_practice", 0) == 0  # no filing task for the clinic
    assert both.counts["stage"] == {"acceptance": 1}


def test_the_case_number_and_party_filters_are_substrings_and_narrow_every_count(ready_svc, cases):
    svc = ready_svc
    number = cases.clinic.case.number
    found = task_page(svc, user_id="head", case_number=number[-6:], now=LATER)
    assert {i.task.case_number for i in found.items} == {number}
    assert sum(found.counts["stage"].values()) == found.total
    assert {i.task.case_id for i in task_page(svc, user_id="head", party="renxin", now=LATER).items} \
        == {cases.clinic.case.id}  # any letter case
    assert task_page(svc, user_id="head", party="%", now=LATER).total == 0  # a wildcard is a plain character
    assert task_page(svc, user_id="head", case_number="_", now=LATER).total == 0


def test_deadline_states_follow_the_clock(ready_svc, cases):
    salon = _open_task(ready_svc, cases.salon, "acceptance_review")
    clinic = _open_task(ready_svc, cases.clinic, "acceptance_review")
    assert salon.due_at is not None and clinic.due_at is not None and salon.due_at < clinic.due_at

    def states(now: dt.datetime) -> tuple[dict[str, str], TaskPage]:
        page = task_page(ready_svc, user_id="head", now=now, per_page=200)
        return {i.task.id: i.due_state for i in page.items}, page

    horizon = ready_svc.settings.due_soon  # settings.json notifications.due_soon_hours
    far, _ = states(salon.due_at - horizon - dt.timedelta(minutes=1))
    assert far[salon.id] == far[clinic.id] == ""
    soon, page = states(salon.due_at - horizon)
    assert soon[salon.id] == "soon" and soon[clinic.id] == ""
    assert page.counts["due"].get("soon", 0) == sum(1 for s in soon.values() if s == "soon")
    late, page = states(salon.due_at + dt.timedelta(seconds=1))
    assert late[salon.id] == "overdue"
    assert late[clinic.id] == due_state(clinic.due_at, salon.due_at + dt.timedelta(seconds=1), horizon)
    overdue = task_page(ready_svc, user_id="head", due="overdue", now=salon.due_at + dt.timedelta(seconds=1))
    assert salon.id in {i.task.id for i in overdue.items}
    assert all(i.overdue for i in overdue.items)
    assert overdue.total == page.counts["due"]["overdue"]


def test_pages_are_in_deadline_order_and_cover_every_task_once(ready_svc, cases):
    every = task_page(ready_svc, user_id="head", now=LATER, per_page=200)
    assert every.total >= 2
    seen = []
    for number in range(1, every.total + 1):
        page = task_page(ready_svc, user_id="head", now=LATER, page=number, per_page=1)
        assert (page.page, page.pages, page.total, len(page.items)) == (number, every.total, every.total, 1)
        seen.append(page.items[0].task)
    assert [t.id for t in seen] == [i.task.id for i in every.items]
    assert len({t.id for t in seen}) == every.total
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    dues = [t.due_at or far for t in seen]
    assert dues == sorted(dues)  # no deadline last
    past_the_end = task_page(ready_svc, user_id="head", now=LATER, page=999, per_page=1)
    assert past_the_end.page == every.total and past_the_end.items == (every.items[-1],)


def test_bad_requests_are_refused(ready_svc, cases):
    with pytest.raises(ValidationError):
        task_page(ready_svc, user_id="head", due="later", now=LATER)
    with pytest.raises(ValidationError):
        task_page(ready_svc, user_id="head", now=LATER, per_page=0)
    with pytest.raises(ValidationError):
        task_page(ready_svc, user_id="head", now=dt.datetime(2026, 9, 1))
    with pytest.raises(Forbidden):
        task_page(ready_svc, user_id="nobody", now=LATER)


def _fresh(svc, **kwargs) -> TaskPage:
    """The page counted afresh: the same query with an empty count cache."""
    kept = svc.reads
    svc.reads = ReadCache()
    try:
        return task_page(svc, **kwargs)
    finally:
        svc.reads = kept


def test_a_write_moves_exactly_the_pages_of_those_who_see_the_task(ready_svc, cases, db_url, tmp_path):
    svc = ready_svc
    readers = ("officer2", "officer3", "head")  # officer2 is offered the check by name; officer3 is not
    before = {u: task_page(svc, user_id=u, now=LATER) for u in readers}
    hits = svc.reads.hits
    assert all(task_page(svc, user_id=u, now=LATER) == before[u] for u in readers)
    assert svc.reads.hits == hits + len(readers)
    # Another process (a second gunicorn worker) claims the check for officer1.
    other = build_services(db_url, settings=load_settings(), keys_dir=tmp_path / "agency-keys",
                           kdf_cost=TEST_KDF_COST, upgrade=False)
    try:
        check = _open_task(other, cases.checking, "preliminary_check")
        claim_task(ClaimTask(check.id, "officer1"), svc=other, clock=fixed_clock(LATER))
    finally:
        other.engine.dispose()
    hits = svc.reads.hits
    after = {u: task_page(svc, user_id=u, now=LATER) for u in readers}
    assert svc.reads.hits == hits + 2  # officer3 and the head: nothing they see changed
    assert after["officer2"].total == before["officer2"].total - 1  # read afresh: the claim shows
    for user in readers:
        fresh = _fresh(svc, user_id=user, now=LATER)
        assert (after[user].counts, after[user].total) == (fresh.counts, fresh.total), user
        assert [i.task.id for i in after[user].items] == [i.task.id for i in fresh.items], user


def test_completing_a_step_moves_the_pages_of_the_lane_it_leaves_and_of_those_offered_the_next(ready_svc, cases):
    svc = ready_svc
    accept = next(s for s in SCENARIOS["penalty_waiver"].steps if s.spec_id == "acceptance_review")
    readers = ("head2", "officer2", "officer3")  # the scenario names officer1 and officer2 case officers
    for user in readers:
        task_page(svc, user_id=user, now=LATER)
    play_step(svc, cases.salon.case.number, accept, MutableClock(LATER))  # head lane → preliminary_check
    for user, afresh in zip(readers, (True, True, False), strict=True):
        hits = svc.reads.hits
        page = task_page(svc, user_id=user, now=LATER)
        fresh = _fresh(svc, user_id=user, now=LATER)
        assert (page.counts, page.total) == (fresh.counts, fresh.total), user
        assert svc.reads.hits == hits + (0 if afresh else 1), user


def test_kept_pages_equal_fresh_ones_at_every_moment_around_the_deadlines(ready_svc, cases):
    svc = ready_svc
    dues = sorted({t.due_at for t in list_tasks(svc, user_id="head", limit=10_000) if t.due_at})
    assert len(dues) >= 2
    horizon = svc.settings.due_soon
    moments = sorted({m for due in dues for m in (due - horizon - dt.timedelta(seconds=1), due - horizon, due,
                                                  due + dt.timedelta(seconds=1))})
    for moment in moments:
        for filters in ({}, {"due": "soon"}, {"due": "overdue"}):
            kept = task_page(svc, user_id="head", now=moment, **filters)
            fresh = _fresh(svc, user_id="head", now=moment, **filters)
            assert (kept.counts, kept.total) == (fresh.counts, fresh.total), (moment, filters)
            assert [(i.task.id, i.due_state) for i in kept.items] == [(i.task.id, i.due_state) for i in fresh.items]
    assert svc.reads.hits > 0  # moments between two boundaries reused the pages


def test_a_party_search_is_always_counted_afresh(ready_svc, cases):
    svc = ready_svc
    task_page(svc, user_id="head", now=LATER, party="Renxin")
    task_page(svc, user_id="head", now=LATER, party="Renxin")
    assert svc.reads.hits == 0


def test_a_change_to_what_the_page_shows_of_a_case_moves_everyones_pages(ready_svc, cases):
    svc = ready_svc
    task_page(svc, user_id="officer3", now=LATER)
    with svc.uow() as work:  # the state alone changes on every step: no one's page shows it
        session = work.session
        session.get(CaseRow, cases.salon.case.id).state = session.get(CaseRow, cases.salon.case.id).state
        work.commit()
    hits = svc.reads.hits
    task_page(svc, user_id="officer3", now=LATER)
    assert svc.reads.hits == hits + 1
    with svc.uow() as work:
        work.session.get(CaseRow, cases.salon.case.id).respondent = "呈州市新名称足浴店"
        work.commit()
    hits = svc.reads.hits
    task_page(svc, user_id="officer3", now=LATER)
    assert svc.reads.hits == hits
