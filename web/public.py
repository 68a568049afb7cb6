"""/public — published penalty decisions (双公示), no login. Every value passes `redact_public` first.

政府信息公开条例 第十五条 and local 双公示 rules: ID numbers, phone numbers, addresses, bank accounts of
natural persons and the complainant never appear here; minors' cases are never listed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, abort, render_template, request

from web.engine_gaps import Publication, intake_form_schema, list_publications
from web.redaction import redact_public
from web.schema_form import enum_options
from web.security import svc

bp = Blueprint("public", __name__, url_prefix="/public")


def _public(p: Publication) -> Publication:
    """The one gate to /public: every string field is redacted, whatever typed it."""
    return Publication(**redact_public(dataclasses.asdict(p)))


def _violation_titles() -> dict[str, str]:
    try:
        schema = intake_form_schema(svc()) or {}
    except Exception:  # no process model loaded yet: show the codes
        return {}
    prop = (schema.get("properties") or {}).get("violation_type") or {}
    return {str(v): t for v, t in enum_options(prop)}


def _matches(p: Publication, q: str, violation: str, date_from: str, date_to: str) -> bool:
    if q and q.lower() not in (p.party + p.decision_number + p.summary).lower():
        return False
    if violation and p.violation != violation:
        return False
    day = p.decision_date[:10]
    if date_from and day < date_from:
        return False
    return not (date_to and day > date_to)


@bp.get("")
def index() -> Any:
    q = request.args.get("q", "").strip()[:100]
    violation = request.args.get("violation", "")
    date_from = request.args.get("from", "")[:10]
    date_to = request.args.get("to", "")[:10]
    items = [_public(p) for p in list_publications(svc())]
    shown = [p for p in items if _matches(p, q, violation, date_from, date_to)]
    return render_template("public/index.html", items=shown, q=q, violation=violation, date_from=date_from,
                           date_to=date_to, titles=_violation_titles())


@bp.get("/<int:case_id>")
def detail(case_id: int) -> Any:
    found = next((p for p in list_publications(svc()) if p.case_id == case_id), None)
    if found is None:
        abort(404)
    return render_template("public/detail.html", p=_public(found), titles=_violation_titles())
