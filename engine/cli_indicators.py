"""`casetrail indicators`: the figures agencies are assessed by, as the /indicators page shows them (issue 16).

`[--agency CODE] [--from DATE] [--to DATE] [--by agency|officer|month] [--format json|csv|xlsx] [--out FILE]
[--user U] [--now TIME]`: one call of engine/usecases/indicators.py `indicators`, written as JSON (the
default), CSV or XLSX to FILE or stdout. With --user the person's access is checked as on the page; without it
the server's operator reads any agency.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from engine.cli_support import current_clock, handle_errors, parse_now, services
from engine.errors import CasetrailError


def _day(value: str | None, option: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CasetrailError(f"日期格式错误 (bad date for {option}, want YYYY-MM-DD): {value}") from exc


@click.command("indicators")
@click.option("--agency", default=None, help="the agency (with its subtree); default: the user's or the home agency")
@click.option("--from", "start", default=None, help="first day, YYYY-MM-DD (default: 1 January)")
@click.option("--to", "end", default=None, help="last day, YYYY-MM-DD (default: today)")
@click.option("--by", type=click.Choice(["agency", "officer", "month"]), default="agency", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]), default="json", show_default=True)
@click.option("--out", default=None, help="write to FILE (xlsx needs it unless stdout is not a terminal)")
@click.option("--user", "user_id", default=None, help="read as this person (their access is checked)")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="CSV/XLSX headers")
@click.option("--now", default=None, help="the moment overdue steps are counted at (ISO time; default: now)")
@handle_errors
def indicators_command(agency: str | None, start: str | None, end: str | None, by: str, fmt: str, out: str | None,
                       user_id: str | None, lang: str, now: str | None) -> None:
    """考核指标: cases filed and closed, procedures, 罚没款, revocations, 人均办案数, complaint rates, 公示率."""
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


def _write(path: str, data: bytes) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise CasetrailError(f"无法写入文件 (cannot write) {path}: {exc.strerror}") from exc


def commands() -> list[click.Command]:
    return [indicators_command]
