"""`casetrail supervise`: 挂牌督办 from the command line (issue 16).

`flag CASE --user SUP --instructions … --due DATE [--reason …] [--pin PIN]`: the supervisor's signed flag and 督办通知书.
`list --user U [--json]`: the supervised cases as U's list shows them (the supervisor's, or the handling agency's),
with the next report due. The reports, the 催报 and the 销号 are the model's tasks: `casetrail task complete`.
"""

from __future__ import annotations

import click

from engine.cli_support import current_clock, emit, handle_errors, services


@click.group()
def supervise() -> None:
    """挂牌督办: flag a case of an agency below yours, list the supervised cases."""


@supervise.command("flag")
@click.argument("case_ref")
@click.option("--user", "user_id", required=True, help="the supervisor (督查人员)")
@click.option("--instructions", required=True, help="督办要求")
@click.option("--due", "due_date", required=True, help="办结期限, YYYY-MM-DD")
@click.option("--reason", default="", help="督办理由")
@click.option("--pin", default=None, help="the supervisor's signing PIN (prompted when needed)")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def supervise_flag(case_ref: str, user_id: str, instructions: str, due_date: str, reason: str, pin: str | None,
                   as_json: bool) -> None:
    """Flag CASE for supervision (挂牌督办): signed with the supervisor's key, with the 督办通知书."""
    from engine.cli_commands import signing_pin
    from engine.usecases.supervision import flag_case
    from engine.values import FlagCase

    data = {"supervision_instructions": instructions, "supervision_due_date": due_date}
    if reason:
        data["supervision_reason"] = reason
    view = flag_case(FlagCase(case_ref=case_ref, user_id=user_id, data=data, pin=signing_pin(pin)), svc=services(),
                     clock=current_clock())
    emit(view.to_json(), as_json, lambda: click.echo(
        f"{view.case_number} 已挂牌督办 (flagged for supervision) by {user_id}; next report due "
        f"{view.next_report_due:%Y-%m-%d %H:%M %Z}" if view.next_report_due else f"{view.case_number} flagged"))


@supervise.command("list")
@click.option("--user", "user_id", required=True, help="whose list: a supervisor's, or the handling agency's")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def supervise_list(user_id: str, as_json: bool) -> None:
    """The supervised cases USER's agency flagged or handles, newest flag first, with the next report due."""
    from engine.usecases.supervision import supervised_cases

    svc = services()
    items = supervised_cases(svc, viewer_id=user_id, now=current_clock()())
    zone = svc.settings.zone

    def text() -> None:
        for c in items:
            due = f"{c.next_report_due.astimezone(zone):%Y-%m-%d}" if c.next_report_due else "-"
            state = "督办中" if c.open else "已销号"
            mark = (" 逾期 (overdue)" if c.overdue else "") + (" 超办结期限 (past the deadline)" if c.past_due else "")
            click.echo(f"{c.case_number} {c.respondent} {c.handling_agency} {state} 办结期限 {c.due_date} "
                       f"下次报告 {due}{mark}")
        if not items:
            click.echo("no supervised cases")

    emit([c.to_json() for c in items], as_json, text)
