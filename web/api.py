"""A small JSON API over the same use cases (session login; read-only, so CSRF never comes into it — the
one writer under /api, a form's draft, is web/drafts.py and takes the CSRF header).

A case or a task comes as the engine's read for the logged-in user gives it (engine/usecases/viewer.py):
redacted and sealed as on the pages, with what the user may do.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, jsonify, request, url_for

from engine import (
    CASE_STATUSES,
    EvidenceFileView,
    case_for_viewer,
    cases_page,
    evidence_file,
    list_evidence,
    list_tasks,
    task_for_viewer,
)
from web.cases import cases_per_page, page_arg
from web.security import CASE_ROLES, current_user, now, role_required, svc

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
    return jsonify(task_for_viewer(svc(), task_id, user.id, at=now()).to_json())


@bp.get("/cases")
@role_required(*CASE_ROLES)
def cases() -> Any:
    """The cases the user may see (as /cases lists them), most recently changed first, one page."""
    user = current_user()
    assert user is not None
    status = request.args.get("status", "")
    listed = cases_page(svc(), viewer_id=user.id, query=request.args.get("q", "").strip()[:100],
                        stage=request.args.get("stage", "")[:32], status=status if status in CASE_STATUSES else "",
                        page=page_arg(), per_page=cases_per_page())
    return jsonify({"total": listed.total, "page": listed.page, "pages": listed.pages,
                    "cases": [c.to_json() for c in listed.items]})


@bp.get("/cases/<ref>")
@role_required(*CASE_ROLES)
def case(ref: str) -> Any:
    user = current_user()
    assert user is not None
    return jsonify(case_for_viewer(svc(), ref, user.id, now=now()).to_json())


@bp.get("/cases/<ref>/evidence")
@role_required(*CASE_ROLES)
def case_evidence(ref: str) -> Any:
    """The case's evidence files the user may see: those in signed records, and the staged ones to who handles
    the case. Each with the URL of its bytes."""
    user = current_user()
    assert user is not None
    return jsonify([_evidence_json(v) for v in list_evidence(svc(), ref, user.id)])


@bp.get("/evidence/<int:file_id>")
@role_required(*CASE_ROLES)
def evidence(file_id: int) -> Any:
    user = current_user()
    assert user is not None
    return jsonify(_evidence_json(evidence_file(svc(), file_id, user.id)))


def _evidence_json(view: EvidenceFileView) -> dict[str, Any]:
    return view.to_json() | {"content_url": url_for("evidence.content", file_id=view.id)}
