"""Evidence files into a case: resumable uploads (the tus 1.0 protocol: core, creation, termination, expiration)
for the page's JavaScript, and a plain multipart POST of whole files for pages without it and the JSON API.

Either way a finished file is handed to the engine's `stage_evidence`, which checks who may add evidence to the
case, recognises the type from the content, checks the limits and stores the blob; this module only moves bytes.
The state of an upload lives on disk (web/tus_store.py), so any worker of any server on the same data directory
may take its next chunk. Request bodies are read in bounded blocks, never whole (`request.data` is never used).

CSRF: the upload requests come from our own page's script, which sends the session cookie and the form's token
as the `X-CSRF-Token` header; a request without a valid token is refused (400) before anything is read.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import secrets
import shutil
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, request, url_for
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.datastructures import FileStorage

from engine import (
    CasetrailError,
    DiscardEvidence,
    EvidenceFileView,
    EvidenceRefused,
    NotFound,
    StageEvidence,
    case_for_viewer,
    discard_evidence,
    intake_files,
    stage_evidence,
    task_for_viewer,
)
from web.i18n import lang, translate
from web.security import CASE_ROLES, current_user, now, role_required, svc
from web.tus_store import Upload, UploadError, UploadStore, Writer

bp = Blueprint("uploads", __name__)

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,expiration"
OFFSET_STREAM = "application/offset+octet-stream"
CSRF_HEADER = "X-CSRF-Token"
# What the metadata of an upload may carry (Upload-Metadata), and how long each value may be.
METADATA = {"filename": 255, "case": 64, "task": 64, "intake": 64, "note": 1000, "filetype": 255}
# The views that take the CSRF token from the header only (web/app.py exempts them from the form check).


def _store() -> UploadStore:
    return UploadStore(svc().data_dir / "uploads", lifetime=svc().settings.upload_max_age)


def _max_bytes() -> int:
    return svc().settings.evidence.max_bytes


def _tus_request() -> bool:
    return request.path == "/uploads" or request.path.startswith("/uploads/")


@bp.before_request
def _check_tus() -> Response | None:
    """Every tus request but OPTIONS names the protocol's version (else 412) and, if it changes anything, carries
    the CSRF token as a header (else 400)."""
    if not _tus_request() or request.method == "OPTIONS":
        return None
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        return _refuse(412, "upload.version", version=TUS_VERSION)
    if request.method in ("POST", "PATCH", "DELETE"):
        try:
            validate_csrf(request.headers.get(CSRF_HEADER))
        except ValueError as exc:  # wtforms' ValidationError: missing, forged, or of another session
            raise CSRFError(str(exc)) from None
    return None


@bp.after_request
def _tus_headers(response: Response) -> Response:
    if _tus_request():
        response.headers["Tus-Resumable"] = TUS_VERSION
        response.headers["Cache-Control"] = "no-store"
    return response


def _refuse(status: int, key: str, **params: Any) -> Response:
    response = jsonify({"error": translate(key, **params), "status": status})
    response.status_code = status
    if status == 412:
        response.headers["Tus-Version"] = TUS_VERSION
    return response


def _refused(exc: UploadError) -> Response:
    return _refuse(exc.status, exc.key, **exc.params)


def _engine_refusal(exc: CasetrailError) -> Response:
    response = jsonify({"error": exc.message, "status": exc.http_status})
    response.status_code = exc.http_status
    return response


@bp.route("/uploads", methods=["OPTIONS"], provide_automatic_options=False)
@role_required(*CASE_ROLES)
def options() -> Response:
    response = Response(status=204)
    response.headers.update({"Tus-Version": TUS_VERSION, "Tus-Extension": TUS_EXTENSIONS,
                             "Tus-Max-Size": str(_max_bytes())})
    return response


@bp.post("/uploads")
@role_required(*CASE_ROLES)
def create() -> Response:
    """Creation: Upload-Length (over the limit: 413, nothing kept) and Upload-Metadata (filename, case, and
    optionally task and note; or, in place of the case, `intake`: the key of the registration page of a complaint
    not registered yet). The user must be allowed to add evidence to the case (to the task, if one is named) — or
    to hand in a complaint's material — now; the staging checks again, and fully, when the last byte has
    arrived."""
    if "Upload-Defer-Length" in request.headers:
        return _refuse(400, "upload.defer")
    length = _non_negative(request.headers.get("Upload-Length"))
    if length is None:
        return _refuse(400, "upload.bad_length")
    if length == 0:
        return _refuse(400, "upload.empty")
    if length > _max_bytes():
        return _refuse(413, "upload.too_large", size=length, limit=_max_bytes())
    try:
        metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
    except ValueError:
        return _refuse(400, "upload.bad_metadata")
    if not metadata.get("filename") or not (metadata.get("case") or metadata.get("intake")):
        return _refuse(400, "upload.missing_metadata")
    user = current_user()
    assert user is not None
    try:
        if metadata.get("case"):
            metadata.pop("intake", None)
            metadata["case"] = _case_for_upload(metadata["case"], metadata.get("task") or None, user.id)
        else:  # a complaint's material: the engine says whether this user may hand it in on this page
            metadata.pop("task", None)
            intake_files(svc(), user.id, metadata["intake"])
    except CasetrailError as exc:
        return _engine_refusal(exc)
    upload = _store().create(user.id, length, metadata, now())
    response = Response(status=201)
    response.headers["Location"] = url_for("uploads.status", upload_id=upload.id)
    response.headers["Upload-Expires"] = format_datetime(upload.expires.astimezone(dt.UTC), usegmt=True)
    return response


def _case_for_upload(case_ref: str, task_id: str | None, user_id: str) -> str:
    """The case's id, if the user may add evidence to it (to the task named, which must be of that case): the
    engine's decision (the views' `may_add_evidence`), asked before a byte is sent — an auditor or a head who
    only supervises is refused here (403, with the reason), not after the upload."""
    if task_id is None:
        seen = case_for_viewer(svc(), case_ref, user_id)
        seen.check_may_add_evidence()
        return str(seen.case.id)
    view = task_for_viewer(svc(), task_id, user_id, at=now())
    case = view.case.case
    if case_ref not in (str(case.id), case.number):
        raise NotFound("该案件中没有此任务 (no such task in this case)")
    view.check_may_add_evidence()
    return str(case.id)


@bp.get("/uploads/<upload_id>")
@role_required(*CASE_ROLES)
def status(upload_id: str) -> Response:
    """HEAD: the offset (tus); GET: the same as JSON. Once finished, the staged file's id and sha256 too."""
    try:
        upload = _store().get(upload_id, _user_id(), now())
    except UploadError as exc:
        return _refused(exc)
    response = jsonify(upload.to_json())
    response.headers.update(upload.headers())
    if upload.metadata:
        response.headers["Upload-Metadata"] = format_metadata(upload.metadata)
    return response


