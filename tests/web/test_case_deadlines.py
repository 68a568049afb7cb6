"""A case's statutory clocks: the 90 days from 立案 to the decision (行政处罚法 Art 60) and each open step's
time limit, with the days left counted in working days where the limit is in working days (调休 included)."""

from __future__ import annotations

import datetime as dt
import html as htmllib

import pytest

from engine.rules.settings import load_settings
from engine.usecases.cases import case_deadlines
from engine.usecases.tasks import list_tasks
from tests.dbtemplates import Template, starting_point
from tests.web.conftest import penalty_case_until
from tests.web.webcases import START, play_until, scenario
from tests.web.webhelpers import login

# The `model` fixture's clock: Saturday 2026-09-19 09:00 Beijing, five days after the scenarios start.
SATURDAY = START + dt.timedelta(days=5)


def _local(moment: dt.datetime) -> dt.date:
    return moment.astimezone(load_settings().zone).date()


def _filed_at(svc, case_number: str) -> dt.datetime:
    [filing] = [t for t in list_tasks(svc, case=case_number, include_done=True) if t.spec_id == "filing_approval"]
    assert filing.completed_at is not None
    return filing.completed_at


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, awaiting_party=penalty_case_until("await_party_response"))


@pytest.fixture
def awaiting_party(model, template_result):
    """Prior notice served on Monday 2026-09-14; the party's 5 working days to state their case are running."""
    return template_result


def test_the_decision_clock_runs_90_days_from_filing(awaiting_party, svc):
    deadlines = case_deadlines(svc, awaiting_party.case.id, now=SATURDAY)
    [decision] = [d for d in deadlines if d.task_id is None]
    assert decision.label == "作出行政处罚决定"
    assert decision.limit_id == "decision_deadline"
    assert (decision.days, decision.working_days) == (90, False)
    assert "第六十条" in decision.basis
    assert decision.start == _filed_at(svc, awaiting_party.case.number)
    # 2026-09-14 + 90 days is Sunday 2026-12-13: a period ending on a day off runs to the next working day
    assert _local(decision.due_at) == dt.date(2026, 12, 14)
    assert decision.days_left == (dt.date(2026, 12, 14) - dt.date(2026, 9, 19)).days
    assert decision.met_at is None and not decision.overdue


def test_an_open_step_counts_its_working_days_with_make_up_days(awaiting_party, svc):
    deadlines = case_deadlines(svc, awaiting_party.case.id, now=SATURDAY)
    [window] = [d for d in deadlines if d.task_id is not None and d.label == "陈述申辩/听证申请"]
    assert window.limit_id == "statement_window"  # no hearing right in this case: 陈述申辩 only
    assert (window.days, window.working_days) == (5, True)
    # Served Mon 2026-09-14: Tue–Fri and Sun 2026-09-20, a 调休 working day before 国庆, are the five days
    assert _local(window.due_at) == dt.date(2026, 9, 20)
    assert window.days_left == 1  # from Saturday: only Sunday the 20th, a working day, is left
    assert deadlines[0] == window  # soonest first


def test_an_overdue_clock_has_negative_days_left(awaiting_party, svc):
    later = dt.datetime(2026, 12, 16, 2, 0, tzinfo=dt.UTC)  # Wednesday, two days after the 90 days ran out
    [decision] = [d for d in case_deadlines(svc, awaiting_party.case.id, now=later) if d.task_id is None]
    assert decision.days_left == -2
    assert decision.overdue


def test_no_decision_clock_before_filing(model, svc):
    played = play_until(svc, scenario(), "filing_approval")
    assert [d for d in case_deadlines(svc, played.case.id, now=SATURDAY) if d.task_id is None] == []


def test_the_decision_stops_the_clock(model, svc):
    played = play_until(svc, scenario(), "serve_decision")
    [decision] = [d for d in case_deadlines(svc, played.case.id, now=SATURDAY) if d.task_id is None]
    [made] = [t for t in list_tasks(svc, case=played.case.number, include_done=True) if t.spec_id == "make_decision"]
    assert decision.met_at == made.completed_at
    assert decision.days_left is None
    assert not decision.overdue


def test_the_case_page_shows_each_clock_with_basis_due_date_and_days_left(awaiting_party, client):
    login(client, "officer1")
    page = htmllib.unescape(client.get(f"/cases/{awaiting_party.case.id}").get_data(as_text=True))
    assert "法定期限" in page
    assert "作出行政处罚决定" in page
    assert "90 日" in page
    assert "2026-12-14" in page
    assert f"剩 {(dt.date(2026, 12, 14) - dt.date(2026, 9, 19)).days} 日" in page
    assert "《中华人民共和国行政处罚法》第六十条" in page
    assert "2026-09-20" in page
    assert "剩 1 个工作日" in page


def test_the_case_api_gives_the_clocks_and_which_documents_the_viewer_may_download(awaiting_party, client):
    login(client, "auditor")  # reads every case, without the complainant (the legal reviewer has no part yet)
    body = client.get(f"/api/cases/{awaiting_party.case.id}").get_json()
    [decision] = [d for d in body["deadlines"] if d["limit_id"] == "decision_deadline"]
    assert decision["due_at"].startswith("2026-12-14")
    assert decision["days_left"] == (dt.date(2026, 12, 14) - dt.date(2026, 9, 19)).days
    downloadable = {d["kind"]: d["downloadable"] for d in body["documents"]}
    assert downloadable["complaint_registration"] is False  # names the complainant
    assert downloadable["case_filing_report"] is True
