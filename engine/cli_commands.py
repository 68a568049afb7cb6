"""Commands of the `casetrail` CLI: init, user, case, task, timers, worker, repair (assembled by engine/cli.py)."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from engine.cli_calendar import local_day, provisional_mark, warn_provisional
from engine.cli_people import ISO_DAY, add_people_commands, day_or_none
from engine.cli_support import current_clock, emit, handle_errors, parse_now, read_json_file, services
from engine.errors import CasetrailError
from engine.values import (
    AddUser,
    AssignTask,
    ClaimTask,
    CompleteTask,
    DiscardEvidence,
    EndAllSessions,
    OpenCase,
    RebuildIndicators,
    RekeyUser,
    RepairStuckCases,
    RevokeUserKey,
    SetPassword,
    StageEvidence,
    UnblockSigningPin,
    UnclaimTask,
)

F = TypeVar("F", bound=Callable[..., Any])


def _interactive() -> bool:
    return sys.stdin.isatty()


def new_pin(pin: str | None) -> str | None:
    """A new signing PIN: the option, else prompted twice on a terminal; None (no key yet) otherwise."""
    if pin is None and _interactive():
        pin = click.prompt("签名PIN码 (signing PIN)", hide_input=True, confirmation_prompt=True)
    return pin


def signing_pin(pin: str | None) -> str | None:
    """The PIN to sign a step: the option, else prompted once on a terminal (never echoed, never stored)."""
    if pin is None and _interactive():
        pin = click.prompt("签名PIN码 (signing PIN)", hide_input=True)
    return pin


@click.command()
@handle_errors
def init() -> None:
    """Create the database (migrations), the agency keys (root CA, seal, log) and load the process model."""
    from engine.journal import ensure_agency
    from engine.usecases.definitions import store_default_definition

    svc = services()
    def_id, sha, created = store_default_definition(svc=svc, clock=current_clock())
    with svc.uow() as work:
        ensure_agency(svc, work.session, current_clock()())
        work.commit()
    click.echo(f"database ready; process definition {def_id} sha256={sha[:16]}… {'loaded' if created else 'unchanged'}")
    from engine.keystore import FileAgencyKeys

    # Keys made before they were encrypted at rest: running `init` again is the upgrade (or `keys encrypt`).
    if isinstance(svc.agency_keys, FileAgencyKeys) and (encrypted := svc.agency_keys.encrypt()):
        click.echo(f"agency keys {', '.join(encrypted)} now encrypted under {svc.agency_keys.kek.description}")
    click.echo("agency keys ready (outside the database); export the root with: casetrail ca root --out root.pem")


@click.group()
def user() -> None:
    """Users and roles."""


@user.command("add")
@click.argument("user_id")
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True, help="repeatable: intake officer panel legal head publisher auditor admin")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--unit", default="")
@click.option("--pin", default=None, help="signing PIN for the officer's new key (prompted on a terminal; never stored)")
@click.option("--cert-no", default=None, help="执法证号 (officers: required to be chosen as one)")
@click.option("--cert-valid-until", type=ISO_DAY, default=None, help="the last day the 执法证 is valid, YYYY-MM-DD")
@click.option("--agency", "agency_code", default=None, help="the agency's code (default: the platform's home agency)")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def user_add(user_id: str, name: str, roles: tuple[str, ...], password: str, unit: str, pin: str | None,
             cert_no: str | None, cert_valid_until: Any, agency_code: str | None, as_json: bool) -> None:
    from engine.usecases.users import add_user

    view = add_user(AddUser(user_id=user_id, name=name, password=password, roles=list(roles), unit=unit,
                            pin=new_pin(pin), cert_no=cert_no, cert_valid_until=day_or_none(cert_valid_until),
                            agency_code=agency_code),
                    svc=services(), clock=current_clock())
    emit(view.to_json(), as_json, lambda: click.echo(f"user {view.id} added to {view.agency_code} with roles "
                                                     f"{', '.join(view.roles)}"))


@user.command("rekey")
@click.argument("user_id")
@click.option("--pin", default=None, help="the new signing PIN (prompted with confirmation on a terminal)")
@click.option("--reason", default="", help="why (journalled with the change)")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def user_rekey(user_id: str, pin: str | None, reason: str, as_json: bool) -> None:
    """Issue a new signing key and certificate (new PIN); the old certificate is revoked from now."""
    from engine.usecases.users import rekey_user

    change = rekey_user(RekeyUser(user_id=user_id, pin=new_pin(pin) or "", reason=reason), svc=services(),
                        clock=current_clock())
    emit(change.to_json(), as_json, lambda: click.echo(
        f"{user_id}: new certificate {change.issued}; revoked {', '.join(change.revoked) or 'none'}"))


@user.command("revoke")
@click.argument("user_id")
@click.option("--reason", default="", help="why: lost key, PIN disclosed … (journalled with the change)")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def user_revoke(user_id: str, reason: str, as_json: bool) -> None:
    """Revoke the user's signing certificate now; steps signed before stay valid."""
    from engine.usecases.users import revoke_user_key

    change = revoke_user_key(RevokeUserKey(user_id=user_id, reason=reason), svc=services(),
                             clock=current_clock())
    emit(change.to_json(), as_json, lambda: click.echo(f"{user_id}: revoked {', '.join(change.revoked)} at {change.at}"))