@bp.patch("/uploads/<upload_id>")
@role_required(*CASE_ROLES)
def patch(upload_id: str) -> Response:
    """Append the body at Upload-Offset (409 if the server has another offset). When the last byte is in, the
    file is staged as evidence: the answer names it (X-Evidence-Id, X-Evidence-Sha256), or refuses it (413, 415,
    403, …) and the upload is gone."""
    if request.mimetype != OFFSET_STREAM:
        return _refuse(415, "upload.content_type", expected=OFFSET_STREAM)
    offset = _non_negative(request.headers.get("Upload-Offset"))
    if offset is None:
        return _refuse(400, "upload.bad_offset")
    # The app's limit for form posts does not apply to a chunk; the policy's largest file does.
    request.max_content_length = _max_bytes()
    try:
        with _store().writing(upload_id, _user_id(), now()) as writer:
            writer.append(offset, lambda n: request.stream.read(n), request.content_length)
            refusal = _finish_if_complete(writer)
    except UploadError as exc:
        return _refused(exc)
    return refusal or _offset_answer(writer.upload)


def _offset_answer(upload: Upload) -> Response:
    response = Response(status=204)
    response.headers.update(upload.headers())
    return response


# -- for the upload receiver (web/receiver.py) ---------------------------------------------------------------------
# A deployment may take the bytes of PATCHes in a lean process of its own (the receiver), so that gigabytes of
# footage neither pass through nor occupy the app's workers. The receiver decides nothing: for each PATCH it asks
# the app, with the client's own cookie, CSRF token and headers, whether the session may append at that offset
# (`receive`), writes the body into the same upload store, and asks the app to stage the file once the last byte
# is in (`finish`). Every refusal is the app's, as the app's own PATCH would give it.


