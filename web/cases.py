"""Cases: the list, registering a complaint (投诉举报登记), and the case page with its whole timeline."""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for

from engine import (
    CASE_STATUSES,
    DOCUMENT_WITHHELD,
    DOSSIER_WITHHELD,
    DiscardDraft,
    DiscardEvidence,
    DraftTooLarge,
    FilePurpose,
    Forbidden,
    NotFound,
    OpenCase,
    SaveDraft,
    SigningError,
    ValidationError,
    build_case_dossier,
    case_for_viewer,
    case_supervisions,
    cases_page,
    discard_draft,
    discard_evidence,
    get_document,
    latest_intake_draft,
    list_evidence,
    new_intake_key,
    open_case,
    save_draft,
)
from web.case_context import days_left
from web.drafts import draft_values, posted_fields, saved_at
from web.i18n import translate
from web.labels import intake_schema
from web.schema_form import build_fields, error_key, parse_form
from web.security import CASE_ROLES, current_user, now, role_required, svc
from web.uploads import evidence_widget, intake_widget, stage_posted_files

bp = Blueprint("cases", __name__, url_prefix="/cases")

CASES_PER_PAGE = 50  # CASETRAIL_CASES_PER_PAGE overrides


def page_arg() -> int:
    """The `page` query argument; anything but a number is the first page (the engine clamps the rest)."""
    try:
        return int(request.args.get("page", 1))
    except ValueError:
        return 1


def cases_per_page() -> int:
    return int(current_app.config.get("CASETRAIL_CASES_PER_PAGE", CASES_PER_PAGE))


@bp.get("")
@role_required(*CASE_ROLES)
def case_list() -> Any:
    q = request.args.get("q", "").strip()[:100]
    stage = request.args.get("stage", "")[:32]
    status = request.args.get("status", "")
    status = status if status in CASE_STATUSES else ""
    # What a dashboard bar counts by (web/dashboard.py links here): the list shows those very cases.
    violation = request.args.get("violation", "")[:64]
    outcome = request.args.get("outcome", "")[:32]
    month = request.args.get("month", "")[:7]
    agency = request.args.get("agency", "")[:32]  # a supervisor's: of what they may read, as every filter
    user = current_user()
    assert user is not None
    page = cases_page(svc(), viewer_id=user.id, query=q, stage=stage, status=status, violation=violation,
                      outcome=outcome, month=month, agency=agency, page=page_arg(), per_page=cases_per_page())
    return render_template("cases/list.html", page=page, cases=page.items, total=page.total, q=q, stage=stage,
                           status=status, stages=page.stages, violation=violation, outcome=outcome, month=month,
                           agency=agency, agencies=page.agencies)


@bp.route("/new", methods=["GET", "POST"])
@role_required("intake")
def new_case() -> Any:
    """The registration form, with the complaint's material: files staged on this page (by the widget's
    resumable uploads, or posted with the form without JavaScript) under the page's key, listed in the signed
    registration. A refused file or registration keeps what was typed and what was staged."""
    schema = intake_schema()
    fields = build_fields(schema)
    user = current_user()
    assert user is not None
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    problem = None
    status = 200
    refusals: list[str] = []
    key = new_intake_key()
    draft = latest_intake_draft(svc(), user.id) if request.method == "GET" else None
    if draft is not None and draft.intake_key:  # the registration left last comes back, its staged files with it
        key, values = draft.intake_key, draft_values(fields, draft)
    if request.method == "POST":
        key = (request.form.get("evidence_key") or "").strip() or key
        parsed = parse_form(fields, request.form)
        values = parsed.data
        staged, refused = stage_posted_files({"intake": key})  # a malformed key: the engine's 422
        refusals = [translate("evidence.refused", name=name, reason=exc.message) for name, exc in refused]
        discard = request.form.get("discard", "")
        if discard.isdigit():  # the widget's own button: take a file back, keep the form as typed
            name = discard_evidence(DiscardEvidence(file_id=int(discard), user_id=user.id), svc=svc(),
                                    clock=current_app.extensions["casetrail.clock"])
            flash(translate("evidence.removed", name=name), "info")
        elif refused:
            problem, status = translate("evidence.intake_refused"), refused[0][1].http_status
        else:
            try:
                case = open_case(OpenCase(user_id=user.id, data=parsed.data, pin=request.form.get("pin") or None,
                                          evidence_key=key),
                                 svc=svc(), clock=current_app.extensions["casetrail.clock"])
            except ValidationError as exc:
                status = 422
                errors = {error_key(k): v for k, v in exc.errors.items()} | parsed.errors
                problem = translate("form.invalid") if errors else exc.message
            except SigningError as exc:  # the registration is the case's first signed record
                problem, status = exc.message, 403
                errors = {"pin": exc.message}
            else:
                files = list_evidence(svc(), case.id, user.id)
                flash(translate("case.opened_files", number=case.number, count=len(files)) if files
                      else translate("case.opened", number=case.number), "success")
                return redirect(url_for("cases.case_page", ref=case.id))
    upload, staged = intake_widget(schema, key, user.id, url_for("cases.new_case"))
    return render_template("cases/new.html", fields=fields, values=values, errors=errors, problem=problem,
                           refusals=refusals, upload=upload, staged=staged, key=key, draft=draft,
                           draft_saved=saved_at(draft.updated_at) if draft else None,
                           autosave_seconds=int(svc().settings.drafts.autosave.total_seconds())), status


