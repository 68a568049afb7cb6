"""远程合议 across agencies: a member of another agency on the platform sits on a city case's panel, is offered by
the picker, votes with their own certificate, and the case verifies; the rule that lets a panel field reach other
agencies is named (engine/rules/people.py `invited_across_agencies`) for pickers scoped by agency."""

from __future__ import annotations

from sqlalchemy import select, update

from engine.db.tables import CaseRow, CertificateRow, StepRecordRow, UserRow
from engine.demo import SCENARIOS, play
from engine.rules.people import invited_across_agencies, person_fields
from engine.spiff.definitions import load_default_definition
from engine.usecases.audit import verify_cases
from engine.usecases.people import person_choices
from engine.values import fixed_clock
from tests.conftest import at
from tests.transfer_agencies import DISTRICT, add_agencies

START = at("2026-09-14 09:00")


def test_a_panel_member_of_another_agency_is_offered_and_votes_with_their_own_certificate(ready_svc) -> None:
    add_agencies(ready_svc)
    with ready_svc.uow() as work:  # the expert invited from the district sits on the city's panel
        work.session.execute(update(UserRow).where(UserRow.id == "panel3").values(agency_code=DISTRICT))
        work.commit()
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
