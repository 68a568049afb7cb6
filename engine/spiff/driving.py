"""Driving cases through the real model: realistic form data from the schemas and scenario tables.

Used by the unit tests, the demo seeding and the CLI tests. The scenario tables (`SCENARIOS`, one per
outcome a case may end in) are in engine/spiff/scenarios.py, written as the steps a person would take;
`run_scenario` there plays one in memory (no database); engine/demo.py plays the same steps through the
use cases (`complete_task`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from documents.samples import drawn_signature
from engine.rules.deadlines import due_at
from engine.rules.settings import Settings
from engine.rules.workdays import WorkingCalendar

BEIJING = dt.timezone(dt.timedelta(hours=8))
ROLE_USERS = {"intake": "clerk", "officer": "officer1", "legal": "legal", "head": "head", "publisher": "publisher",
              "panel": "panel1"}
SHA_EXAMPLE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@dataclass(frozen=True)
class Context:
    """What a computed override may look at: the clock, the case data, the law settings."""

    now: dt.datetime
    data: Mapping[str, Any]
    settings: Settings
    calendar: WorkingCalendar

    def due(self, limit_id: str, start: dt.datetime | None = None) -> dt.datetime:
        return due_at(limit_id, start or self.now, self.settings, self.calendar)


Override = Any  # a value, or Callable[[Context], value]


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


def _sample(schema: Mapping[str, Any], now: dt.datetime, index: int = 0) -> Any:
    kind = schema.get("type")
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    choices = schema.get("oneOf")
    if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        return _sample({**{k: v for k, v in schema.items() if k != "oneOf"}, **choices[0]}, now, index)
    if kind in (None, "string") and schema.get("contentMediaType") == "image/png":
        return drawn_signature()  # a signature drawn on the screen
    if kind == "string":
        if schema.get("format") == "date-time":
            return _iso(now)
        if schema.get("format") == "uri":
            return "https://www.example.gov.cn/xzcf/2026/0001.html"
        pattern = schema.get("pattern", "")
        if "0-9a-f" in pattern:
            return SHA_EXAMPLE
        if "A-Za-z0-9" in pattern:
            return f"user{index + 1}"
        text = f"示例{schema.get('title', '内容')}{index + 1 if index else ''}"
        return text[: schema.get("maxLength", 200)]
    if kind == "boolean":
        return False
    if kind in ("number", "integer"):
        return schema.get("minimum", 0)
    if kind == "array":
        return [_sample(schema.get("items", {}), now, i) for i in range(schema.get("minItems", 0))]
    if kind == "object":
        return sample_form_data(schema, now=now)
    return None


def _required(schema: Mapping[str, Any], data: Mapping[str, Any]) -> list[str]:
    required = list(schema.get("required", ()))
    conditionals = list(schema.get("allOf", ()))
    if "if" in schema:
        conditionals.append({"if": schema["if"], "then": schema.get("then", {})})
    for cond in conditionals:
        props = cond.get("if", {}).get("properties", {})
        if all(k in data and data[k] == v.get("const") for k, v in props.items()):
            required.extend(cond.get("then", {}).get("required", ()))
    return required


def sample_form_data(schema: Mapping[str, Any] | None, overrides: Mapping[str, Any] | None = None, *,
                     now: dt.datetime | None = None) -> dict[str, Any]:
    """Form data that validates against `schema`: required fields sampled, then `overrides` applied."""
    if schema is None:
        return dict(overrides or {})
    now = now or dt.datetime.now(dt.UTC)
    props = schema.get("properties", {})
    data: dict[str, Any] = dict(overrides or {})
    for _ in range(3):  # conditional requirements depend on the values chosen
        for name in _required(schema, data):
            if name not in data and name in props:
                data[name] = _sample(props[name], now)
    for later, earlier in (schema.get("x-later-than") or {}).items():  # e.g. an inspection's end after its start
        if later in data and later not in (overrides or {}) and isinstance(data.get(earlier), str):
            if earlier not in (overrides or {}):
                data[earlier] = _iso(now - dt.timedelta(hours=1))
            data[later] = _iso(dt.datetime.fromisoformat(data[earlier]) + dt.timedelta(minutes=45))
    return data


@dataclass(frozen=True)
class Step:
    """One thing a person (or the passing of time) does to a case.

    `spec_id` is the user task to complete; the special id "@timer" moves the clock to the next timer due
    (or to `until` when given) and fires what is due.
    """

    spec_id: str
    overrides: Mapping[str, Override] = field(default_factory=dict)
    actor: str | None = None
    until: Callable[[Context], dt.datetime] | None = None


TIMER = "@timer"


@dataclass(frozen=True)
class Scenario:
    name: str
    outcome: str
    steps: tuple[Step, ...]
    intake: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def intake_data(self, *, now: dt.datetime) -> dict[str, Any]:
        """The case's opening data: `intake_data` with the scenario's changes; an anonymous complainant keeps
        no name, phone or address of the default one."""
        changes = dict(self.intake)
        if "complainant" in changes and changes["complainant"].get("anonymous"):
            changes["complainant"] = {"anonymous": True}
        return intake_data(changes, now=now)


def resolve(overrides: Mapping[str, Override], ctx: Context) -> dict[str, Any]:
    return {k: (v(ctx) if callable(v) else v) for k, v in overrides.items()}


def default_actor(role: str, assignee_hint: str | None) -> str:
    return assignee_hint or ROLE_USERS.get(role, role)


def intake_data(overrides: Mapping[str, Any] | None = None, *, now: dt.datetime) -> dict[str, Any]:
    """A realistic 投诉举报登记: a named complainant reporting an unlicensed beauty salon (公共场所)."""
    data: dict[str, Any] = {
        "channel": "hotline_12345",
        "received_at": _iso(now),
        "complainant": {"anonymous": False, "name": "张三", "phone": "13800000000", "address": "呈州市和平路1号"},
        "respondent": {"name": "呈州市丽人美容店", "kind": "organisation", "credit_code": "92330100MA2CT8QJ0J",
                       "address": "呈州市和平路8号"},
        "violation_type": "public_place_unlicensed",
        "content": "该美容店未取得公共场所卫生许可证即开业经营约两个月。",
    }
    data.update(overrides or {})
    return data



__all__ = ["TIMER", "Context", "Scenario", "Step", "default_actor", "drawn_signature", "intake_data", "resolve",
           "sample_form_data"]