@bp.post("/uploads/<upload_id>/receive")
@role_required(*CASE_ROLES)
def receive(upload_id: str) -> Response:
    """May this session append the PATCH the receiver holds? Its Upload-Offset as `Upload-Offset`, its
    Content-Type and Content-Length as `X-Upload-Content-Type` and `X-Upload-Body-Length`. 200 with the upload's
    owner, the offset, the clock's time and the language of messages; otherwise the PATCH's refusal."""
    if request.headers.get("X-Upload-Content-Type", "").split(";")[0].strip().lower() != OFFSET_STREAM:
        return _refuse(415, "upload.content_type", expected=OFFSET_STREAM)
    offset = _non_negative(request.headers.get("Upload-Offset"))
    declared_header = request.headers.get("X-Upload-Body-Length")
    declared = _non_negative(declared_header) if declared_header is not None else None
    if offset is None or (declared_header is not None and declared is None):
        return _refuse(400, "upload.bad_offset")
    moment = now()
    try:
        upload = _store().get(upload_id, _user_id(), moment)
    except UploadError as exc:
        return _refused(exc)
    if offset != upload.offset:
        return _refuse(409, "upload.offset", have=upload.offset, sent=offset)
    if declared is not None and declared > upload.length - upload.offset:
        return _refuse(413, "upload.too_much", remaining=upload.length - upload.offset)
    return jsonify({"owner": upload.owner, "offset": upload.offset, "length": upload.length,
                    "now": moment.isoformat(), "lang": lang()})


@bp.post("/uploads/<upload_id>/finish")
@role_required(*CASE_ROLES)
def finish(upload_id: str) -> Response:
    """Stage the upload if its last byte is in and it is not staged yet; the answer is the last PATCH's (the
    offset, and X-Evidence-Id / X-Evidence-Sha256 once staged), or the staging's refusal."""
    try:
        with _store().writing(upload_id, _user_id(), now()) as writer:
            refusal = _finish_if_complete(writer)
    except UploadError as exc:
        return _refused(exc)
    return refusal or _offset_answer(writer.upload)


def _finish_if_complete(writer: Writer) -> Response | None:
    """Once the last byte is in, stage the file (`_finish`); the refusal if it was refused."""
    if writer.upload.complete and writer.upload.result is None:
        return _finish(writer)
    return None


def _finish(writer: Writer) -> Response | None:
    """Stage the finished upload; on a refusal (type, size, who) remove it and answer with the refusal. Anything
    else (the database down) leaves it complete, to be staged by the client's next try."""
    upload = writer.upload
    try:
        staged = _stage(upload.metadata, upload.owner, writer.data_path)
    except EvidenceRefused as exc:  # nothing kept: neither the blob (the engine's part) nor the upload
        writer.remove()
        return _engine_refusal(exc)
    except CasetrailError as exc:  # not about the file (the database busy or down): the client tries again
        return _engine_refusal(exc)
    writer.finish(staged_json(staged))
    return None


def _stage(metadata: dict[str, str], user_id: str, source: Path) -> EvidenceFileView:
    return stage_evidence(StageEvidence(case_ref=metadata.get("case") or None, user_id=user_id,
                                        name=metadata["filename"], source=source, task_id=metadata.get("task") or None,
                                        note=metadata.get("note") or None, intake_key=metadata.get("intake") or None),
                          svc=svc(), clock=current_app.extensions["casetrail.clock"])


def staged_json(view: EvidenceFileView) -> dict[str, Any]:
    return {"id": view.id, "sha256": view.sha256, "size": view.size, "media_type": view.media_type,
            "name": view.name}


@bp.delete("/uploads/<upload_id>")
@role_required(*CASE_ROLES)
def terminate(upload_id: str) -> Response:
    try:
        _store().delete(upload_id, _user_id(), now())
    except UploadError as exc:
        return _refused(exc)
    return Response(status=204)


