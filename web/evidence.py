"""Evidence files' bytes: the photo, recording, scan or document as stored, by its id, for who may see it
(engine `open_evidence`: the case's need-to-know; a staged file only to who handles the case). Never under
/public.

Served inline for the case page's thumbnails, player and PDF preview (the type was recognised from the content
when the file was added, so it is never HTML), as an attachment with `?download=1`; `nosniff` and a sandboxing
CSP keep a browser from treating it as anything else.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Sequence
from typing import Any

from flask import Blueprint, render_template_string, request, send_file

from engine import EvidenceFileView, drawn_file, evidence_file, list_evidence, open_evidence
from web.i18n import safe_next
from web.security import CASE_ROLES, current_user, role_required, svc

bp = Blueprint("evidence", __name__)

INLINE_FAMILIES = frozenset({"image", "audio", "video", "pdf"})


@bp.get("/evidence/<int:file_id>")
@role_required(*CASE_ROLES)
def content(file_id: int) -> Any:
    user = current_user()
    assert user is not None
    view, stream = open_evidence(svc(), file_id, user.id)
    attachment = request.args.get("download") == "1" or view.family not in INLINE_FAMILIES
    response = send_file(stream, mimetype=view.media_type, as_attachment=attachment, download_name=view.name,
                         etag=view.sha256, conditional=False, max_age=0)
    # Ranges (a video player seeks; a dropped download resumes): werkzeug knows no length for a stream, so the
    # recorded size is given here; every store's blob is seekable (the S3 store asks the object store for the
    # bytes from the offset), so nothing before the range is read.
    response = response.make_conditional(request, accept_ranges=True, complete_length=view.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Nothing in the file runs with the app's origin; a PDF is left to the browser's own viewer (which a
    # sandboxed response would not open), and may be framed by the case page's preview.
    sandbox = "" if view.family == "pdf" else "sandbox; "
    response.headers["Content-Security-Policy"] = f"{sandbox}default-src 'none'; frame-ancestors 'self'"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "private, no-cache"
    # RFC 9530: the digest of the whole file, the one its signed record states (in hex there).
    response.headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(view.sha256)).decode()}:"
    return response


@bp.get("/evidence/drawn/<sha256>")
@role_required(*CASE_ROLES)
def drawn(sha256: str) -> Any:
    """The party's signature a signed form records by its digest (engine/usecases/drawn_images.py): the file, as
    `content` serves it, for who may see a case whose record took it."""
    user = current_user()
    assert user is not None
    return content(drawn_file(svc(), sha256, user.id).id)


ITEM = """{% from "evidence/_files.html" import evidence_item %}{{ evidence_item(f, me, back, in_form) }}"""


@bp.get("/evidence/<int:file_id>/item")
@role_required(*CASE_ROLES)
def item(file_id: int) -> Any:
    """One file as the page's list draws it (its preview, who added it when; a remove button back to `back` if
    the viewer staged it; `in_form=1`: the registration form's own button): the upload widget adds it to the list
    once the file is staged."""
    user = current_user()
    assert user is not None
    view = evidence_file(svc(), file_id, user.id)
    return render_template_string(ITEM, f=view, me=user.id, back=safe_next(request.args.get("back")),
                                  in_form=request.args.get("in_form") == "1")


FILE_KEYWORD = "x-evidence-file"  # a form field holding the id of one of the case's evidence files


def with_case_files(schema: dict[str, Any] | None, files: Sequence[EvidenceFileView]) -> dict[str, Any] | None:
    """The form's schema as drawn for one case: each field that names an evidence file (e.g. a 证据登记 item's
    file) becomes a choice among the case's files — picked, not retyped. The engine validates against the
    model's own schema, which checks the file belongs to the case."""
    if schema is None or not files or FILE_KEYWORD not in str(schema):
        return schema
    drawn = copy.deepcopy(schema)
    _offer(drawn, files)
    return drawn


def form_for_case(schema: dict[str, Any] | None, case_id: int, user_id: str) -> dict[str, Any] | None:
    """`with_case_files` with the case's files as `user_id` may see them (read only when the form names one)."""
    if schema is None or FILE_KEYWORD not in str(schema):
        return schema
    return with_case_files(schema, list_evidence(svc(), case_id, user_id))


def _offer(node: Any, files: Sequence[EvidenceFileView]) -> None:
    if isinstance(node, dict):
        if node.get(FILE_KEYWORD) is True:
            node["enum"] = [f.id for f in files]
            node["x-enum-titles"] = [f"#{f.id} {f.name}（{f.media_type}，{f.added_by}）" for f in files]
            node["x-enum-titles-en"] = [f"#{f.id} {f.name} ({f.media_type}, {f.added_by})" for f in files]
            node["x-data-options"] = True  # a file's name is shown as it is, on a page in either language
            return
        for value in node.values():
            _offer(value, files)
    elif isinstance(node, list):
        for value in node:
            _offer(value, files)
