"""转办/移送 on the platform: the case arrives at the receiving agency under its own number with the complaint,
its evidence and a signed record linking both chains; the receiver's 接收/退回 goes back the same way."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from sqlalchemy import update as sql_update

from engine.db.evidence_tables import EvidenceFileRow
from engine.db.notice_tables import NotificationRow
from engine.db.tables import CaseRow, StepRecordRow
from engine.demo import SCENARIOS, play
from engine.demo_users import DEMO_PIN
from engine.errors import LegalGateRefused
from engine.services import Services
from engine.spiff.clocks import MutableClock
from engine.usecases.audit import verify_cases
from engine.usecases.cases import case_data, show_case
from engine.usecases.completion import complete_task
from engine.usecases.dossier import build_case_dossier
from engine.usecases.tasks import list_tasks
from engine.values import CompleteTask, fixed_clock
from signatures.records import StepRecord
from tests.conftest import at
from tests.integration.test_cross_process import processes  # noqa: F401 (the fixture: casetrail in a new process)
from tests.transfer_agencies import DISTRICT, DISTRICT_CLERK, OTHER, STATION
from tests.transfer_agencies import add_agencies as _agencies

START = at("2026-09-14 09:00")


def _task(svc: Services, case_number: str, spec_id: str):
    return next(t for t in list_tasks(svc, case=case_number) if t.spec_id == spec_id)


def _complete(svc: Services, clock: MutableClock, case_number: str, spec_id: str, user: str, data: dict) -> None:
    clock.advance_to(clock() + dt.timedelta(hours=1))
    complete_task(CompleteTask(task_id=_task(svc, case_number, spec_id).id, user_id=user, data=data, pin=DEMO_PIN),
                  svc=svc, clock=clock)


def _hand_over_to(svc: Services, clock: MutableClock, agency: str) -> str:
    """A complaint registered at the city, accepted for hand-over by its head, sent to `agency`: its number."""
    origin = play(svc, SCENARIOS["transferred"], start=START, stop_before=0).case
    clock.advance_to(START + dt.timedelta(hours=1))
    _complete(svc, clock, origin.number, "acceptance_review", "head",
              {"acceptance_decision": "hand_over", "acceptance_opinion": "属和平区管辖，移送", "case_summary": "无证美容店"})
    _complete(svc, clock, origin.number, "hand_over_complaint", "clerk",
              {"receiving_agency": agency, "transfer_reason": "违法行为发生地在和平区",
               "transferred_at": clock().isoformat()})
    return origin.number


def _verified(svc: Services, *numbers: str) -> bool:
    """Each case verifies alone, and its hand-over links hold against the other's records."""
    reports = verify_cases(svc, list(numbers), clock=fixed_clock(START + dt.timedelta(days=1)))
    assert [r.first_failure for r in reports] == [None] * len(numbers)
    for report, number in zip(reports, numbers, strict=True):
        others = {n for n in numbers if n != number}
        assert any(c.reason.startswith("hand-over links hold") and others <= set(c.reason.split(": ")[1].split(", "))
                   for c in report.case_checks), report.case_checks
    return all(r.ok for r in reports)


def _handed_to_the_district(svc: Services) -> tuple[MutableClock, str, str]:
    """The agencies, and a complaint of the city handed over to the district: (clock, origin, received number)."""
    _agencies(svc)
    clock = MutableClock(START)
    origin = _hand_over_to(svc, clock, DISTRICT)
    return clock, origin, _records(svc, origin)[-1].form_data["_hand_over"]["case_number"]


def _records(svc: Services, number: str) -> list[StepRecord]:
    with svc.uow.read() as session:
        case_id = session.scalar(select(CaseRow.id).where(CaseRow.number == number))
        rows = session.scalars(select(StepRecordRow.canonical).where(StepRecordRow.case_id == case_id)
                               .order_by(StepRecordRow.seq))
        return [StepRecord.from_canonical(c) for c in rows]


