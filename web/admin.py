"""Administration (role admin): users and roles, process definitions, province settings, working days."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from engine.errors import Conflict, DefinitionInvalid, ValidationError
from engine.roles import all_roles
from engine.usecases.definitions import store_definition
from engine.usecases.users import add_user, list_users
from web.engine_gaps import set_working_day_override, working_day_overrides
from web.i18n import SHANGHAI, translate
from web.security import current_user, now, role_required, svc

bp = Blueprint("admin", __name__, url_prefix="/admin")

DEFINITION_SUFFIXES = (".bpmn", ".dmn", ".json")
MAX_FILES = 200


def definition_file_name(filename: str) -> str:
    """A model file's name inside the definition: `forms/<task>.schema.json` for form schemas (a file picker
    drops the folder), the bare name for BPMN, DMN, gates.json and roles.json. No other path survives."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return f"forms/{base}" if base.endswith(".schema.json") else base


@bp.get("/users")
@role_required("admin")
def users() -> Any:
    return render_template("admin/users.html", users=list_users(svc()), roles=all_roles(), values={}, errors={})


@bp.post("/users")
@role_required("admin")
def create_user() -> Any:
    form = request.form
    values = {"user_id": form.get("user_id", "").strip(), "name": form.get("name", "").strip(),
              "unit": form.get("unit", "").strip(), "roles": form.getlist("roles")}
    pin = form.get("pin") or None  # the user's signing PIN: their key is issued under it, never stored
    try:
        view = add_user(svc(), user_id=values["user_id"], name=values["name"], password=form.get("password", ""),
                        roles=values["roles"], unit=values["unit"], clock=current_app.extensions["casetrail.clock"],
                        pin=pin)
    except ValidationError as exc:
        return render_template("admin/users.html", users=list_users(svc()), roles=all_roles(), values=values,
                               errors=exc.errors, problem=exc.message), 422
    except Conflict as exc:
        return render_template("admin/users.html", users=list_users(svc()), roles=all_roles(), values=values,
                               errors={"user_id": exc.message}, problem=exc.message), 409
    flash(translate("admin.user_added", user=view.id), "success")
    return redirect(url_for("admin.users"))


@bp.get("/definitions")
@role_required("admin")
def definitions() -> Any:
    return render_template("admin/definitions.html", result=None, problem=None)


@bp.post("/definitions")
@role_required("admin")
def upload_definition() -> Any:
    """A new version of the process model: validated by the engine; nothing stored when invalid."""
    uploads = [f for f in request.files.getlist("files") if f and f.filename]
    files: dict[str, bytes] = {}
    for upload in uploads[:MAX_FILES]:
        name = definition_file_name(upload.filename or "")
        if not name.endswith(DEFINITION_SUFFIXES):
            return render_template("admin/definitions.html", result=None,
                                   problem=translate("admin.bad_file", name=name)), 422
        files[name] = upload.read()
    entry = request.form.get("entry_process_id", "").strip()
    name = request.form.get("name", "").strip() or entry
    if not files or not entry:
        return render_template("admin/definitions.html", result=None, problem=translate("admin.need_files")), 422
    user = current_user()
    try:
        def_id, sha, created = store_definition(svc(), files, entry, name=name, user_id=user.id if user else None,
                                                clock=current_app.extensions["casetrail.clock"])
    except DefinitionInvalid as exc:
        return render_template("admin/definitions.html", result=None, problem=exc.message), 422
    return render_template("admin/definitions.html", result={"id": def_id, "sha256": sha, "created": created,
                                                             "files": sorted(files)}, problem=None)


@bp.get("/settings")
@role_required("admin", "head", "auditor")
def settings() -> Any:
    s = svc().settings
    return render_template("admin/settings.html", settings=s, warnings=list(svc().calendar.warnings))


@bp.route("/calendar", methods=["GET", "POST"])
@role_required("admin")
def calendar() -> Any:
    problem = None
    status = 200
    if request.method == "POST":
        try:
            day = dt.date.fromisoformat(request.form.get("day", ""))
        except ValueError:
            problem, status = translate("admin.bad_date"), 422
        else:
            choice = request.form.get("kind")
            set_working_day_override(svc(), day, {"work": True, "off": False}.get(choice or ""))
            flash(translate("admin.override_saved", day=day.isoformat()), "success")
            return redirect(url_for("admin.calendar"))
    cal = svc().calendar
    this_year = now().astimezone(SHANGHAI).year
    years = range(this_year - 1, this_year + 3)
    return render_template("admin/calendar.html", overrides=working_day_overrides(svc()), problem=problem,
                           coverage=[(y, cal.covers(y)) for y in years]), status
