"""Labels for codes stored on a case (violation type, channel): the titles the intake form gives them."""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from markupsafe import Markup

from engine import CasetrailError, english_step_names, intake_form_schema, user_names
from web.casedata import case_data
from web.schema_form import enum_options
from web.security import svc


def intake_schema() -> dict[str, Any]:
    """The current model's intake form schema, read once per request (labels and the intake fields share it)."""
    schema = g.get("_intake_schema")
    if schema is None:
        schema = intake_form_schema(svc())
        g._intake_schema = schema
    return schema


def _titles() -> dict[str, dict[str, str]]:
    cached = g.get("_intake_titles")
    if cached is None:
        try:
            schema = intake_schema()
        except CasetrailError:  # no model loaded yet: codes are shown as they are
            schema = {}
        props = schema.get("properties") or {}
        cached = {key: {str(v): t for v, t in enum_options(sub)} for key, sub in props.items() if isinstance(sub, dict)}
        g._intake_titles = cached
    return cached


def violation_titles() -> dict[str, str]:
    """Each violation type's title by code, in the page's language (empty before a model is loaded)."""
    return _titles().get("violation_type", {})


def violation_label(code: str | None) -> str:
    if not code:
        return "—"
    return violation_titles().get(code, code)


def channel_label(code: str | None) -> str:
    if not code:
        return "—"
    return _titles().get("channel", {}).get(code, code)


def step_names_en() -> dict[str, str]:
    """The English names of the model's steps by id, from the model (`nameEn`), read once per request (empty before
    a model is loaded: the Chinese names are shown)."""
    names = g.get("_step_names_en")
    if names is None:
        try:
            names = english_step_names(svc())
        except CasetrailError:
            names = {}
        g._step_names_en = names
    return names


def person(user_id: str | None) -> str | Markup:
    """A colleague's name for display (the user id when unknown): who did what, in people's names — a name is
    data, shown as written in either language."""
    if not user_id:
        return "—"
    names = g.get("_user_names")
    if names is None:
        names = user_names(svc())
        g._user_names = names
    return case_data(names.get(user_id, user_id))


def init_labels(app: Flask) -> None:
    app.jinja_env.globals.update(violation_label=violation_label, channel_label=channel_label, person=person)
