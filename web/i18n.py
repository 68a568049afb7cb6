"""zh-CN first, English available: a small message catalogue (web/messages.py) and a switch on every page.

The language is kept in the session; `?lang=en` or the switch link changes it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, g, redirect, request, session
from markupsafe import Markup, escape

from engine import CASE_STATUSES, REDACTED, CaseEventKind, CaseStatus, LegalGateRefused, TaskStatus, all_roles
from web.casedata import case_data
from web.labels import step_names_en
from web.messages import MESSAGES, STAGES, STATUSES
from web.schema_form import display_value, error_places
from web.security import svc
from web.zone import local_now, local_zone

LANGUAGES = ("zh", "en")
# "中文 (English)" and "中文 (English): detail", the way engine/errors.py words its messages
BILINGUAL = re.compile(r"(?P<zh>[^()]*[\u4e00-\u9fff][^()]*?) \((?P<en>[^()]+)\)(?P<rest>(:.*)?)", re.S)
# Form kinds whose stored value is shown as one of the schema's labels (translated), not as what was typed.
LABELLED_KINDS = frozenset({"enum", "multienum", "boolean", "png"})


def lang() -> str:
    return g.get("lang", "zh")


def translate(key: str, **params: Any) -> str:
    """The message `key` in the current language; unknown keys show as themselves (visible, not hidden).

    A parameter that is markup (a name marked by `case_data`) keeps its markup: the message is escaped and
    formatted as markup then, every other parameter escaped."""
    entry = MESSAGES.get(key)
    text = key if entry is None else entry[0 if lang() == "zh" else 1]
    if any(isinstance(v, Markup) for v in params.values()):
        return Markup(escape(text)).format(**params)
    return text.format(**params) if params else text


def doc_title(document: Any) -> str:
    """A 文书's title in the page's language (the document itself is Chinese)."""
    return (lang() == "en" and getattr(document, "title_en", "")) or document.title


def _limit(limit_id: str | None) -> Any:
    return svc().settings.time_limits.get(limit_id) if limit_id else None


def deadline_label(deadline: Any, tasks: Any = ()) -> str:
    """A statutory clock's name (its time limit's `name`/`name_en`), or the step it times by the step's name."""
    if deadline.task_id:
        spec_id = next((t.spec_id for t in tasks if t.id == deadline.task_id), None)
        return task_label(spec_id, deadline.label)
    limit = _limit(deadline.limit_id)
    if limit is not None and lang() == "en" and limit.name_en:
        return limit.name_en
    return deadline.label


def basis_text(item: Any) -> str:
    """The legal basis of a time limit, a threshold or a clock (by its `limit_id`) in the page's language."""
    limit = _limit(item.limit_id) if hasattr(item, "limit_id") else item
    if lang() == "en" and limit is not None and getattr(limit, "basis_en", ""):
        return limit.basis_en
    return item.basis


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


def task_label(spec_id: str | None, name: str | None) -> str:
    """A step's name in the page's language: the model's Chinese name, or its English one (`nameEn`) by spec id."""
    if lang() == "en" and spec_id:
        return step_names_en().get(spec_id) or name or spec_id
    return name or spec_id or ""


def field_error(message: str) -> str:
    """An engine message in the page's language: the half of "中文 (English)" (a form field's error, a refusal);
    any other text as it is."""
    bilingual = BILINGUAL.fullmatch(message)
    if bilingual:
        return bilingual["zh" if lang() == "zh" else "en"] + bilingual["rest"]
    return message


def gate_refusal(exc: LegalGateRefused) -> tuple[str, str]:
    """(reason, article) of a refused legal gate in the page's language: the Chinese when the model gives no
    English."""
    if lang() == "en" and exc.reason_en and exc.article_en:
        return exc.reason_en, exc.article_en
    return exc.reason, exc.article


def form_now() -> str:
    """Now in the agency's local time, as the value of an <input type=datetime-local>."""
    return local_now().strftime("%Y-%m-%dT%H:%M")


def stage_label(stage: str | None) -> str:
    return _pick(STAGES, stage)


def status_label(status: str | None) -> str:
    return _pick(STATUSES, status)


def local_time(moment: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Times are stored in UTC and shown in the agency's local time (settings.json `agency.timezone`)."""
    if moment is None:
        return "—"
    return moment.astimezone(local_zone()).strftime(fmt)


def local_date(moment: dt.datetime | None) -> str:
    return local_time(moment, "%Y-%m-%d")


def display(f: Any, value: Any) -> str:
    """A stored form value for reading, with 是/否 in the current language; what was typed is marked as data."""
    if value == REDACTED:
        return translate("data.redacted")
    if f is not None and f.kind == "boolean" and isinstance(value, bool):
        return translate("yes") if value else translate("no")
    if value is None or value == "":
        return "—"
    if f is not None and f.kind in LABELLED_KINDS and not f.data_options:
        return display_value(f, value)
    return case_data(display_value(f, value) if f is not None else value)


def datetime_input(value: Any) -> str:
    """An ISO date-time as the value of an <input type=datetime-local>, in the agency's local time."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value  # what the user typed, shown back as typed
    if moment.tzinfo is not None:
        moment = moment.astimezone(local_zone())
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
        local_time=local_time, local_date=local_date, lang=lang, task_label=task_label, field_error=field_error,
        form_now=form_now, error_places=error_places, doc_title=doc_title, deadline_label=deadline_label,
        basis_text=basis_text,
    )
    app.jinja_env.globals["display_value"] = display
    app.jinja_env.filters["case_data"] = case_data
    # The engine's state words, so that a template compares `task.status == TaskStatus.READY`, never a bare string.
    app.jinja_env.globals.update(TaskStatus=TaskStatus, CaseStatus=CaseStatus, CaseEventKind=CaseEventKind,
                                 CASE_STATUSES=CASE_STATUSES)
    app.jinja_env.filters["dt_input"] = datetime_input
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_date"] = local_date


safe_next = _safe_next
