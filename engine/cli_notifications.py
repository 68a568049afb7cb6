"""`casetrail notifications`: a person's inbox from the command line (issue 15).

`list --user U [--unread] [--json]`: the person's notices, newest first. The worker (`casetrail worker`) writes
the due-soon and overdue notices and sends the mail; `send` runs one round of sending by hand.
"""

from __future__ import annotations

import os

import click

from engine.cli_support import current_clock, emit, handle_errors, services


@click.group()
def notifications() -> None:
    """Notices to people: offered, assigned, returned (补正), due soon, overdue, urged (督办)."""


@notifications.command("list")
@click.option("--user", "user_id", required=True, help="whose inbox")
@click.option("--unread", is_flag=True, help="only notices not read yet")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def notifications_list(user_id: str, unread: bool, as_json: bool) -> None:
    """The notices of USER, newest first."""
    from engine.enums import NoticeKind
    from engine.usecases.inbox import list_notices
    from engine.usecases.mailing import NOTICE_WORDS

    svc = services()
    notices = list_notices(svc, user_id, unread=unread)
    zone = svc.settings.zone

    def text() -> None:
        for n in notices:
            zh, _en = NOTICE_WORDS[NoticeKind(n.kind)]
            mark = " " if n.read_at else "*"
            click.echo(f"{mark} {n.id:6} {n.created_at.astimezone(zone):%Y-%m-%d %H:%M} {zh:8} "
                       f"{n.case_number or '-'} {n.task_name or ''}" + (f" — {n.note}" if n.note else ""))
        if not notices:
            click.echo("no notices")

    emit([n.to_json() for n in notices], as_json, text)


@notifications.command("send")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def notifications_send(as_json: bool) -> None:
    """Send the queued notice mail once (CASETRAIL_SMTP_HOST and the other CASETRAIL_SMTP_* settings)."""
    from engine.errors import ConfigurationError
    from engine.usecases.mailing import mail_settings_from, send_outbox

    svc = services()  # a database that cannot be used is named first, as by every command
    mail = mail_settings_from(os.environ)
    if mail is None:
        raise ConfigurationError("未配置邮件服务器 (CASETRAIL_SMTP_HOST is not set: mail stays queued)")
    sent = send_outbox(svc, mail, clock=current_clock())
    emit({"sent": sent.sent, "failed": sent.failed}, as_json,
         lambda: click.echo(f"sent {sent.sent}, failed {sent.failed} (retried later)"))


@notifications.command("prune")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def notifications_prune(as_json: bool) -> None:
    """Delete the notices read longer ago than settings.json notifications.keep_read_days (unread ones stay)."""
    from engine.usecases.notice_retention import prune_read_notices

    pruned = prune_read_notices(services(), clock=current_clock())
    emit({"deleted": pruned}, as_json, lambda: click.echo(f"deleted {pruned} read notices"))