TOKEN_IN_HEADER = (options, create, patch, terminate, receive, finish)


def _user_id() -> str:
    user = current_user()
    assert user is not None
    return user.id


def _non_negative(value: str | None) -> int | None:
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    return int(value)


def parse_metadata(header: str) -> dict[str, str]:
    """Upload-Metadata: comma-separated `key base64(value)` pairs; only the keys we know are kept, each bounded.
    ValueError if malformed."""
    out: dict[str, str] = {}
    if len(header) > 8192:
        raise ValueError("metadata too long")
    for pair in header.split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, encoded = pair.partition(" ")
        if not key or key in out or " " in encoded.strip():
            raise ValueError(f"bad pair {key!r}")
        try:
            value = base64.b64decode(encoded.strip(), validate=True).decode("utf-8") if encoded.strip() else ""
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError(f"bad value of {key!r}") from exc
        if key in METADATA:
            if len(value) > METADATA[key] or "\x00" in value:
                raise ValueError(f"{key!r} too long")
            out[key] = value.strip()
    return out


def format_metadata(metadata: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in metadata.items())


# -- whole files in one multipart POST ---------------------------------------------------------------------------


@bp.post("/cases/<ref>/evidence")
@role_required(*CASE_ROLES)
def post_files(ref: str) -> Any:
    """The form's fallback without JavaScript: each chosen file staged, a message for each, back to the page."""
    staged, refused = _stage_posted(ref)
    for view in staged:
        flash(translate("evidence.staged", name=view.name, sha=view.sha256[:12]), "success")
    for name, exc in refused:
        flash(translate("evidence.refused", name=name, reason=exc.message), "error")
    if not staged and not refused:
        flash(translate("evidence.none_chosen"), "error")
    return redirect(_back(ref))


@bp.post("/api/cases/<ref>/evidence")
@role_required(*CASE_ROLES)
def api_post_files(ref: str) -> Any:
    """The JSON API's upload of whole files (multipart/form-data, field `files`, optional `task` and `note`; the
    session's CSRF token as field `csrf_token` or header X-CSRF-Token): 201 with what was staged, each refusal
    with its reason; if every file was refused, the first refusal's status."""
    staged, refused = _stage_posted(ref)
    body = {"staged": [staged_json(v) for v in staged],
            "refused": [{"name": name, "status": exc.http_status, "error": exc.message} for name, exc in refused]}
    if not staged and not refused:
        return jsonify({"error": translate("evidence.none_chosen"), "status": 400}), 400
    return jsonify(body), 201 if staged else refused[0][1].http_status


def _stage_posted(ref: str) -> tuple[list[EvidenceFileView], list[tuple[str, CasetrailError]]]:
    """Stage every file of the request's `files` field, each on its own (a refusal refuses that file alone)."""
    task = (request.form.get("task") or "").strip()[:METADATA["task"]] or None
    case_id = _case_for_upload(ref, task, _user_id())  # a case (or task) the user may not see: 403/404 at once
    return stage_posted_files({"case": case_id, "task": task or ""})


def stage_posted_files(where: dict[str, str]) -> tuple[list[EvidenceFileView], list[tuple[str, CasetrailError]]]:
    """Stage each file of the request's `files` field (with the form's `note`) where `where` says: a case (and
    task), or a registration page (`intake`). Each is refused on its own."""
    files = [f for f in request.files.getlist("files") if f.filename]
    user_id = _user_id()
    note = (request.form.get("note") or "").strip()[:METADATA["note"]]
    staged: list[EvidenceFileView] = []
    refused: list[tuple[str, CasetrailError]] = []
    for file in files:
        name = (file.filename or "")[:METADATA["filename"]]
        try:
            with _spooled(file) as source:
                staged.append(_stage({**where, "filename": name, "note": note}, user_id, source))
        except EvidenceRefused as exc:
            refused.append((name, exc))
    return staged, refused


