"""远程合议 across agencies: a member of another agency on the platform sits on a city case's panel, is offered by
the picker, votes with their own certificate, and the case verifies; the rule that lets a panel field reach other
agencies is named (engine/rules/people.py `invited_across_agencies`) for pickers scoped by agency."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from engine.db.tables import CaseRow, CertificateRow, StepRecordRow, UserRow
from engine.demo import SCENARIOS, play, play_step
from engine.errors import Forbidden
from engine.rules.people import invited_across_agencies, person_fields
from engine.spiff.clocks import MutableClock
from engine.spiff.definitions import load_default_definition
from engine.usecases.audit import verify_cases
from engine.usecases.cases import list_cases
from engine.usecases.people import person_choices
from engine.usecases.tasks import list_tasks
from engine.usecases.viewer import case_for_viewer, task_for_viewer
from engine.values import fixed_clock
from tests.conftest import at
from tests.transfer_agencies import DISTRICT, add_agencies

START = at("2026-09-14 09:00")


def _invite_panel3(svc) -> None:
    """The agencies; panel3 is the expert of the district invited to sit on the city's panel."""
    add_agencies(svc)
    with svc.uow() as work:
        work.session.execute(update(UserRow).where(UserRow.id == "panel3").values(agency_code=DISTRICT))
        work.commit()


def test_a_panel_member_of_another_agency_is_offered_and_votes_with_their_own_certificate(ready_svc) -> None:
    _invite_panel3(ready_svc)
    case = play(ready_svc, SCENARIOS["penalty_waiver"], start=START).case
    with ready_svc.uow.read() as session:
        case_id, agency = session.execute(select(CaseRow.id, CaseRow.agency_code)
                                          .where(CaseRow.number == case.number)).one()
        votes = session.execute(select(StepRecordRow.cert_fingerprint, CertificateRow.user_id)
                                .join(CertificateRow, CertificateRow.fingerprint == StepRecordRow.cert_fingerprint)
                                .where(StepRecordRow.case_id == case_id, StepRecordRow.actor == "panel3")).all()
    assert agency != DISTRICT and votes and {user for _, user in votes} == {"panel3"}
    schema = load_default_definition().form_schema("appoint_panel")
    offered = person_choices(ready_svc, schema=schema, case_id=case_id, at=START)
    assert "panel3" in {p.id for p in offered["panel_members"]}
    fields = {f.key: f for f in person_fields(schema)}
    assert invited_across_agencies(fields["panel_members"]) and not invited_across_agencies(fields["recorder"])
    [report] = verify_cases(ready_svc, [case.number], clock=fixed_clock(at("2026-12-01 09:00")))
    assert report.ok, report.first_failure


def test_the_invited_member_lists_and_reads_their_vote_while_it_is_open_and_nothing_after(ready_svc) -> None:
    _invite_panel3(ready_svc)
    scenario = SCENARIOS["penalty_waiver"]
    last_vote = max(i for i, step in enumerate(scenario.steps) if step.spec_id == "panel_vote")
    number = play(ready_svc, scenario, start=START, stop_before=last_vote).case.number  # panel3's vote is open
    [vote] = [t for t in list_tasks(ready_svc, user_id="panel3") if t.case_number == number]
    assert vote.spec_id == "panel_vote" and vote.status == "ready"
    assert task_for_viewer(ready_svc, vote.id, "panel3", now=START).task.id == vote.id
    seen = case_for_viewer(ready_svc, number, "panel3", now=START)
    assert not seen.identity_shown  # redacted: a panel member does their part without the complainant's identity
    assert number in {c.number for c in list_cases(ready_svc, viewer_id="panel3")}
    done = next(t for t in list_tasks(ready_svc, case=number, include_done=True)
                if t.spec_id == "investigation_report")
    with pytest.raises(Forbidden):  # only the task named to them, not the case's other steps
        task_for_viewer(ready_svc, done.id, "panel3", now=START)
    with pytest.raises(Forbidden):  # the district's head is named on nothing of the city's case
        case_for_viewer(ready_svc, number, "head2", now=START)
    assert number not in {c.number for c in list_cases(ready_svc, viewer_id="head2")}

    play_step(ready_svc, number, scenario.steps[last_vote], MutableClock(START + dt.timedelta(hours=last_vote + 1)))
    assert [t for t in list_tasks(ready_svc, user_id="panel3") if t.case_number == number] == []
    with pytest.raises(Forbidden):
        case_for_viewer(ready_svc, number, "panel3", now=START)
    assert number not in {c.number for c in list_cases(ready_svc, viewer_id="panel3")}
