"""zh-CN first, English available: a small message catalogue (web/messages.py) and a switch on every page.

The language is kept in the session; `?lang=en` or the switch link changes it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Flask, Response, g, redirect, request, session

from engine.roles import all_roles
from web.messages import MESSAGES, STAGES, STATUSES
from web.schema_form import display_value

LANGUAGES = ("zh", "en")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def lang() -> str:
    return g.get("lang", "zh")


def translate(key: str, **params: Any) -> str:
    """The message `key` in the current language; unknown keys show as themselves (visible, not hidden)."""
    entry = MESSAGES.get(key)
    text = key if entry is None else entry[0 if lang() == "zh" else 1]
    return text.format(**params) if params else text


def _pick(table: dict[str, tuple[str, str]], key: str | None) -> str:
    if not key:
        return ""
    entry = table.get(key)
    if entry is None:
        return key
    return entry[0 if lang() == "zh" else 1]


def role_label(role: str) -> str:
    try:
        labels = all_roles().get(role)
    except OSError:  # roles file not there yet: show the id
        labels = None
    if not labels:
        return role
    return labels.get("zh" if lang() == "zh" else "en") or role


def stage_label(stage: str | None) -> str:
    return _pick(STAGES, stage)


def status_label(status: str | None) -> str:
    return _pick(STATUSES, status)


def local_time(moment: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Times are stored in UTC and shown in the agency's time (Asia/Shanghai)."""
    if moment is None:
        return "—"
    return moment.astimezone(SHANGHAI).strftime(fmt)


def local_date(moment: dt.datetime | None) -> str:
    return local_time(moment, "%Y-%m-%d")


def display(f: Any, value: Any) -> str:
    """A stored form value for reading, with 是/否 in the current language."""
    if f is not None and f.kind == "boolean" and isinstance(value, bool):
        return translate("yes") if value else translate("no")
    return display_value(f, value) if f is not None else ("—" if value in (None, "") else str(value))


def datetime_input(value: Any) -> str:
    """An ISO date-time as the value of an <input type=datetime-local>, in Beijing time."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value  # what the user typed, shown back as typed
    if moment.tzinfo is not None:
        moment = moment.astimezone(SHANGHAI)
    return moment.strftime("%Y-%m-%dT%H:%M")


def _select_language() -> None:
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["lang"] = wanted
    g.lang = session.get("lang", "zh") if session.get("lang") in LANGUAGES else "zh"


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never redirect to another host."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def switch_language(code: str) -> Response:
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")))  # type: ignore[return-value]


def init_i18n(app: Flask) -> None:
    app.before_request(_select_language)
    app.add_url_rule("/lang/<code>", "switch_language", switch_language)
    app.jinja_env.globals.update(
        _=translate, role_label=role_label, stage_label=stage_label, status_label=status_label,
        local_time=local_time, local_date=local_date, lang=lang,
    )
    app.jinja_env.globals["display_value"] = display
    app.jinja_env.filters["dt_input"] = datetime_input
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_date"] = local_date


safe_next = _safe_next
