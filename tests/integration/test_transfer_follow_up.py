"""移送 outside the platform and 移送司法: the 回执 (who signed for it, when, the scanned receipt) and the body's
feedback are steps of the model; a receipt that does not come within settings.json `transfer_receipt` raises a
督办 for the head, who is told."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from engine.db.notice_tables import NotificationRow
from engine.db.tables import TaskRow
from engine.demo import SCENARIOS, play
from engine.usecases.cases import case_data
from engine.usecases.tasks import list_tasks
from engine.usecases.timers import run_timers
from engine.values import fixed_clock
from tests.conftest import at

START = at("2026-09-14 09:00")  # a Monday


def test_the_transfer_waits_for_its_receipt_and_a_missing_receipt_is_supervised(ready_svc) -> None:
    steps = [s.spec_id for s in SCENARIOS["transferred"].steps]
    case = play(ready_svc, SCENARIOS["transferred"], start=START, stop_before=steps.index("record_transfer_receipt")).case
    assert [t.spec_id for t in list_tasks(ready_svc, case=case.number)] == ["record_transfer_receipt"]
    sent = dt.datetime.fromisoformat(case_data(ready_svc, case.number)["transferred_at"])
    # Four working days on: the receipt is not late yet (settings.json transfer_receipt: 5 working days).
    run_timers(ready_svc, clock=fixed_clock(sent + dt.timedelta(days=4)))
    assert [t.spec_id for t in list_tasks(ready_svc, case=case.number)] == ["record_transfer_receipt"]
    # Past the fifth working day (the weekend in between does not count): the head is asked to chase it up.
    run_timers(ready_svc, clock=fixed_clock(sent + dt.timedelta(days=9)))
    specs = sorted(t.spec_id for t in list_tasks(ready_svc, case=case.number))
    assert specs == ["record_transfer_receipt", "supervise_record_transfer_receipt"]
    with ready_svc.uow.read() as session:
        supervision = session.scalar(select(TaskRow.id).where(TaskRow.spec_id == "supervise_record_transfer_receipt"))
        told = set(session.scalars(select(NotificationRow.recipient).where(NotificationRow.task_id == supervision)))
    assert {"head", "head2"} <= told


def test_the_referral_records_receipt_and_feedback_before_closing(ready_svc) -> None:
    case = play(ready_svc, SCENARIOS["referred_judicial"], start=START).case
    data = case_data(ready_svc, case.number)
    assert case.outcome == "referred_judicial" and case.status == "closed"
    assert data["receipt_signed_by"] == "呈州市公安局 办公室 刘签收" and data["feedback_result"] == "filed"