@user.command("unblock-pin")
@click.argument("user_id")
@click.option("--by", default=None, help="the head or administrator unblocking it (journalled; default: the server's "
                                         "command line)")
@click.option("--reason", default="", help="why (required; journalled with who)")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def user_unblock_pin(user_id: str, by: str | None, reason: str, as_json: bool) -> None:
    """Unblock a signing key blocked after too many wrong PINs; the count of wrong PINs starts again."""
    from engine.usecases.signing_pins import unblock_signing_pin

    done = unblock_signing_pin(UnblockSigningPin(user_id=user_id, by=by, reason=reason), svc=services(),
                               clock=current_clock())
    emit(done.to_json(), as_json, lambda: click.echo(
        f"{user_id}: signing PIN unblocked by {done.by} (after {done.failures} wrong PINs)"))


@user.command("pin-state")
@click.argument("user_id")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def user_pin_state(user_id: str, as_json: bool) -> None:
    """Wrong signing PINs in a row, and whether the key is blocked."""
    from engine.errors import NotFound
    from engine.usecases.signing_pins import signing_pin

    state = signing_pin(services(), user_id)
    if state is None:
        raise NotFound(f"{user_id} 没有有效的签名密钥 (no active signing key)")
    emit(state.to_json(), as_json, lambda: click.echo(
        f"{user_id}: blocked since {state.blocked_at or '?'} after {state.failures} wrong PINs" if state.blocked
        else f"{user_id}: {state.failures} wrong PINs in a row, {state.tries_left} tries left"))


def new_kek_file(which: str) -> Callable[[F], F]:
    """The --new-kek-file option of a rotation (`user rewrap-keys`, `keys rewrap`)."""
    return click.option("--new-kek-file", required=True, type=click.Path(dir_okay=False),
                        help=f"the new {which}key-encryption key: 32 bytes, or their base64")


@user.command("rewrap-keys")
@new_kek_file("")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def user_rewrap_keys(new_kek_file: str, as_json: bool) -> None:
    """Rotate the officers' key-encryption key: every officer key re-wrapped under the new one, in one transaction.
    Then install the new key in place of the old (docs/signatures.md); the next start refuses the old one."""
    from pathlib import Path

    from engine.keystore import read_kek_file
    from engine.officer_keys import rewrap_officer_keys

    new = read_kek_file(Path(new_kek_file))
    count = rewrap_officer_keys(services(), new)
    emit({"rewrapped": count, "kek_id": new.key_id.hex()}, as_json, lambda: click.echo(
        f"{count} officer keys re-wrapped under the new key-encryption key (id {new.key_id.hex()}); install it now "
        "and keep the old one until the new one is backed up"))


@user.command("list")
@click.option("--user", "viewer", default=None,
              help="list as this administrator sees: their agency's people and those below it (default: everyone)")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def user_list(viewer: str | None, as_json: bool) -> None:
    from engine.usecases.users import list_users

    users = list_users(services(), viewer)
    emit([u.to_json() for u in users], as_json,
         lambda: [click.echo(f"{u.id:12} {u.name:8} {u.agency_code:10} {','.join(u.roles)}") for u in users])