def test_a_hand_over_opens_the_case_at_the_receiving_agency_with_linked_signed_records(ready_svc) -> None:
    _agencies(ready_svc)
    clock = MutableClock(START)
    origin = _hand_over_to(ready_svc, clock, DISTRICT)
    sent = _records(ready_svc, origin)[-1]
    received_number = sent.form_data["_hand_over"]["case_number"]
    assert received_number == "和卫投〔2026〕0001号"
    received = show_case(ready_svc, received_number)
    with ready_svc.uow.read() as session:
        assert session.scalar(select(CaseRow.agency_code).where(CaseRow.number == received_number)) == DISTRICT
    first = _records(ready_svc, received_number)[0]
    assert first.seq == 1 and first.form_data["transferred_from"] == {
        "case_number": origin, "agency": ready_svc.settings.agency.code, "seq": sent.seq,
        "record_hash": sent.record_hash}
    assert first.form_data["respondent"]["address"] == "呈州市和平路8号"
    # The receiving head decides on it; the sender waits, offered to nobody.
    assert [t.spec_id for t in list_tasks(ready_svc, case=received.number)] == ["receive_transfer"]
    waiting = _task(ready_svc, origin, "await_hand_over")
    assert waiting.candidates == () and show_case(ready_svc, origin).status == "open"
    with ready_svc.uow.read() as session:  # offered to nobody, so nobody is told of it
        assert session.scalar(select(NotificationRow.id).where(NotificationRow.task_id == waiting.id)) is None
    assert _verified(ready_svc, origin, received_number)


def test_the_complaints_evidence_files_go_with_it_as_the_same_blobs(ready_svc) -> None:
    clock, origin, received = _handed_to_the_district(ready_svc)
    with ready_svc.uow.read() as session:
        ids = {n: session.scalar(select(CaseRow.id).where(CaseRow.number == n)) for n in (origin, received)}
        files = {n: sorted(session.scalars(select(EvidenceFileRow.sha256).where(EvidenceFileRow.case_id == i)))
                 for n, i in ids.items()}
    assert files[received] == files[origin]
    assert [e["sha256"] for e in _records(ready_svc, received)[0].form_data.get("_evidence", [])] == files[origin]


@pytest.mark.parametrize(("agency", "article"), [
    (STATION, "第二十二条、第二十三条"),  # 级别管辖: a 派出 unit does not receive transfers
    (OTHER, "第二十二条；"),  # 地域管辖: 和平路 is not in 东区
])
def test_a_hand_over_outside_jurisdiction_is_refused_with_its_article_and_nothing_written(ready_svc, agency,
                                                                                          article) -> None:
    _agencies(ready_svc)
    clock = MutableClock(START)
    with pytest.raises(LegalGateRefused, match=article):
        _hand_over_to(ready_svc, clock, agency)
    with ready_svc.uow.read() as session:
        assert session.scalar(select(CaseRow.id).where(CaseRow.agency_code != ready_svc.settings.agency.code)) is None


def test_a_return_reopens_the_senders_acceptance_with_a_record_naming_the_receiving_case(ready_svc) -> None:
    clock, origin, received = _handed_to_the_district(ready_svc)
    _complete(ready_svc, clock, received, "receive_transfer", "head2",
              {"receive_decision": "return", "receive_opinion": "不属本局管辖", "return_reason": "当事人实际经营地在东区"})
    assert show_case(ready_svc, received).outcome == "not_accepted"
    answered = _records(ready_svc, origin)[-1]
    back = _records(ready_svc, received)[-1]
    assert answered.actor == "head2" and answered.form_data["receive_decision"] == "return"
    assert answered.form_data["_answered_by"] == {"case_number": received, "agency": DISTRICT, "seq": back.seq,
                                                  "record_hash": back.record_hash}
    assert [t.spec_id for t in list_tasks(ready_svc, case=origin)] == ["acceptance_review"]
    assert case_data(ready_svc, origin)["return_reason"] == "当事人实际经营地在东区"
    assert _verified(ready_svc, origin, received)
    # Both dossiers carry the signed records that link them (案卷: cover, records, signature manifest).
    for number in (origin, received):
        assert build_case_dossier(ready_svc, number, clock=fixed_clock(START + dt.timedelta(days=1))).startswith(b"%PDF")