@contextlib.contextmanager
def _spooled(file: FileStorage) -> Any:
    """The posted file as a file of its own on disk beside the uploads (copied in blocks), removed afterwards."""
    folder = svc().data_dir / "uploads" / "posted"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / secrets.token_hex(16)
    try:
        with open(path, "wb") as out:
            shutil.copyfileobj(file.stream, out, 1024 * 1024)
        yield path
    finally:
        path.unlink(missing_ok=True)


def _back(ref: str) -> str:
    """Where the form came from (`next`, a path of this site), else the case page."""
    target = request.form.get("next", "")
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
        return target
    return url_for("cases.case_page", ref=ref)


@bp.post("/cases/<ref>/evidence/<int:file_id>/remove")
@role_required(*CASE_ROLES)
def remove(ref: str, file_id: int) -> Any:
    """Take back a file one staged (before a signed step lists it)."""
    name = discard_evidence(DiscardEvidence(file_id=file_id, user_id=_user_id()), svc=svc(),
                            clock=current_app.extensions["casetrail.clock"])
    flash(translate("evidence.removed", name=name), "info")
    return redirect(_back(ref))


# -- the widget on the task page and the case page ----------------------------------------------------------------

CHUNK_BYTES = 8 * 1024 * 1024  # the browser's PATCH size: a dropped connection resends at most this much
EVIDENCE_KEYWORD = "x-evidence"  # a form schema's declaration that its step takes evidence files


@dataclass(frozen=True)
class EvidenceWidget:
    """What web/templates/_evidence_upload.html draws: where files go, which types the chooser offers (the
    families the step's form accepts, as settings.json `evidence` lists their media types), who uploads (their
    staged files on the page's list may be taken back) and the page to come back to."""

    case_id: int | None  # None: the complaint being registered (`intake_key`)
    task_id: str | None
    user_id: str
    title: str
    accept: str
    capture: str | None  # "environment": the phone's or tablet's back camera
    camera_accept: str
    back: str
    chunk: int = CHUNK_BYTES
    # The registration page's key: the widget is part of the registration form (its files post with it, and
    # a staged file is taken back by the form's own button), not a form of its own.
    intake_key: str | None = None


def evidence_widget(case_id: int, task_id: str | None, schema: dict[str, Any] | None, user_id: str,
                    back: str) -> EvidenceWidget | None:
    """The widget for the step's form `schema` (None if the form takes no evidence), or for the case's files
    (`task_id` None: any family the policy accepts). Drawn only for who may add evidence there (the views'
    `may_add_evidence`)."""
    spec: dict[str, Any] = {}
    if task_id is not None:
        declared = _declared(schema)
        if declared is None:
            return None
        spec = declared
    return _widget(spec, "evidence.case_title" if task_id is None else "evidence.title", user_id, back,
                   case_id=case_id, task_id=task_id)


def intake_widget(schema: dict[str, Any] | None, key: str, user_id: str,
                  back: str) -> tuple[EvidenceWidget | None, tuple[EvidenceFileView, ...]]:
    """The widget in the registration form (its `x-evidence`; None if it takes none), and the files this clerk
    has staged on the page `key` (its list)."""
    spec = _declared(schema)
    if spec is None:
        return None, ()
    return (_widget(spec, "evidence.title", user_id, back, case_id=None, task_id=None, intake_key=key),
            intake_files(svc(), user_id, key))


def _declared(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    declared = (schema or {}).get(EVIDENCE_KEYWORD)
    return declared if isinstance(declared, dict) else None


def _widget(spec: dict[str, Any], default_title: str, user_id: str, back: str, *, case_id: int | None,
            task_id: str | None, intake_key: str | None = None) -> EvidenceWidget:
    families = svc().settings.evidence.families
    chosen = [families[f] for f in (spec.get("accept") or families) if f in families]
    types = sorted({t for family in chosen for t in family.media_types})
    camera = [t for t in ("image/*", "video/*") if any(f.name == t.split("/")[0] for f in chosen)]
    title = (spec.get("x-title-en") if lang() == "en" else None) or spec.get("title") or translate(default_title)
    return EvidenceWidget(case_id=case_id, task_id=task_id, user_id=user_id, title=title, accept=",".join(types),
                          capture=spec.get("capture") if camera else None, camera_accept=",".join(camera), back=back,
                          intake_key=intake_key)
