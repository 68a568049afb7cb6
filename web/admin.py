"""Administration (role admin): users and roles, process definitions, province settings, working days.

Every change goes through an engine use case that checks the administrator again and journals it; forms
carry the CSRF token (flask-wtf refuses a POST without it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from engine import (
    AddUser,
    CasetrailError,
    ChangeAccount,
    Conflict,
    DefinitionInvalid,
    EndAllSessions,
    EnterHolidaySchedule,
    Forbidden,
    RekeyUser,
    RevokeUserKey,
    SetUserAgency,
    SetUserCertificate,
    SetWorkingDayOverride,
    StoreDefinition,
    UnblockSigningPin,
    ValidationError,
    account_history,
    add_user,
    agency_codes,
    all_roles,
    blocked_signing_pins,
    calendar_coverage,
    deactivate_user,
    end_all_sessions,
    enter_holiday_schedule,
    get_user,
    holiday_schedules,
    list_definitions,
    list_users,
    missing_schedules,
    open_sessions,
    parse_days,
    reactivate_user,
    rekey_user,
    revoke_user_key,
    set_user_agency,
    set_user_certificate,
    set_working_day_override,
    signing_certificates,
    signing_pin,
    store_definition,
    unblock_signing_pin,
    working_day_changes,
    working_day_overrides,
)
from web.i18n import translate
from web.labels import person
from web.security import current_user, has_role, now, role_required, svc
from web.zone import local_zone

bp = Blueprint("admin", __name__, url_prefix="/admin")

DEFINITION_SUFFIXES = (".bpmn", ".dmn", ".json")
MAX_FILES = 200


def definition_file_name(filename: str) -> str:
    """A model file's name inside the definition: `forms/<task>.schema.json` for form schemas (a file picker
    drops the folder), the bare name for BPMN, DMN, gates.json and roles.json. No other path survives."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return f"forms/{base}" if base.endswith(".schema.json") else base


def admin_clock() -> Any:
    """The clock the administrator's changes are made at (the app's: tests set it)."""
    return current_app.extensions["casetrail.clock"]


def admin_id() -> str:
    user = current_user()
    assert user is not None  # role_required let only a logged-in administrator through
    return user.id


def refused_form(exc: CasetrailError, page: Callable[[str, dict[str, str]], str], *,
                 fields: Callable[[dict[str, str]], dict[str, str]] = dict) -> tuple[str, int]:
    """An administrator's form the engine refused: its page again (`page(problem, errors)`) with the refusal above
    the form and a ValidationError's errors at their fields (`fields`: the engine's names as the form's), at the
    refusal's status; an unknown user or agency is the error page's (404)."""
    if exc.http_status == 404:
        raise exc
    errors = fields(exc.errors) if isinstance(exc, ValidationError) else {}
    return page(exc.message, errors), exc.http_status


def _users_page(values: dict[str, Any], errors: dict[str, str], problem: str | None = None) -> str:
    # The people the administrator administers: their agency's and those below it (a platform's, everyone).
    return render_template("admin/users.html", users=list_users(svc(), admin_id()), roles=all_roles(), values=values,
                           agencies=agency_codes(svc(), admin_id()), home=svc().settings.agency.code,
                           errors=errors, problem=problem, certificates=signing_certificates(svc()), now=now(),
                           today=_today())


@bp.get("/users")
@role_required("admin")
def users() -> Any:
    return _users_page({}, {})


@bp.post("/users")
@role_required("admin")
def create_user() -> Any:
    form = request.form
    values = {"user_id": form.get("user_id", "").strip(), "name": form.get("name", "").strip(),
              "unit": form.get("unit", "").strip(), "roles": form.getlist("roles"),
              "cert_no": form.get("cert_no", "").strip(), "cert_valid_until": form.get("cert_valid_until", "").strip(),
              "agency_code": form.get("agency_code", "").strip()}
    pin = form.get("pin") or None  # the user's signing PIN: their key is issued under it, never stored
    try:
        view = add_user(AddUser(user_id=values["user_id"], name=values["name"],
                                password=form.get("password", ""), roles=values["roles"], unit=values["unit"],
                                pin=pin, cert_no=values["cert_no"] or None,
                                cert_valid_until=_day(values["cert_valid_until"]),
                                agency_code=values["agency_code"] or None, by=admin_id()),
                        svc=svc(), clock=current_app.extensions["casetrail.clock"])
    except ValidationError as exc:
        return _users_page(values, exc.errors, exc.message), 422
    except Conflict as exc:
        return _users_page(values, {"user_id": exc.message}, exc.message), 409
    except Forbidden as exc:  # an agency the administrator does not administer: refused at its picker
        return _users_page(values, {"agency": exc.message}, exc.message), 403
    flash(translate("admin.user_added", user=view.id), "success")
    return redirect(url_for("admin.users"))


