"""Drafts of a form (issue 15): the JSON API the task page's autosave uses (web/static/drafts.js), and what the
pages need to save a draft without JavaScript and to restore one.

A draft is the form's raw fields as the browser posts them (name -> values): restored through the same parsing as
a posted form (web/schema_form.py `parse_form`), a half-filled or invalid form comes back exactly as typed. The
engine keeps it for its author alone (engine/usecases/drafts.py); the PIN is never sent to be kept.

    GET    /api/tasks/<id>/draft        the user's draft of the task (404: none)
    PUT    /api/tasks/<id>/draft        {"fields": {name: [values]}} -> the saved draft (X-CSRFToken header)
    DELETE /api/tasks/<id>/draft        discard it
    PUT    /api/intake-drafts/<key>     the registration page's draft (投诉举报登记), by its material key
    DELETE /api/intake-drafts/<key>
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from werkzeug.datastructures import MultiDict

from engine import (
    DiscardDraft,
    DraftView,
    NotFound,
    SaveDraft,
    ValidationError,
    discard_draft,
    load_draft,
    save_draft,
)
from web.i18n import local_time, translate
from web.schema_form import Field, parse_form
from web.security import CASE_ROLES, current_user, now, role_required, svc

bp = Blueprint("drafts", __name__, url_prefix="/api")

# Posted names that are not the form's: the signing PIN (never kept: the engine drops it too), the CSRF token,
# the registration page's material key (the draft is filed under it) and its file-removal buttons.
NOT_FORM_FIELDS = frozenset({"pin", "csrf_token", "evidence_key", "discard"})


def posted_fields(form: MultiDict[str, str]) -> dict[str, list[str]]:
    """The form's raw fields as posted (a page's "save draft" button), without `NOT_FORM_FIELDS`."""
    return {name: form.getlist(name) for name in form if name not in NOT_FORM_FIELDS}


def draft_values(fields: tuple[Field, ...], draft: DraftView) -> dict[str, Any]:
    """The draft's raw fields read as the form reads a post: the values to fill the form with."""
    return parse_form(fields, MultiDict([(k, v) for k, values in draft.fields.items() for v in values])).data


def saved_at(moment: dt.datetime) -> str:
    """When a draft was saved, as the page says it: the agency's local time of day (today) or date and time."""
    local = local_time(moment)
    return local[-5:] if local[:10] == local_time(now())[:10] else local


def draft_json(draft: DraftView) -> dict[str, Any]:
    return draft.to_json() | {"saved_at_local": saved_at(draft.updated_at),
                              "status": translate("draft.saved_at", time=saved_at(draft.updated_at))}


def _clock() -> Any:
    return current_app.extensions["casetrail.clock"]


def _fields_from_json() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "fields" not in body:
        raise ValidationError("请求须为 JSON：{\"fields\": {字段名: [取值]}} (the body must be JSON: "
                              "{\"fields\": {name: [values]}})")
    fields = body["fields"]
    return {k: v for k, v in fields.items() if k not in NOT_FORM_FIELDS} if isinstance(fields, dict) else fields


@bp.get("/tasks/<task_id>/draft")
@role_required(*CASE_ROLES)
def task_draft(task_id: str) -> Any:
    user = current_user()
    assert user is not None
    draft = load_draft(svc(), user_id=user.id, task_id=task_id, now=now())
    if draft is None:
        raise NotFound("没有草稿 (no draft)")
    return jsonify(draft_json(draft))


@bp.put("/tasks/<task_id>/draft")
@role_required(*CASE_ROLES)
def put_task_draft(task_id: str) -> Any:
    user = current_user()
    assert user is not None
    draft = save_draft(SaveDraft(user_id=user.id, task_id=task_id, fields=_fields_from_json()), svc=svc(),
                       clock=_clock())
    return jsonify(draft_json(draft))


@bp.delete("/tasks/<task_id>/draft")
@role_required(*CASE_ROLES)
def delete_task_draft(task_id: str) -> Any:
    user = current_user()
    assert user is not None
    gone = discard_draft(DiscardDraft(user_id=user.id, task_id=task_id), svc=svc(), clock=_clock())
    return jsonify({"discarded": gone})


@bp.put("/intake-drafts/<key>")
@role_required("intake")
def put_intake_draft(key: str) -> Any:
    user = current_user()
    assert user is not None
    draft = save_draft(SaveDraft(user_id=user.id, intake_key=key, fields=_fields_from_json()), svc=svc(),
                       clock=_clock())
    return jsonify(draft_json(draft))


@bp.delete("/intake-drafts/<key>")
@role_required("intake")
def delete_intake_draft(key: str) -> Any:
    user = current_user()
    assert user is not None
    gone = discard_draft(DiscardDraft(user_id=user.id, intake_key=key), svc=svc(), clock=_clock())
    return jsonify({"discarded": gone})
