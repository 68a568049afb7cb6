"""What every `casetrail` command shares: the services and clock of the invocation, the error contract
(exit 2 with one line on stderr) and the output (`--json` prints JSON only).

The command modules (engine/cli_commands.py, cli_calendar.py, cli_audit.py) import this module; engine/cli.py
assembles them into the `casetrail` group. Nothing here imports a command module.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from engine.db.session import data_dir as data_dir  # for `casetrail receiver` (web/cli.py)
from engine.errors import CasetrailError
from engine.services import Services
from engine.startup import build_services
from engine.values import fixed_clock, system_clock

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: object) -> None:
    """Exit 2 with one line on stderr (the contract of every command)."""
    click.echo(" ".join(f"error: {message}".split()), err=True)
    sys.exit(2)


def handle_errors(func: F) -> F:
    """Exit 2 with one line for what the user or the operator can fix: an engine error, a database that cannot
    be reached or written (cause named, password masked), a file that cannot be read or written."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CasetrailError as exc:
            fail(exc)
        except OSError as exc:
            fail(f"无法读写文件 (cannot read or write {exc.filename or ''}: {exc.strerror or exc})")
        except Exception as exc:
            from engine.db.faults import database_error
            from engine.db.session import database_url

            error = database_error(exc, database_url())
            if error is None:
                raise  # a bug, not a fault of the database: its traceback is what a developer needs
            fail(error)

    return wrapper  # type: ignore[return-value]


def services(*, replica_url: str | None = None) -> Services:
    """The command's services, built once (`replica_url`: for `casetrail serve`, engine.startup.build_services)."""
    ctx = click.get_current_context()
    obj = ctx.find_root().ensure_object(dict)
    if "svc" not in obj:
        obj["svc"] = build_services(replica_url=replica_url)
    return obj["svc"]


def current_clock() -> Callable[[], dt.datetime]:
    """The clock commands run on: the system clock, unless the caller put another in the context object
    (tests and scripts that replay a case at a given time)."""
    obj = click.get_current_context().find_root().ensure_object(dict)
    return obj.get("clock", system_clock)


def read_json_file(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        return json.loads(text)
    except OSError as exc:
        raise CasetrailError(f"无法读取文件 (cannot read) {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise CasetrailError(f"JSON 格式错误 (malformed JSON) in {path}: line {exc.lineno}: {exc.msg}") from exc


def parse_now(value: str | None) -> Callable[[], dt.datetime]:
    if not value:
        return system_clock
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise CasetrailError(f"时间格式错误 (bad ISO time): {value}") from exc
    if moment.tzinfo is None:  # a time typed without a zone is the agency's local time
        moment = moment.replace(tzinfo=services().settings.zone)
    return fixed_clock(moment.astimezone(dt.UTC))


def emit(payload: Any, as_json: bool, text: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        text()
