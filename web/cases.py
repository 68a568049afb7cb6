"""Cases: the list, registering a complaint (投诉举报登记), and the case page with its whole timeline."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from engine.errors import SigningError, ValidationError
from engine.usecases.cases import open_case
from engine.usecases.tasks import show_task
from engine.values import OpenCase
from web.case_context import case_context, days_left
from web.engine_gaps import cases_overview, intake_form_schema
from web.i18n import translate
from web.schema_form import build_fields, error_key, parse_form
from web.security import CASE_ROLES, current_user, now, role_required, svc

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.get("")
@role_required(*CASE_ROLES)
def case_list() -> Any:
    q = request.args.get("q", "").strip()[:100]
    stage = request.args.get("stage", "")
    status = request.args.get("status", "")
    cases = cases_overview(svc())
    stages = sorted({c.stage for c in cases})
    if q:
        cases = [c for c in cases if q in c.number or q.lower() in c.respondent.lower()]
    if stage:
        cases = [c for c in cases if c.stage == stage]
    if status in ("open", "closed"):
        cases = [c for c in cases if c.status == status]
    cases.sort(key=lambda c: c.updated_at, reverse=True)
    return render_template("cases/list.html", cases=cases[:500], total=len(cases), q=q, stage=stage,
                           status=status, stages=stages)


@bp.route("/new", methods=["GET", "POST"])
@role_required("intake")
def new_case() -> Any:
    fields = build_fields(intake_form_schema(svc()))
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    problem = None
    status = 200
    if request.method == "POST":
        parsed = parse_form(fields, request.form)
        user = current_user()
        assert user is not None
        try:
            case = open_case(OpenCase(user_id=user.id, data=parsed.data, pin=request.form.get("pin") or None),
                             svc=svc(), clock=current_app.extensions["casetrail.clock"])
        except ValidationError as exc:
            values, problem, status = parsed.data, exc.message, 422
            errors = {error_key(k): v for k, v in exc.errors.items()} | parsed.errors
        except SigningError as exc:  # the registration is the case's first signed record
            values, problem, status = parsed.data, exc.message, 403
            errors = {"pin": exc.message}
        else:
            flash(translate("case.opened", number=case.number), "success")
            return redirect(url_for("cases.case_page", ref=case.id))
    return render_template("cases/new.html", fields=fields, values=values, errors=errors, problem=problem), status


@bp.get("/<ref>")
@role_required(*CASE_ROLES)
def case_page(ref: str) -> Any:
    user = current_user()
    assert user is not None
    ctx = case_context(svc(), ref, user)
    intake_fields = build_fields(intake_form_schema(svc()))
    schemas = {t.id: show_task(svc(), t.id).form_schema for t in ctx.completed if t.form_data}
    return render_template("cases/case.html", ctx=ctx, case=ctx.case, now=now(), days_left=days_left,
                           intake_fields=intake_fields, schemas=schemas, build_fields=build_fields)
