"""Notification mail: sent by the worker to a real SMTP server (aiosmtpd on 127.0.0.1), zh with English below,
with the case number, step, deadline and a link — and nothing of the complainant."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from engine.db.notice_tables import EmailOutboxRow
from engine.db.tables import UserRow
from engine.demo import SCENARIOS, play, play_step
from engine.services import Services
from engine.spiff.clocks import MutableClock
from engine.spiff.driving import Step
from engine.usecases.mailing import ATTEMPTS, MailSettings, send_outbox
from engine.values import fixed_clock
from tests.conftest import at

START = at("2026-09-14 09:00")
SENT = at("2026-09-20 10:00")


class Inbox:
    """What the SMTP server received: (envelope recipients, parsed message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _mail(port: int) -> MailSettings:
    return MailSettings(host="127.0.0.1", port=port, sender="notices@agency.example", base_url="https://cases.example")


def _returned_closing_report(svc: Services) -> str:
    """A case whose 结案报告 the approver sent back: the case officers are told (returned, mailed by default)."""
    with svc.uow() as work:
        work.session.execute(update(UserRow).where(UserRow.id.in_(["officer1", "officer2"]))
                             .values(email=UserRow.id + "@agency.example"))
        work.commit()
    scenario = SCENARIOS["summary_penalty"]
    specs = [s.spec_id for s in scenario.steps]
    case = play(svc, scenario, start=START, stop_before=specs.index("closing_approval")).case
    with svc.uow() as work:  # what came before is not this test's subject
        work.session.execute(update(EmailOutboxRow).values(sent_at=START))
        work.commit()
    play_step(svc, case.number, Step("closing_approval", {"closing_approved": False}), MutableClock(SENT))
    return case.number


def test_a_returned_case_reaches_the_officers_mailbox_without_the_complainant(
        ready_svc: Services, smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    number = _returned_closing_report(ready_svc)
    result = send_outbox(ready_svc, _mail(port), clock=fixed_clock(SENT + dt.timedelta(minutes=1)))
    assert (result.sent, result.failed) == (2, 0)
    assert sorted(to for tos, _m in inbox.messages for to in tos) == ["officer1@agency.example",
                                                                     "officer2@agency.example"]
    _tos, message = inbox.messages[0]
    body = message.get_content()
    assert message["Subject"].startswith("【案件退回补正】结案报告 " + number)
    assert "A case is returned to you for correction" in message["Subject"]
    assert f"案件编号：{number}" in body and "办理环节：结案报告" in body and "Step: Case closing report" in body
    assert body.index("办理期限") < body.index("—— English ——") < body.index("Due:")
    assert "链接：https://cases.example/tasks/" in body
    complainant = SCENARIOS["summary_penalty"].intake_data(now=START)["complainant"]
    for _tos, sent in inbox.messages:
        text = sent.as_string() + sent.get_content()
        for value in (complainant["name"], complainant["phone"], complainant["address"]):
            assert value not in text
    # Sent once: another round finds nothing to send.
    assert send_outbox(ready_svc, _mail(port), clock=fixed_clock(SENT + dt.timedelta(hours=1))).sent == 0
    assert len(inbox.messages) == 2


def test_a_mail_server_that_is_down_is_retried_later_with_a_growing_wait(
        ready_svc: Services, smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    _returned_closing_report(ready_svc)
    down = MailSettings(host="127.0.0.1", port=_free_port(), timeout=2)  # nobody listens there
    first = send_outbox(ready_svc, down, clock=fixed_clock(SENT))
    assert (first.sent, first.failed) == (0, 2)
    with ready_svc.uow.read() as s:
        rows = s.execute(select(EmailOutboxRow.attempts, EmailOutboxRow.next_attempt_at, EmailOutboxRow.last_error)
                         .where(EmailOutboxRow.sent_at.is_(None))).all()
    assert [r.attempts for r in rows] == [1, 1] and all("Connection" in r.last_error for r in rows)
    assert all(r.next_attempt_at == SENT + dt.timedelta(minutes=1) for r in rows)
    assert send_outbox(ready_svc, _mail(port), clock=fixed_clock(SENT + dt.timedelta(seconds=30))).sent == 0
    second = send_outbox(ready_svc, down, clock=fixed_clock(SENT + dt.timedelta(minutes=1)))
    assert second.failed == 2
    with ready_svc.uow.read() as s:
        waits = set(s.scalars(select(EmailOutboxRow.next_attempt_at).where(EmailOutboxRow.sent_at.is_(None))))
    assert waits == {SENT + dt.timedelta(minutes=3)}  # the second wait is twice the first
    later = send_outbox(ready_svc, _mail(port), clock=fixed_clock(SENT + dt.timedelta(minutes=3)))
    assert (later.sent, later.failed, len(inbox.messages)) == (2, 0, 2)
    assert ATTEMPTS > 2
