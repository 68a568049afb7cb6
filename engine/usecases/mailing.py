"""Sending the e-mail outbox (issue 15): the worker's part, never a web request's.

A round takes the outbox rows that are due (SKIP LOCKED on PostgreSQL, so workers share them), composes each
from its notice — case number, step, deadline, a link; nothing from the case's data, so no complainant identity
can be in it — and moves its next attempt out *before* sending: a worker that dies mid-send leaves the row to be
retried later, not lost and not resent at once. Then it sends over SMTP outside any transaction and records
the outcome. Failures wait longer each time (RETRY_BASE doubling, at most RETRY_MAX) and stop after ATTEMPTS.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.db.notice_tables import EmailOutboxRow, NotificationRow
from engine.db.tables import NO_DEADLINE, CaseRow, TaskRow, UserRow
from engine.enums import NoticeKind
from engine.errors import ConfigurationError
from engine.services import Services
from engine.values import Clock

# Delivery is best effort with bounded retries: a mail server down for a day does not keep a row alive for ever.
ATTEMPTS = 8
RETRY_BASE = dt.timedelta(minutes=1)
RETRY_MAX = dt.timedelta(hours=6)
TLS_MODES = ("none", "starttls", "ssl")

# What each kind of notice says (zh first; English below it in the mail and on English pages).
NOTICE_WORDS: Mapping[NoticeKind, tuple[str, str]] = {
    NoticeKind.OFFERED: ("有新的待办任务", "A new task is offered to you"),
    NoticeKind.ASSIGNED: ("任务已指派给您", "A task is assigned to you"),
    NoticeKind.RETURNED: ("案件退回补正", "A case is returned to you for correction"),
    NoticeKind.DUE_SOON: ("任务即将到期", "A task is due soon"),
    NoticeKind.OVERDUE: ("任务已超期", "A task is overdue"),
    NoticeKind.URGED: ("任务被督办", "A head is urging a task on"),
}


@dataclass(frozen=True)
class MailSettings:
    """Where mail goes out (CASETRAIL_SMTP_* of the worker's environment) and the site's address for links."""

    host: str
    port: int = 25
    sender: str = "casetrail@localhost"
    username: str | None = None
    password: str | None = None
    tls: str = "none"  # none | starttls | ssl
    base_url: str = ""
    timeout: float = 20.0


def mail_settings_from(environ: Mapping[str, str]) -> MailSettings | None:
    """CASETRAIL_SMTP_HOST (none: mail stays queued), _PORT, _FROM, _USER, _PASSWORD, _TLS (none, starttls, ssl)
    and CASETRAIL_PUBLIC_URL (the site's address, for links in mail). A malformed value is refused at start."""
    host = (environ.get("CASETRAIL_SMTP_HOST") or "").strip()
    if not host:
        return None
    tls = (environ.get("CASETRAIL_SMTP_TLS") or "none").strip().lower()
    if tls not in TLS_MODES:
        raise ConfigurationError(f"CASETRAIL_SMTP_TLS 无效 (must be one of {', '.join(TLS_MODES)}): {tls}")
    port_text = (environ.get("CASETRAIL_SMTP_PORT") or ("465" if tls == "ssl" else "25")).strip()
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigurationError(f"CASETRAIL_SMTP_PORT 无效 (not a port number): {port_text}")
    return MailSettings(host=host, port=int(port_text), sender=environ.get("CASETRAIL_SMTP_FROM") or "casetrail@localhost",
                        username=environ.get("CASETRAIL_SMTP_USER") or None,
                        password=environ.get("CASETRAIL_SMTP_PASSWORD") or None, tls=tls,
                        base_url=(environ.get("CASETRAIL_PUBLIC_URL") or "").rstrip("/"))


@dataclass(frozen=True)
class MailRound:
    sent: int
    failed: int


@dataclass(frozen=True)
class _Mail:
    id: int
    to: str
    subject: str
    body: str


def send_outbox(svc: Services, mail: MailSettings, *, clock: Clock, batch: int = 50) -> MailRound:
    """Send the outbox rows that are due; each is sent once or retried later. Returns how many went and failed."""
    now = clock()
    with svc.uow() as work:
        taken = _take(work.session, svc, mail, now, batch)
        work.commit()
    if not taken:
        return MailRound(0, 0)
    outcomes: dict[int, str | None] = {}
    try:
        with _connect(mail) as smtp:
            for item in taken:
                outcomes[item.id] = _send(smtp, mail, item)
    except (OSError, smtplib.SMTPException) as exc:  # the server could not be reached or hung up
        outcomes.update({item.id: f"{type(exc).__name__}: {exc}" for item in taken if item.id not in outcomes})
    with svc.uow() as work:
        for item_id, error in outcomes.items():
            values: dict[str, Any] = {"sent_at": clock(), "last_error": None} if error is None else {"last_error": error[:1000]}
            work.session.execute(update(EmailOutboxRow).where(EmailOutboxRow.id == item_id).values(**values))
        work.commit()
    failed = sum(1 for e in outcomes.values() if e is not None)
    return MailRound(sent=len(outcomes) - failed, failed=failed)


def _take(s: Session, svc: Services, mail: MailSettings, now: dt.datetime, batch: int) -> list[_Mail]:
    rows = list(s.scalars(
        select(EmailOutboxRow).where(EmailOutboxRow.sent_at.is_(None), EmailOutboxRow.next_attempt_at <= now)
        .order_by(EmailOutboxRow.next_attempt_at, EmailOutboxRow.id).limit(batch).with_for_update(skip_locked=True)))
    taken = []
    for row in rows:
        row.attempts += 1
        # Given up after ATTEMPTS: kept with its last error, never taken again.
        row.next_attempt_at = now + min(RETRY_BASE * 2 ** (row.attempts - 1), RETRY_MAX) \
            if row.attempts < ATTEMPTS else NO_DEADLINE
        if not row.subject:
            row.subject, row.body = compose(s, svc, mail, row.notification_id)
        taken.append(_Mail(row.id, row.to, row.subject, row.body))
    return taken


def compose(s: Session, svc: Services, mail: MailSettings, notification_id: int | None) -> tuple[str, str]:
    """Subject and body of a notice's mail, zh with English below: what happened, the case number, the step, its
    deadline in the agency's time and a link. Only those: never the note, the parties or any form data."""
    found = None if notification_id is None else s.execute(
        select(NotificationRow.kind, UserRow.name, CaseRow.number, CaseRow.definition_id, TaskRow.id, TaskRow.name,
               TaskRow.spec_id, TaskRow.due_at)
        .join(UserRow, UserRow.id == NotificationRow.recipient)
        .outerjoin(CaseRow, CaseRow.id == NotificationRow.case_id)
        .outerjoin(TaskRow, TaskRow.id == NotificationRow.task_id)
        .where(NotificationRow.id == notification_id)).first()
    if found is None:  # its notice was deleted with its case: a bare reminder to look at the inbox
        return "casetrail 通知 / notice", f"请登录查看收件箱。\n\nPlease sign in and see your inbox.\n{mail.base_url}/inbox\n"
    kind, person, number, definition_id, task_id, step, spec_id, due = found
    zh, en = NOTICE_WORDS[NoticeKind(kind)]
    step_en = step
    if definition_id is not None and spec_id is not None:
        meta = svc.definition(s, definition_id).metas.get(spec_id)
        step_en = (meta.name_en if meta is not None else None) or step
    when = due.astimezone(svc.settings.zone).strftime("%Y-%m-%d %H:%M") if due else None
    link = f"{mail.base_url}/tasks/{task_id}" if task_id else f"{mail.base_url}/inbox"
    subject = f"【{zh}】{step or ''} {number or ''}".strip() + f" / {en}"
    body = "\n".join([
        f"{person}，您好：", "", f"{zh}。",
        *([f"案件编号：{number}"] if number else []), *([f"办理环节：{step}"] if step else []),
        f"办理期限：{when or '无'}", f"链接：{link}", "", "—— English ——", "", f"{en}.",
        *([f"Case: {number}"] if number else []), *([f"Step: {step_en}"] if step else []),
        f"Due: {when or 'none'}", f"Link: {link}", "",
        "本邮件由 casetrail 自动发送，请勿回复。 This message was sent by casetrail; please do not reply.", ""])
    return subject[:200], body


def _connect(mail: MailSettings) -> smtplib.SMTP:
    if mail.tls == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(mail.host, mail.port, timeout=mail.timeout,
                                              context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout)
        if mail.tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if mail.username:
        smtp.login(mail.username, mail.password or "")
    return smtp


def _send(smtp: smtplib.SMTP, mail: MailSettings, item: _Mail) -> str | None:
    """Send one message; the refusal of this one recipient is its error, not the round's."""
    message = EmailMessage()
    message["From"] = formataddr(("casetrail", mail.sender))
    message["To"] = item.to
    message["Subject"] = item.subject
    message["Message-ID"] = make_msgid(domain=mail.sender.rpartition("@")[2] or None)
    message.set_content(item.body)
    try:
        smtp.send_message(message)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


__all__ = ["ATTEMPTS", "NOTICE_WORDS", "MailRound", "MailSettings", "compose", "mail_settings_from", "send_outbox"]
