"""`casetrail indicators`: the figures agencies are assessed by, as the /indicators page shows them (issue 16).

`[--agency CODE] [--from DATE] [--to DATE] [--by agency|officer|month] [--format json|csv|xlsx] [--out FILE]
[--user U] [--now TIME]`: one call of engine/usecases/indicators.py `indicators`, written as JSON (the
default), CSV or XLSX to FILE or stdout. With --user the person's access is checked as on the page; without it
the server's operator reads any agency.

`casetrail indicators rebuild [--agency CODE] [--from DATE] [--to DATE] [--now TIME]`: what each round of
`casetrail worker` does to the indicators' rollup (engine/usecases/indicator_rollup.py) — build the days missing,
rebuild those marked changed — and, with a range or an agency, rebuild that range whole.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from engine.cli_support import current_clock, emit, handle_errors, parse_now, services
from engine.errors import CasetrailError
from engine.values import RebuildIndicators


def _day(value: str | None, option: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CasetrailError(f"日期格式错误 (bad date for {option}, want YYYY-MM-DD): {value}") from exc


@click.group("indicators", invoke_without_command=True)
@click.option("--agency", default=None, help="the agency (with its subtree); default: the user's or the home agency")
@click.option("--from", "start", default=None, help="first day, YYYY-MM-DD (default: 1 January)")
@click.option("--to", "end", default=None, help="last day, YYYY-MM-DD (default: today)")
@click.option("--by", type=click.Choice(["agency", "officer", "month"]), default="agency", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]), default="json", show_default=True)
@click.option("--out", default=None, help="write to FILE (xlsx needs it unless stdout is not a terminal)")
@click.option("--user", "user_id", default=None, help="read as this person (their access is checked)")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="CSV/XLSX headers")
@click.option("--now", default=None, help="the moment overdue steps are counted at (ISO time; default: now)")
@click.pass_context
@handle_errors
def indicators_command(ctx: click.Context, agency: str | None, start: str | None, end: str | None, by: str, fmt: str,
                       out: str | None, user_id: str | None, lang: str, now: str | None) -> None:
    """考核指标: cases filed and closed, procedures, 罚没款, revocations, 人均办案数, complaint rates, 公示率."""
    if ctx.invoked_subcommand is not None:
        return
    from engine.usecases.indicator_export import indicators_csv, indicators_json, indicators_xlsx
    from engine.usecases.indicators import IndicatorQuery, indicators

    svc = services()
    moment = (parse_now(now) if now else current_clock())()
    report = indicators(IndicatorQuery(user_id=user_id, agency=agency, start=_day(start, "--from"),
                                       end=_day(end, "--to"), by=by), svc=svc, now=moment)
    if fmt == "xlsx":
        data = indicators_xlsx(report, lang)
        if out is None and sys.stdout.isatty():
            raise CasetrailError("XLSX 须写入文件 (xlsx is binary: give --out FILE)")
        if out is None:
            sys.stdout.buffer.write(data)
        else:
            _write(out, data)
        return
    text = (indicators_csv(report, lang) if fmt == "csv"
            else json.dumps(indicators_json(report), ensure_ascii=False, indent=2) + "\n")
    if out is None:
        click.echo(text, nl=False)
    else:
        _write(out, text.encode("utf-8"))


@indicators_command.command("rebuild")
@click.option("--agency", default=None, help="rebuild this agency's (with its subtree) days whole")
@click.option("--from", "start", default=None, help="rebuild from this day, YYYY-MM-DD (default: the first there is)")
@click.option("--to", "end", default=None, help="rebuild up to this day, YYYY-MM-DD (default: yesterday)")
@click.option("--now", default=None, help="the moment whose day is today (ISO time; default: now)")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def indicators_rebuild(agency: str | None, start: str | None, end: str | None, now: str | None,
                       as_json: bool) -> None:
    """汇总指标 (the indicators' rollup): build missing and changed days; with a range or agency, rebuild it."""
    from engine.usecases.indicator_rollup import rebuild_indicators

    cmd = RebuildIndicators(agency=agency, start=_day(start, "--from"), end=_day(end, "--to"))
    built = rebuild_indicators(cmd, svc=services(), clock=parse_now(now) if now else current_clock())
    emit({"built_through": built.built_through.isoformat(), "ranges": [list(r) for r in built.ranges],
          "days": built.days, "marks": built.marks, "busy": built.busy}, as_json,
         lambda: click.echo("另一进程正在汇总，本次未执行 (another process is building the rollup: nothing done)")
         if built.busy else click.echo(f"指标汇总至 {built.built_through} 前 (rollup built up to {built.built_through}): "
                            f"{len(built.ranges)} 段重建 (ranges rebuilt), {built.days} 个变更机构日 "
                            f"(changed agency-days)"))


def _write(path: str, data: bytes) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise CasetrailError(f"无法写入文件 (cannot write) {path}: {exc.strerror}") from exc


def commands() -> list[click.Command]:
    return [indicators_command]
