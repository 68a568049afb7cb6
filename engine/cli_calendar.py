"""`casetrail calendar`: which years the working-day calendar covers, and entering a year's announced
holiday schedule; and the warning every command gives on stderr about provisional deadlines (暂定期限).

A deadline counted into a year without a known holiday schedule (docs/calendar.md) is shown as provisional;
on the command line the warning goes to stderr, so `--json` output stays JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import click

from engine.cli_support import current_clock, emit, handle_errors, services
from engine.services import Services

WARNED = "calendar_warned_years"


def warn_provisional(years: Iterable[int]) -> None:
    """Tell stderr, once per command and year, that deadlines in `years` are provisional."""
    obj = click.get_current_context().find_root().ensure_object(dict)
    warned: set[int] = obj.setdefault(WARNED, set())
    fresh = sorted(set(years) - warned)
    if not fresh:
        return
    warned.update(fresh)
    shown = "、".join(str(y) for y in fresh)
    click.echo(f"警告：{shown} 年放假安排尚未录入，落在该年的期限按周一至周五计算，为暂定期限；请管理员录入"
               f"（系统管理 → 工作日调整，或 casetrail calendar schedule）"
               f" (warning: no holiday schedule for {', '.join(map(str, fresh))} yet: deadlines in it assume Mon–Fri"
               f" and are provisional; an administrator enters the schedule)", err=True)


def warn_after_each_command(main: click.Group) -> None:
    """After a command succeeds: warn about the years this process counted deadlines into without a
    schedule (a case opened, a step completed, timers run …), if it did."""

    @main.result_callback()
    def _warn(*_: Any, **__: Any) -> None:
        svc: Services | None = click.get_current_context().find_root().ensure_object(dict).get("svc")
        if svc is not None and svc.calendar_store.warnings:
            # A year counted into earlier in a long-lived process may be covered by now.
            calendar = svc.calendar
            warn_provisional(w.year for w in svc.calendar_store.warnings if not calendar.covers(w.year))


def provisional_mark(item: Any) -> str:
    """The text mark of a provisional deadline (TaskView or CaseDeadline)."""
    years = ",".join(str(y) for y in item.uncovered_years)
    return f" (暂定 provisional: {years})" if years else ""


def local_day(moment: dt.datetime | None) -> str:
    """The agency's day `moment` falls on (settings.json `agency.timezone`), or "-"."""
    return moment.astimezone(services().settings.zone).date().isoformat() if moment else "-"


@click.group()
def calendar() -> None:
    """Working-day calendar: coverage per year and announced holiday schedules (放假安排)."""


@calendar.command("coverage")
@click.option("--from", "first", type=int, default=None, help="first year (default: last year)")
@click.option("--years", "count", type=int, default=4, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def coverage(first: int | None, count: int, as_json: bool) -> None:
    """Where each year's holidays and make-up days come from: official, schedule or none."""
    from engine.usecases.schedules import calendar_coverage

    rows = calendar_coverage(services(), now=current_clock()(), first=first, count=count)
    emit([r.to_json() for r in rows], as_json, lambda: [
        click.echo(f"{r.year}  {r.coverage:8}  {r.reference or '-'}{'  (needed)' if r.needed else ''}") for r in rows])


@calendar.command("schedule")
@click.argument("year", type=int)
@click.option("--reference", required=True, help="the notice's reference (文号), e.g. 国办发明电〔2026〕N号")
@click.option("--off", "days_off", required=True, help="days off: dates or ranges a..b, comma separated")
@click.option("--work", "workdays", default="", help="make-up working days (调休上班), comma separated")
@click.option("--incomplete", is_flag=True, help="store the days but do not mark the year covered")
@click.option("--user", "user_id", required=True, help="the administrator entering it")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def schedule(year: int, reference: str, days_off: str, workdays: str, incomplete: bool, user_id: str,
             as_json: bool) -> None:
    """Enter YEAR's announced holiday schedule in one go; deadlines into it are counted again."""
    from engine.errors import ValidationError
    from engine.usecases.schedules import enter_holiday_schedule, parse_days
    from engine.values import EnterHolidaySchedule

    try:
        off, work = parse_days(days_off), parse_days(workdays)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    command = EnterHolidaySchedule(year=year, days_off=tuple(off), workdays=tuple(work), reference=reference,
                                   complete=not incomplete, user_id=user_id)
    result = enter_holiday_schedule(command, svc=services(), clock=current_clock())
    payload = {"year": result.year, "reference": result.reference, "complete": result.complete,
               "days_off": [d.isoformat() for d in result.days_off],
               "workdays": [d.isoformat() for d in result.workdays],
               "moved": [{"case": m.case_number, "timer": m.timer, "before": m.before.isoformat(),
                          "after": m.after.isoformat()} for m in result.moved]}

    def text() -> None:
        state = "covered" if result.complete else "stored, not marked complete"
        click.echo(f"{year}: {len(result.days_off)} days off, {len(result.workdays)} make-up days ({state})")
        for m in result.moved:
            click.echo(f"  {m.case_number} {m.timer}: {local_day(m.before)} -> {local_day(m.after)}")

    emit(payload, as_json, text)