def _user_page(user_id: str, *, problem: str | None = None, errors: dict[str, str] | None = None) -> str:
    # Another district's person is not the administrator's to open (Forbidden, before anything of theirs is read).
    view = get_user(svc(), user_id, admin_id())
    return render_template("admin/user.html", user=view,
                           certificate=signing_certificates(svc()).get(user_id), now=now(), problem=problem,
                           errors=errors or {}, me=admin_id(), history=account_history(svc(), user_id),
                           pin=signing_pin(svc(), user_id), sessions=open_sessions(svc(), user_id, clock=admin_clock()),
                           agencies=agency_codes(svc(), admin_id()),
                           today=_today())


def _today() -> dt.date:
    """The agency's date now: a 执法证 valid until yesterday has lapsed."""
    return now().astimezone(local_zone()).date()


def _day(value: str) -> dt.date | None:
    """A date field's value; an unreadable one (a browser without a date picker) refused in both languages."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError("日期格式不正确，应为 YYYY-MM-DD (not a date: use YYYY-MM-DD)",
                              {"cert_valid_until": "日期格式不正确 (not a date)"}) from None


@bp.post("/users/<user_id>/enforcement-certificate")
@role_required("admin")
def set_enforcement_certificate(user_id: str) -> Any:
    """Record (or clear) the user's 执法证号 and its last valid day (行政处罚法 第四十二条), journalled with why."""
    try:
        set_user_certificate(SetUserCertificate(
            user_id=user_id, cert_no=request.form.get("cert_no", ""), valid_until=_day(request.form.get(
                "cert_valid_until", "").strip()), by=admin_id(), reason=request.form.get("reason", "")),
            svc=svc(), clock=admin_clock())
    except CasetrailError as exc:
        return _user_action_refused(user_id, exc, form="cert_")
    flash(translate("admin.enforcement_set", user=person(user_id)), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.get("/users/<user_id>")
@role_required("admin")
def user(user_id: str) -> Any:
    return _user_page(user_id)


@bp.post("/users/<user_id>/active")
@role_required("admin")
def set_active(user_id: str) -> Any:
    """Deactivate (or reactivate) an account: no login, no assignment, no signing while inactive."""
    change = deactivate_user if request.form.get("active") == "0" else reactivate_user
    try:
        command = ChangeAccount(user_id=user_id, by=admin_id(), reason=request.form.get("reason", ""))
        result = change(command, svc=svc(), clock=admin_clock())
    except CasetrailError as exc:
        return _user_action_refused(user_id, exc)
    if result.active:
        flash(translate("admin.user_reactivated", user=user_id), "success")
    else:
        flash(translate("admin.user_deactivated", user=user_id, n=result.open_tasks), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<user_id>/agency")
@role_required("admin")
def set_agency(user_id: str) -> Any:
    """Move a person to another agency (a transfer of post), saying why."""
    code = request.form.get("agency_code", "").strip()
    try:
        set_user_agency(SetUserAgency(user_id=user_id, agency_code=code, by=admin_id(),
                                      reason=request.form.get("reason", "")), svc=svc(), clock=admin_clock())
    except CasetrailError as exc:
        return _user_action_refused(user_id, exc, form="agency_")
    flash(translate("admin.agency_moved", user=user_id, agency=code), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<user_id>/revoke")
@role_required("admin")
def revoke(user_id: str) -> Any:
    """Revoke the signing certificate now (lost key, PIN disclosed): earlier signatures stay valid."""
    try:
        revoke_user_key(RevokeUserKey(user_id=user_id, by=admin_id(), reason=request.form.get("reason", "")),
                        svc=svc(), clock=admin_clock())
    except CasetrailError as exc:
        return _user_action_refused(user_id, exc, form="revoke_")
    flash(translate("admin.key_revoked", user=user_id), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<user_id>/end-sessions")
@role_required("admin")
def end_sessions(user_id: str) -> Any:
    """End every login of the user at once (a lost laptop, a screen left open): journalled with the reason."""
    try:
        ended = end_all_sessions(EndAllSessions(user_id=user_id, by=admin_id(), reason=request.form.get("reason", "")),
                                 svc=svc(), clock=admin_clock())
    except CasetrailError as exc:
        return _user_action_refused(user_id, exc, form="sessions_")
    flash(translate("admin.sessions_ended", user=user_id, n=ended), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<user_id>/rekey")
@role_required("admin")
def rekey(user_id: str) -> Any:
    """A new key and certificate under a new PIN, typed twice by the officer; the old one is revoked."""
    pin, again = request.form.get("pin", ""), request.form.get("pin_again", "")
    if pin != again:
        return _user_page(user_id, problem=translate("admin.pins_differ"),
                          errors={"pin_again": translate("admin.pins_differ")}), 422
    try:
        rekey_user(RekeyUser(user_id=user_id, pin=pin, by=admin_id(), reason=request.form.get("reason", "")),
                   svc=svc(), clock=admin_clock())
    except CasetrailError as exc:
        return _user_action_refused(user_id, exc, form="rekey_")
    flash(translate("admin.rekeyed", user=user_id), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.get("/signing-pins")
@role_required("admin", "head")
def signing_pins() -> Any:
    """Blocked signing keys of the people the head or administrator may unblock (a head: their agency's; an
    administrator: their agency's and those below it), each marked with its holder's agency."""
    return _signing_pins_page()


def _signing_pins_page(problem: str | None = None, errors: dict[str, str] | None = None) -> str:
    return render_template("admin/signing_pins.html", pins=blocked_signing_pins(svc(), admin_id()), problem=problem,
                           errors=errors or {}, me=admin_id())


@bp.post("/users/<user_id>/unblock-pin")
@role_required("admin", "head")
def unblock_pin(user_id: str) -> Any:
    """Unblock a key blocked after wrong PINs (a head or an administrator, with a reason; journalled)."""
    from_user_page = request.form.get("back") == "user" and has_role("admin")
    try:
        unblock_signing_pin(UnblockSigningPin(user_id=user_id, by=admin_id(), reason=request.form.get("reason", "")),
                            svc=svc(), clock=admin_clock())
    except CasetrailError as exc:
        if from_user_page:
            return _user_action_refused(user_id, exc, form="unblock_")
        if exc.http_status == 404:
            raise
        errors = {f"{user_id}.{k}": v for k, v in exc.errors.items()} if isinstance(exc, ValidationError) else {}
        return _signing_pins_page(exc.message, errors), exc.http_status
    flash(translate("admin.pin_unblocked", user=user_id), "success")
    return redirect(url_for("admin.user", user_id=user_id) if from_user_page else url_for("admin.signing_pins"))


def _user_action_refused(user_id: str, exc: CasetrailError, *, form: str = "") -> Any:
    """The user page again with the engine's refusal; `form` prefixes the field names (the page has several
    forms with a reason field, and the error belongs under the one that was sent)."""
    return refused_form(exc, lambda problem, errors: _user_page(user_id, problem=problem, errors=errors),
                        fields=lambda errors: {f"{form}{k}": v for k, v in errors.items()})


def _definitions_page(result: dict[str, Any] | None, problem: str | None) -> str:
    return render_template("admin/definitions.html", result=result, problem=problem,
                           versions=list_definitions(svc()))


@bp.get("/definitions")
@role_required("admin")
def definitions() -> Any:
    return _definitions_page(None, None)


@bp.post("/definitions")
@role_required("admin")
def upload_definition() -> Any:
    """A new version of the process model: validated by the engine; nothing stored when invalid."""
    uploads = [f for f in request.files.getlist("files") if f and f.filename]
    files: dict[str, bytes] = {}
    for upload in uploads[:MAX_FILES]:
        name = definition_file_name(upload.filename or "")
        if not name.endswith(DEFINITION_SUFFIXES):
            return _definitions_page(None, translate("admin.bad_file", name=name)), 422
        files[name] = upload.read()
    entry = request.form.get("entry_process_id", "").strip()
    name = request.form.get("name", "").strip() or entry
    if not files or not entry:
        return _definitions_page(None, translate("admin.need_files")), 422
    user = current_user()
    try:
        def_id, sha, created = store_definition(
            StoreDefinition(files=files, entry_process_id=entry, name=name, user_id=user.id if user else None),
            svc=svc(), clock=current_app.extensions["casetrail.clock"])
    except DefinitionInvalid as exc:
        return _definitions_page(None, exc.message), 422
    return _definitions_page({"id": def_id, "sha256": sha, "created": created, "files": sorted(files)}, None)


@bp.get("/settings")
@role_required("admin", "head", "auditor")
def settings() -> Any:
    s = svc().settings
    return render_template("admin/settings.html", settings=s, missing=missing_schedules(svc(), now=now()))


DAY_FORM = {"day": "", "kind": "work", "reason": ""}
SCHEDULE_FORM = {"year": "", "reference": "", "days_off": "", "workdays": "", "complete": "1"}


def _calendar_page(*, day: dict[str, str] | None = None, schedule: dict[str, str] | None = None,
                   problem: str | None = None, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    coverage = calendar_coverage(svc(), now=now())
    missing = [c.year for c in coverage if c.needed]
    schedule = schedule or {**SCHEDULE_FORM, "year": str(missing[0] if missing else now().astimezone(local_zone()).year + 1)}
    return render_template("admin/calendar.html", overrides=working_day_overrides(svc()),
                           changes=working_day_changes(svc(), limit=30), problem=problem, errors=errors or {},
                           values=day or DAY_FORM, schedule=schedule, coverage=coverage, missing=missing,
                           schedules=holiday_schedules(svc())), status


@bp.route("/calendar", methods=["GET", "POST"])
@role_required("admin")
def calendar() -> Any:
    """Working-day overrides, stored and journalled: every worker computes deadlines with them."""
    if request.method == "GET":
        return _calendar_page()
    values = {k: request.form.get(k, "").strip() for k in DAY_FORM}
    try:
        day = dt.date.fromisoformat(values["day"])
    except ValueError:
        return _calendar_page(day=values, problem=translate("admin.bad_date"), status=422,
                              errors={"day": translate("admin.bad_date")})
    try:
        workday = {"work": True, "off": False}.get(values["kind"])
        set_working_day_override(SetWorkingDayOverride(day=day, workday=workday, user_id=admin_id(),
                                                       reason=values["reason"]), svc=svc(), clock=admin_clock())
    except CasetrailError as exc:
        return _calendar_page(day=values, problem=exc.message, status=exc.http_status,
                              errors=exc.errors if isinstance(exc, ValidationError) else {})
    flash(translate("admin.override_saved", day=day.isoformat()), "success")
    return redirect(url_for("admin.calendar"))


@bp.post("/calendar/schedule")
@role_required("admin")
def calendar_schedule() -> Any:
    """A year's announced holiday schedule in one go: its days off, its make-up days, the notice's reference."""
    values = {k: request.form.get(k, "").strip() for k in SCHEDULE_FORM}
    values["complete"] = "1" if request.form.get("complete") else ""
    if not values["year"].isdigit():
        return _calendar_page(schedule=values, problem=translate("calendar.bad_year"), status=422,
                              errors={"year": translate("calendar.bad_year")})
    year, parsed = int(values["year"]), {}
    for name in ("days_off", "workdays"):
        try:
            parsed[name] = parse_days(values[name])
        except ValueError as exc:
            return _calendar_page(schedule=values, problem=str(exc), status=422, errors={name: str(exc)})
    days_off, workdays = parsed["days_off"], parsed["workdays"]
    try:
        command = EnterHolidaySchedule(year=year, days_off=tuple(days_off), workdays=tuple(workdays),
                                       reference=values["reference"], complete=bool(values["complete"]),
                                       user_id=admin_id())
        result = enter_holiday_schedule(command, svc=svc(), clock=admin_clock())
    except CasetrailError as exc:
        return _calendar_page(schedule=values, problem=exc.message, status=exc.http_status,
                              errors=exc.errors if isinstance(exc, ValidationError) else {})
    flash(translate("calendar.schedule_saved", year=year, off=len(result.days_off), work=len(result.workdays),
                    moved=len(result.moved)), "success")
    return redirect(url_for("admin.calendar"))
