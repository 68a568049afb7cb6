"""A small JSON API over the same use cases (session login; read-only, so CSRF never comes into it).

The same redaction and vote sealing apply as on the pages: everything goes through case_context.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, abort, jsonify

from engine.usecases.tasks import list_tasks, show_task
from web.case_context import case_context
from web.redaction import redact_identity
from web.security import CASE_ROLES, current_user, has_role, now, role_required, svc

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/me")
@role_required(*CASE_ROLES, "admin")
def me() -> Any:
    user = current_user()
    assert user is not None
    return jsonify(user.to_json())


@bp.get("/tasks")
@role_required(*CASE_ROLES)
def tasks() -> Any:
    user = current_user()
    assert user is not None
    return jsonify([replace(t, form_data=None).to_json() for t in list_tasks(svc(), user_id=user.id)])


@bp.get("/tasks/<task_id>")
@role_required(*CASE_ROLES)
def task(task_id: str) -> Any:
    user = current_user()
    assert user is not None
    view = show_task(svc(), task_id)
    if not (has_role(view.role) or has_role("head")):
        abort(403)
    ctx = case_context(svc(), view.case_id, user)
    data = None if ctx.sealing.hides(view.id) else redact_identity(view.form_data, user.roles)
    return jsonify(replace(view, form_data=data).to_json())


@bp.get("/cases/<ref>")
@role_required(*CASE_ROLES)
def case(ref: str) -> Any:
    user = current_user()
    assert user is not None
    ctx = case_context(svc(), ref, user, now=now())
    out = replace(ctx.case, events=ctx.events, data=ctx.intake).to_json(detail=True)
    out["open_tasks"] = [replace(t, form_data=None).to_json() for t in ctx.case.open_tasks]
    out["steps"] = [t.to_json() for t in ctx.history]
    out["deadlines"] = [d.to_json() for d in ctx.deadlines]
    out["documents"] = [d.to_json() | {"downloadable": ctx.may_download(d)} for d in ctx.documents]
    return jsonify(out)