def test_a_received_case_goes_on_at_the_receiver_and_the_sender_ends_transferred(ready_svc) -> None:
    clock, origin, received = _handed_to_the_district(ready_svc)
    _complete(ready_svc, clock, received, "receive_transfer", "head2",
              {"receive_decision": "accept", "receive_opinion": "接收"})
    assert show_case(ready_svc, origin).outcome == "transferred"
    assert [t.spec_id for t in list_tasks(ready_svc, case=received)] == ["acceptance_review"]
    # Received by transfer, it is not transferred on but to the common superior (指定管辖, 第二十五条).
    _complete(ready_svc, clock, received, "acceptance_review", "head2",
              {"acceptance_decision": "hand_over", "acceptance_opinion": "报请指定管辖", "case_summary": "无证美容店"})
    with pytest.raises(LegalGateRefused, match="第二十五条"):
        _complete(ready_svc, clock, received, "hand_over_complaint", DISTRICT_CLERK,
                  {"receiving_agency": OTHER, "transfer_reason": "x", "transferred_at": clock().isoformat()})
    home = ready_svc.settings.agency.code
    _complete(ready_svc, clock, received, "hand_over_complaint", DISTRICT_CLERK,
              {"receiving_agency": home, "transfer_reason": "报请指定管辖", "transferred_at": clock().isoformat()})
    designate = _records(ready_svc, received)[-1].form_data["_hand_over"]
    assert designate["agency"] == home and designate["case_number"] == "呈卫投〔2026〕0002号"


def test_a_hand_over_and_its_return_each_in_a_fresh_process_verify_alone(ready_svc, processes, tmp_path) -> None:  # noqa: F811
    """The CLI per step: `task complete` hands the case over and the receiver returns it, each in a new
    process; `casetrail verify` (another process) passes each case alone."""
    _agencies(ready_svc)
    origin = play(ready_svc, SCENARIOS["transferred"], start=START, stop_before=0).case.number
    clock = MutableClock(START)

    def complete(number: str, spec_id: str, user: str, data: dict, *, status: int = 0) -> str:
        clock.advance_to(clock() + dt.timedelta(hours=1))
        form = tmp_path / f"{spec_id}.json"
        form.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        done = processes(clock(), "task", "complete", _task(ready_svc, number, spec_id).id, "--user", user,
                         "--data", str(form), "--pin", DEMO_PIN)
        assert done.returncode == status, done.stdout + done.stderr
        return done.stdout + done.stderr

    complete(origin, "acceptance_review", "head",
             {"acceptance_decision": "hand_over", "acceptance_opinion": "移送", "case_summary": "无证美容店"})
    refused = complete(origin, "hand_over_complaint", "clerk", {  # 东区 has no jurisdiction over 和平路: exit 2
        "receiving_agency": OTHER, "transfer_reason": "属地管辖", "transferred_at": clock().isoformat()}, status=2)
    assert "第二十二条" in refused
    complete(origin, "hand_over_complaint", "clerk", {"receiving_agency": DISTRICT, "transfer_reason": "属地管辖",
                                                      "transferred_at": (clock() + dt.timedelta(hours=1)).isoformat()})
    received = _records(ready_svc, origin)[-1].form_data["_hand_over"]["case_number"]
    complete(received, "receive_transfer", "head2",
             {"receive_decision": "return", "receive_opinion": "退回", "return_reason": "不属本局管辖"})
    for number in (origin, received):
        verified = processes(clock(), "verify", number)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    assert [t.spec_id for t in list_tasks(ready_svc, case=origin)] == ["acceptance_review"]


def test_verify_fails_the_sender_when_the_case_its_record_names_is_not_the_one_stored(ready_svc) -> None:
    """Each chain is signed alone; the link is checked against the other case as stored: a received case whose
    number was changed in the database no longer answers the sender's record."""
    _, origin, received = _handed_to_the_district(ready_svc)
    with ready_svc.uow() as work:
        work.session.execute(sql_update(CaseRow).where(CaseRow.number == received).values(number="和卫投〔2026〕0099号"))
        work.commit()
    [report] = verify_cases(ready_svc, [origin], clock=fixed_clock(START + dt.timedelta(days=1)))
    assert not report.ok and "hand-over link" in str(report.first_failure) and received in str(report.first_failure)