@bp.post("/new/draft")
@role_required("intake")
def save_intake_draft() -> Any:
    """The registration form's "save draft" button (without JavaScript): keep what was typed under the page's key
    (its staged files stay staged under it), and open the page with it again."""
    user = current_user()
    assert user is not None
    key = (request.form.get("evidence_key") or "").strip()
    try:
        draft = save_draft(SaveDraft(user_id=user.id, intake_key=key, fields=posted_fields(request.form)),
                           svc=svc(), clock=current_app.extensions["casetrail.clock"])
    except (DraftTooLarge, ValidationError) as exc:
        fields = build_fields(intake_schema())
        upload, staged = intake_widget(intake_schema(), key, user.id, url_for("cases.new_case"))
        return render_template("cases/new.html", fields=fields, values=parse_form(fields, request.form).data,
                               errors={}, problem=translate("draft.not_saved", detail=exc.message), refusals=[],
                               upload=upload, staged=staged, key=key, draft=None, draft_saved=None,
                               autosave_seconds=int(svc().settings.drafts.autosave.total_seconds())), exc.http_status
    flash(translate("draft.saved_at", time=saved_at(draft.updated_at)), "success")
    return redirect(url_for("cases.new_case"))


@bp.post("/new/draft/discard")
@role_required("intake")
def discard_intake_draft() -> Any:
    """Drop the registration's draft: the page opens empty, under a new key."""
    user = current_user()
    assert user is not None
    if discard_draft(DiscardDraft(user_id=user.id, intake_key=(request.form.get("evidence_key") or "").strip()),
                     svc=svc(), clock=current_app.extensions["casetrail.clock"]):
        flash(translate("draft.discarded"), "info")
    return redirect(url_for("cases.new_case"))


@bp.get("/<ref>")
@role_required(*CASE_ROLES)
def case_page(ref: str) -> Any:
    user = current_user()
    assert user is not None
    moment = now()
    ctx = case_for_viewer(svc(), ref, user.id, now=moment)
    intake_fields = build_fields(intake_schema())
    schemas = {t.id: ctx.form_schemas.get(t.spec_id) for t in ctx.completed if t.form_data}
    # Files for the case's 证据登记: offered to who may add them (the engine's decision: open case, who handles it).
    # The parties' drawn signatures are files of their steps' records too, shown apart: they are no evidence.
    files = list_evidence(svc(), ctx.case.id, user.id, purpose=None)
    signatures = [f for f in files if f.purpose == FilePurpose.PARTY_SIGNATURE]
    upload = evidence_widget(ctx.case.id, None, None, user.id, url_for("cases.case_page", ref=ctx.case.id)) \
        if ctx.may_add_evidence else None
    return render_template("cases/case.html", ctx=ctx, case=ctx.case, now=moment, days_left=days_left,
                           deadlines=ctx.deadlines, intake_fields=intake_fields, schemas=schemas,
                           build_fields=build_fields, upload=upload, signatures=signatures,
                           evidence=[f for f in files if f.purpose != FilePurpose.PARTY_SIGNATURE],
                           supervisions=case_supervisions(svc(), ctx.case.id, now=moment))


@bp.get("/<ref>/documents/<int:doc_id>")
@role_required(*CASE_ROLES)
def document(ref: str, doc_id: int) -> Any:
    """One signed 文书, byte for byte as stored: its sha256 is the one in the step's signed record."""
    user = current_user()
    assert user is not None
    ctx = case_for_viewer(svc(), ref, user.id)
    try:
        doc, pdf = get_document(svc(), doc_id)
    except NotFound:
        abort(404)
    if doc.case_id != ctx.case.id:
        abort(404)  # another case's document: as if it did not exist
    if not ctx.may_download(doc):
        raise Forbidden(DOCUMENT_WITHHELD)
    return pdf_download(pdf, doc.file_name, fallback=f"document-{doc.id}.pdf")


@bp.get("/<ref>/dossier.pdf")
@role_required(*CASE_ROLES)
def dossier(ref: str) -> Any:
    """The case dossier (案卷), sealed at printing: it holds every 文书, so the complainant's too."""
    user = current_user()
    assert user is not None
    ctx = case_for_viewer(svc(), ref, user.id)
    if not ctx.dossier_allowed:
        raise Forbidden(DOSSIER_WITHHELD)
    pdf = build_case_dossier(svc(), str(ctx.case.id), clock=current_app.extensions["casetrail.clock"])
    return pdf_download(pdf, f"{ctx.case.number}-案卷.pdf", fallback=f"case-{ctx.case.id}-dossier.pdf")


_UNSAFE = re.compile(r'[\\/"\x00-\x1f\x7f;]')


def pdf_download(data: bytes, file_name: str, *, fallback: str) -> Response:
    """A PDF as an attachment, named in UTF-8 (RFC 6266 / RFC 5987 `filename*`) with an ASCII fallback."""
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", file_name)).strip(" .") or fallback
    ascii_name = name if name.isascii() else fallback
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"})