def add_login_commands(group: click.Group) -> None:
    """`user end-sessions` and `user set-password`: both end every login of the user at once (issue 13)."""

    @group.command("end-sessions")
    @click.argument("user_id")
    @click.option("--by", default=None, help="the administrator (journalled; default: the server's command line)")
    @click.option("--reason", default="", help="why: a lost laptop, a screen left open … (journalled)")
    @click.option("--json", "as_json", is_flag=True)
    @handle_errors
    def user_end_sessions(user_id: str, by: str | None, reason: str, as_json: bool) -> None:
        """End every login of the user now, in every browser and on every server process."""
        from engine.usecases.users import end_all_sessions

        ended = end_all_sessions(EndAllSessions(user_id=user_id, by=by, reason=reason), svc=services(),
                                 clock=current_clock())
        emit({"user_id": user_id, "ended": ended}, as_json, lambda: click.echo(f"{user_id}: {ended} logins ended"))

    @group.command("set-password")
    @click.argument("user_id")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--by", default=None, help="the administrator (journalled; default: the server's command line)")
    @click.option("--reason", default="", help="why (journalled)")
    @handle_errors
    def user_set_password(user_id: str, password: str, by: str | None, reason: str) -> None:
        """Set a user's password (a forgotten one); every login of the user ends."""
        from engine.usecases.users import set_password

        ended = set_password(SetPassword(user_id=user_id, password=password, by=by, reason=reason),
                             svc=services(),
                             clock=current_clock())
        click.echo(f"{user_id}: password set; {ended} logins ended")


add_login_commands(user)
add_people_commands(user)


@click.group()
def case() -> None:
    """Cases."""


@case.command("open")
@click.option("--data", "data_file", required=True, type=str, help="JSON file with the intake form (- for stdin)")
@click.option("--user", "user_id", required=True)
@click.option("--pin", default=None, help="the clerk's signing PIN (prompted on a terminal)")
@click.option("--file", "files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="complaint material (photo, recording, scan, document) listed in the signed registration; "
                   "repeat for several")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def case_open(data_file: str, user_id: str, pin: str | None, files: tuple[Path, ...], as_json: bool) -> None:
    """Register a complaint (投诉举报登记) from the form's data, with its material (--file): the case's first
    signed record lists each file; if the registration is refused, the files staged for it are taken back."""
    from engine.usecases.cases import open_case
    from engine.usecases.evidence import new_intake_key, stage_evidence
    from engine.usecases.evidence_discard import discard_evidence

    data = read_json_file(data_file)
    svc, clock = services(), current_clock()
    key = new_intake_key() if files else None
    staged: list[int] = []
    try:
        for path in files:
            staged.append(stage_evidence(StageEvidence(case_ref=None, user_id=user_id, name=path.name, source=path,
                                                       intake_key=key), svc=svc, clock=clock).id)
        view = open_case(OpenCase(user_id=user_id, data=data, pin=signing_pin(pin), evidence_key=key),
                         svc=svc, clock=clock)
    except BaseException:
        for file_id in staged:  # nothing else could take them: this command's key is gone with it
            with contextlib.suppress(CasetrailError):
                discard_evidence(DiscardEvidence(file_id=file_id, user_id=user_id), svc=svc, clock=clock)
        raise
    emit(view.to_json(), as_json, lambda: click.echo(
        f"{view.number} opened (id {view.id}, stage {view.stage})"
        + (f"; {len(staged)} file(s) listed in its registration" if staged else "")))


@case.command("list")
@click.option("--user", "user_id", default=None,
              help="only the cases this user may see (as /cases lists them); without: every case")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def case_list(user_id: str | None, as_json: bool) -> None:
    from engine.usecases.cases import list_cases

    cases = list_cases(services(), viewer_id=user_id)
    emit([c.to_json() for c in cases], as_json,
         lambda: [click.echo(f"{c.id:5} {c.number}  {c.stage:14} {c.outcome:18} {c.respondent}") for c in cases])


@case.command("show")
@click.argument("case_ref")
@click.option("--user", "user_id", default=None,
              help="read as this user may see it; without: as an auditor sees it (the complainant's identity "
                   "hidden, votes sealed while their round is open)")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def case_show(case_ref: str, user_id: str | None, as_json: bool) -> None:
    """A case as USER may see it (the same read as the case page and /api/cases)."""
    from engine.usecases.viewer import case_for_viewer

    shown = case_for_viewer(services(), case_ref, user_id, now=current_clock()())
    view, deadlines = shown.case, shown.deadlines

    def text() -> None:
        click.echo(f"{view.number}  stage={view.stage} outcome={view.outcome} status={view.status}")
        click.echo(f"respondent: {view.respondent}")
        for d in deadlines:
            click.echo(f"  deadline {d.label}: {local_day(d.due_at)}{provisional_mark(d)}"
                       f"{f' met {local_day(d.met_at)}' if d.met_at else ''}")
        for t in view.open_tasks:
            click.echo(f"  open task {t.id}  {t.name} [{t.role}] due {t.due_at or '-'}{provisional_mark(t)}"
                       f" assignee {t.assignee or '-'}")
        for e in view.events:  # a signed step as its record states it; the rest is the unsigned journal
            source = f"record {e.seq}" if e.seq is not None else "journal"
            click.echo(f"  {e.at:%Y-%m-%d %H:%M} {e.kind:14} {e.spec_id or '':28} {e.actor or '':12} [{source}]")

    warn_provisional(y for item in (*deadlines, *view.open_tasks) for y in item.uncovered_years)
    emit(shown.to_json(), as_json, text)


@click.group()
def task() -> None:
    """Tasks."""


@task.command("list")
@click.option("--user", "user_id")
@click.option("--case", "case_ref")
@click.option("--all", "include_done", is_flag=True, help="include completed and cancelled tasks")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def task_list(user_id: str | None, case_ref: str | None, include_done: bool, as_json: bool) -> None:
    """Open tasks (USER's queue with --user), without their steps' data, as /api/tasks lists them: a step's
    data is read with `task show --user`, redacted and sealed for that user."""
    from dataclasses import replace

    from engine.usecases.tasks import list_tasks

    tasks = [replace(t, form_data=None)
             for t in list_tasks(services(), user_id=user_id, case=case_ref, include_done=include_done)]
    warn_provisional(y for t in tasks for y in t.uncovered_years)
    emit([t.to_json() for t in tasks], as_json, lambda: [
        click.echo(f"{t.id}  {t.case_number}  {t.name} [{t.role}] {t.status} due {t.due_at or '-'}{provisional_mark(t)}")
        for t in tasks
    ])


@task.command("show")
@click.argument("task_id")
@click.option("--user", "user_id", default=None,
              help="read as this user may see it, with what they may do (may_act, may_claim, eligible_assignees); "
                   "without: as an auditor sees it")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def task_show(task_id: str, user_id: str | None, as_json: bool) -> None:
    """A task as USER may see it (the same read as the task page and /api/tasks)."""
    import json as _json

    from engine.usecases.viewer import task_for_viewer

    shown = task_for_viewer(services(), task_id, user_id, at=current_clock()()).to_json()
    warn_provisional(shown.get("uncovered_years", ()))
    emit(shown, as_json, lambda: click.echo(_json.dumps(shown, ensure_ascii=False, indent=2, default=str)))


@task.command("claim")
@click.argument("task_id")
@click.option("--user", "user_id", required=True)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def task_claim(task_id: str, user_id: str, as_json: bool) -> None:
    from engine.usecases.tasks import claim_task

    view = claim_task(ClaimTask(task_id, user_id), svc=services(), clock=current_clock())
    emit(view.to_json(), as_json, lambda: click.echo(f"{view.id} claimed by {user_id}"))


@task.command("unclaim")
@click.argument("task_id")
@click.option("--user", "user_id", required=True)
@handle_errors
def task_unclaim(task_id: str, user_id: str) -> None:
    from engine.usecases.tasks import unclaim_task

    unclaim_task(UnclaimTask(task_id, user_id), svc=services(), clock=current_clock())
    click.echo(f"{task_id} returned to the group")


@task.command("assign")
@click.argument("task_id")
@click.option("--to", "assignee", required=True)
@click.option("--by", "by", required=True, help="the head who assigns")
@click.option("--reason", default="", help="why the task changes hands (kept in the signed record)")
@click.option("--pin", default=None, help="the head's signing PIN (prompted when needed)")
@handle_errors
def task_assign(task_id: str, assignee: str, by: str, reason: str, pin: str | None) -> None:
    from engine.usecases.tasks import assign_task

    assign_task(AssignTask(task_id, assignee, by=by, pin=signing_pin(pin), reason=reason), svc=services(),
                clock=current_clock())
    click.echo(f"{task_id} assigned to {assignee}")


@task.command("complete")
@click.argument("task_id")
@click.option("--user", "user_id", required=True)
@click.option("--data", "data_file", default=None, help="JSON file with the form data (- for stdin)")
@click.option("--drawn", "drawn", multiple=True, metavar="FIELD=PNG",
              help="an image drawn on the screen for a form field, e.g. party_signature/image=signature.png "
                   "(stored as a file before the step; repeatable)")
@click.option("--pin", default=None, help="signing PIN (prompted when needed)")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def task_complete(task_id: str, user_id: str, data_file: str | None, drawn: tuple[str, ...], pin: str | None,
                  as_json: bool) -> None:
    from engine.usecases.tasks import complete_task

    data = with_drawn_files(read_json_file(data_file) if data_file else {}, drawn)
    view = complete_task(CompleteTask(task_id=task_id, user_id=user_id, data=data, pin=signing_pin(pin)),
                         svc=services(),
                         clock=current_clock())
    emit(view.to_json(), as_json, lambda: click.echo(f"{view.id} completed by {user_id}"))


def with_drawn_files(data: Any, specs: tuple[str, ...]) -> Any:
    """The form data with each `FIELD=PNG` file put at its field (a path of keys, `/` between them) as the data
    URL a screen's `<canvas>` would send: the step stores it as a file, as it does the web form's."""
    from engine.rules.drawn_images import data_url

    if not specs:
        return data
    if not isinstance(data, dict):
        raise CasetrailError("表单数据必须是 JSON 对象 (form data must be a JSON object)")
    for spec in specs:
        field, sep, file = spec.partition("=")
        keys = [k for k in field.split("/") if k]
        if not sep or not keys or not file:
            raise CasetrailError(f"--drawn 须为 字段=PNG文件 (--drawn takes FIELD=PNG, e.g. "
                                 f"party_signature/image=signature.png): {spec}")
        try:
            png = Path(file).read_bytes()
        except OSError as exc:
            raise CasetrailError(f"无法读取文件 (cannot read) {file}: {exc.strerror}") from exc
        target = data
        for key in keys[:-1]:
            target = target.setdefault(key, {})
            if not isinstance(target, dict):
                raise CasetrailError(f"字段 {field} 不是对象中的字段 (--drawn {field}: {key} is not an object)")
        target[keys[-1]] = data_url(png)
    return data


@click.group()
def timers() -> None:
    """Statutory deadlines."""


@timers.command("run")
@click.option("--now", "now", default=None, help="ISO time to run at (default: the current time)")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def timers_run(now: str | None, as_json: bool) -> None:
    from engine.usecases.timers import run_timers

    fired = run_timers(services(), clock=parse_now(now) if now else current_clock())
    emit([{"case": f.case_number, "timers": list(f.timers)} for f in fired], as_json,
         lambda: click.echo("\n".join(f"{f.case_number}: {', '.join(f.timers)}" for f in fired) or "no timer due"))


# Seconds between the worker's collections of evidence files no step took (a walk over every stored blob).
EVIDENCE_GC_INTERVAL = 3600.0
# The longest the worker sleeps without looking at the next due timer: a case opened or moved meanwhile may have
# brought one nearer than the one it went to sleep for (one indexed MIN() per look). Timers fire within about
# this of their due moment, whatever --interval says.
TIMER_LOOK = 1.0
# The shortest nap: a timer due but skipped (its case held by a step being written) is tried again after it.
TIMER_RETRY = 0.25


@click.command()
@click.option("--interval", default=30.0, show_default=True,
              help="seconds between rounds of deadline notices, mail and tree heads (timers fire when due)")
@click.option("--once", is_flag=True)
@handle_errors
def worker(interval: float, once: bool) -> None:
    """Fire due timers forever, each at its due moment (several workers may run at once); tell tasks' people of
    deadlines near and past and send the queued notice mail (CASETRAIL_SMTP_HOST; unset: it stays queued);
    keep the indicators' rollup (the days before today, and those changed since); collect evidence files no signed step took and delete long-read notices (once an hour)."""
    import os

    from engine.startup import settle_heap
    from engine.usecases.mailing import mail_settings_from
    from engine.usecases.timers import prepare_to_fire, run_timers

    svc = services()
    mail = mail_settings_from(os.environ)  # a malformed setting stops the worker at start, not at the first mail
    prepare_to_fire(svc)
    settle_heap()  # the worker runs for days: what it built to start is not walked by every collection
    collected_at: float | None = None
    next_round = time.monotonic()
    started = False
    while True:
        while fired_now := run_timers(svc, clock=current_clock()):  # until none is due: a burst is not left waiting
            for fired in fired_now:
                click.echo(f"{fired.case_number}: {', '.join(fired.timers)}")
        if not started:  # the database answered: a supervisor's (and the tests') sign that this worker is up
            click.echo(f"worker {os.getpid()} started")
            started = True
        if time.monotonic() >= next_round:
            collected_at = _worker_round(svc, mail, collected_at)
            next_round = time.monotonic() + interval
            if once:
                return
        time.sleep(_until_next_timer(svc, next_round))


def _worker_round(svc: Any, mail: Any, collected_at: float | None) -> float | None:
    """The worker's periodic work besides timers; returns when evidence was last collected."""
    from engine.journal import sign_tree_head_if_grown
    from engine.usecases.deadline_notices import notify_deadlines
    from engine.usecases.evidence import collect_evidence
    from engine.usecases.indicator_rollup import rebuild_indicators
    from engine.usecases.mailing import send_outbox
    from engine.usecases.notice_retention import prune_read_notices

    built = rebuild_indicators(RebuildIndicators(), svc=svc, clock=current_clock())
    if built.ranges or built.days:
        click.echo(f"indicators rolled up: {len(built.ranges)} ranges, {built.days} changed agency-days")
    told = notify_deadlines(svc, clock=current_clock())
    if told.notices:
        click.echo(f"deadline notices: {told.due_soon} tasks due soon, {told.overdue} overdue")
    if mail is not None:
        sent = send_outbox(svc, mail, clock=current_clock())
        if sent.sent or sent.failed:
            click.echo(f"mail: {sent.sent} sent, {sent.failed} failed (retried later)")
    if collected_at is None or time.monotonic() - collected_at >= EVIDENCE_GC_INTERVAL:
        collected = collect_evidence(svc, clock=current_clock())
        collected_at = time.monotonic()
        if collected.rows or collected.blobs:
            click.echo(f"evidence collected: {collected.rows} staged files, {collected.blobs} blobs")
        if pruned := prune_read_notices(svc, clock=current_clock()):  # housekeeping, on the same hourly beat
            click.echo(f"read notices deleted: {pruned}")
    head, signed = sign_tree_head_if_grown(svc, clock=current_clock())
    if signed and head is not None:
        click.echo(f"tree head signed: size {head.tree_head.size} at {head.tree_head.timestamp}")
    return collected_at


def _until_next_timer(svc: Any, next_round: float) -> float:
    """Seconds to sleep: until the next timer is due or the next round, at most TIMER_LOOK, at least TIMER_RETRY."""
    from engine.usecases.timers import next_timer_due

    wait = min(TIMER_LOOK, max(0.0, next_round - time.monotonic()))
    due = next_timer_due(svc)
    if due is not None:
        wait = min(wait, (due - current_clock()()).total_seconds())
    return max(TIMER_RETRY, wait)


@click.command()
@click.option("--case", "case_ref", default=None, help="only this case (number or id)")
@click.option("--dry-run", is_flag=True, help="list the cases that need repair; change nothing")
@click.option("--by", "by", default=None, help="the administrator who repairs (signs the repair records)")
@click.option("--reason", default="", help="why (kept in each signed repair record)")
@click.option("--pin", default=None, help="the administrator's signing PIN (prompted when needed)")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def repair(case_ref: str | None, dry_run: bool, by: str | None, reason: str, pin: str | None, as_json: bool) -> None:
    """Bring cases whose deliberation never closed (votes cast in different processes before this release)
    to the task the model says is next, each with a record signed by the administrator."""
    from engine.errors import ValidationError
    from engine.usecases.repair import find_stuck_cases, repair_stuck_cases

    if dry_run:
        found = find_stuck_cases(services(), clock=current_clock(), case=case_ref)
    else:
        if not by:
            raise ValidationError("修复需要 --by 管理员 (--by ADMIN is required to repair; or use --dry-run)", {})
        found = repair_stuck_cases(RepairStuckCases(by=by, pin=signing_pin(pin), reason=reason, case=case_ref),
                                   svc=services(), clock=current_clock())
    verb = "needs repair" if dry_run else "repaired"
    emit([c.to_json() for c in found], as_json,
         lambda: click.echo("\n".join(_repair_line(c, verb) for c in found) or "no case needs repair"))


def _repair_line(case: Any, verb: str) -> str:
    merged = "; ".join(f"{spec} (steps {', '.join(map(str, seqs))})" for spec, seqs in case.unmerged.items())
    return f"{case.case_number}: {verb}: {merged} -> {case.stage_after}: {', '.join(case.open_after) or '-'}"


@click.group()
def keys() -> None:
    """The agency's keys (root CA, seal, log) at rest: encrypted under the agency's key-encryption key."""


def _file_keys(svc: Any) -> Any:
    from engine.errors import ConfigurationError
    from engine.keystore import FileAgencyKeys

    if not isinstance(svc.agency_keys, FileAgencyKeys):
        raise ConfigurationError("机构密钥不在文件中 (the agency keys are not files here: their token manages them)")
    return svc.agency_keys


@keys.command("status")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def keys_status(as_json: bool) -> None:
    """Where the agency keys are, which are encrypted, and where their key-encryption key comes from."""
    store = _file_keys(services())  # the start-up check has opened them: a wrong KEK never gets this far
    encrypted, plain = store.encrypted(), store.plain()
    kek_id = store.kek.key().key_id.hex() if encrypted else None
    state = {"directory": str(store.directory), "encrypted": encrypted, "plain": plain,
             "kek": store.kek.description, "kek_id": kek_id}
    emit(state, as_json, lambda: click.echo(
        f"agency keys in {store.directory}: encrypted {', '.join(encrypted) or 'none'}; "
        f"unencrypted {', '.join(plain) or 'none'}; key-encryption key: {store.kek.description}"
        + (f" (id {kek_id})" if kek_id else "")))


@keys.command("encrypt")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def keys_encrypt(as_json: bool) -> None:
    """Encrypt agency keys stored as plain PEM (made before this release) under the agency's key-encryption key:
    CASETRAIL_AGENCY_KEK or CASETRAIL_AGENCY_KEK_FILE, else keys/agency-kek.bin made beside them (a demo's place)."""
    store = _file_keys(services())
    encrypted = store.encrypt()
    kek_id = store.kek.key().key_id.hex()
    emit({"encrypted": encrypted, "kek": store.kek.description, "kek_id": kek_id}, as_json, lambda: click.echo(
        f"agency keys {', '.join(encrypted)} encrypted under {store.kek.description} (id {kek_id}); back it up "
        "apart from the keys" if encrypted else "agency keys already encrypted; nothing to do"))


@keys.command("rewrap")
@new_kek_file("agency ")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def keys_rewrap(new_kek_file: str, as_json: bool) -> None:
    """Rotate the agency's key-encryption key: the three keys re-wrapped under the new one, all or none. Then
    install the new key in place of the old (docs/signatures.md); the next start refuses the old one."""
    from pathlib import Path

    from engine.keystore import AGENCY_KEK, read_kek_file

    new = read_kek_file(Path(new_kek_file), AGENCY_KEK)
    store = _file_keys(services())
    store.rewrap(new)
    emit({"rewrapped": ["root", "seal", "log"], "kek_id": new.key_id.hex()}, as_json, lambda: click.echo(
        f"agency keys re-wrapped under the new key-encryption key (id {new.key_id.hex()}); install it in place of "
        f"{store.kek.description} now, and keep the old one until the new one is backed up"))


def commands() -> tuple[click.Command, ...]:
    return (init, user, case, task, timers, worker, repair, keys)
