"""Administration of the platform's agency tree (issue 16): the tree, adding an agency, one agency's page with its
details, the settings the law lets it set, its territory, and retiring it. Every change goes through an engine use case that
checks the administrator again and journals it; forms carry the CSRF token."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine import (
    AddAgency,
    AgencyLevel,
    CasetrailError,
    DeactivateAgency,
    EditAgency,
    SetAgencyAreas,
    SetAgencySetting,
    add_agency,
    agency_detail,
    deactivate_agency,
    edit_agency,
    list_agencies,
    published_benchmarks,
    set_agency_areas,
    set_agency_setting,
)
from web.admin import admin_clock, admin_id, refused_form
from web.i18n import translate
from web.security import role_required, svc

bp = Blueprint("agencies", __name__, url_prefix="/admin/agencies")

FIELDS = ("code", "name", "short", "parent_code", "level", "case_number_prefix", "penalty_number_prefix",
          "review_agency", "court")
EDITABLE = ("name", "short", "case_number_prefix", "penalty_number_prefix", "review_agency", "court")
# What parts the place names typed in the territory's box: a line, or a comma or 、 within one (no place name
# holds them), so that "西山区、东山区" is two places, not one no address would ever contain.
AREA_SEPARATORS = re.compile(r"[\r\n,，、]+")


def _tree_page(values: dict[str, str], errors: dict[str, str], problem: str | None = None) -> str:
    return render_template("admin/agencies.html", agencies=list_agencies(svc(), admin_id()), levels=[v.value for v in AgencyLevel],
                           values=values, errors=errors, problem=problem)


@bp.get("")
@role_required("admin")
def tree() -> Any:
    return _tree_page({}, {})


@bp.post("")
@role_required("admin")
def create() -> Any:
    values = {k: request.form.get(k, "").strip() for k in FIELDS}
    try:
        view = add_agency(AddAgency(**values, by=admin_id()), svc=svc(), clock=admin_clock())
    except CasetrailError as exc:  # a seal that cannot be written too: nothing was added (engine/agency_seals.py)
        return refused_form(exc, lambda problem, errors: _tree_page(values, errors, problem), fields=_fields)
    flash(translate("agency.added", code=view.code), "success")
    return redirect(url_for("agencies.agency", agency_code=view.code))


def _fields(errors: dict[str, str]) -> dict[str, str]:
    """The engine names the parent `parent`; the form's field is parent_code."""
    return {("parent_code" if k == "parent" else k): v for k, v in errors.items()}


def _agency_page(code: str, *, problem: str | None = None, errors: dict[str, str] | None = None,
                 values: dict[str, str] | None = None) -> str:
    allowed = svc().settings.agency_settings
    return render_template("admin/agency.html", agency=agency_detail(svc(), code, admin_id()), allowed=allowed,
                           benchmarks=published_benchmarks(svc()), problem=problem, errors=errors or {},
                           values=values or {})


@bp.route("/<agency_code>", methods=["GET", "POST"])
@role_required("admin")
def agency(agency_code: str) -> Any:
    """The agency's page; POST: its details changed (name, 简称, prefixes, 复议机关, court)."""
    if request.method == "GET":
        return _agency_page(agency_code)
    values = {k: request.form.get(k, "").strip() for k in EDITABLE}
    try:
        edit_agency(EditAgency(code=agency_code, by=admin_id(), **values), svc=svc(), clock=admin_clock())
    except CasetrailError as exc:
        return refused_form(exc, lambda problem, errors: _agency_page(agency_code, problem=problem, errors=errors,
                                                                      values=values))
    flash(translate("agency.changed", code=agency_code), "success")
    return redirect(url_for("agencies.agency", agency_code=agency_code))


@bp.post("/<agency_code>/settings")
@role_required("admin")
def set_setting(agency_code: str) -> Any:
    """One setting the law lets the agency set; an empty value inherits again."""
    key, value = request.form.get("key", "").strip(), request.form.get("value", "").strip()
    try:
        set_agency_setting(SetAgencySetting(code=agency_code, key=key, value=value or None, by=admin_id()),
                           svc=svc(), clock=admin_clock())
    except CasetrailError as exc:
        return _refused(agency_code, exc, fields=lambda errors: {"setting": "; ".join(errors.values())})
    flash(translate("agency.setting_set", code=agency_code, setting=key), "success")
    return redirect(url_for("agencies.agency", agency_code=agency_code))


@bp.post("/<agency_code>/areas")
@role_required("admin")
def set_areas(agency_code: str) -> Any:
    """The place names of the agency's territory, one a line (commas and 、 part them too); empty: none."""
    typed = request.form.get("areas", "")
    areas = tuple(AREA_SEPARATORS.split(typed))
    try:
        set_agency_areas(SetAgencyAreas(code=agency_code, areas=areas, by=admin_id()), svc=svc(), clock=admin_clock())
    except CasetrailError as exc:
        return refused_form(exc, lambda problem, errors: _agency_page(
            agency_code, problem=problem, errors=errors, values={"areas": typed}))
    flash(translate("agency.areas_set", code=agency_code), "success")
    return redirect(url_for("agencies.agency", agency_code=agency_code))


@bp.post("/<agency_code>/deactivate")
@role_required("admin")
def deactivate(agency_code: str) -> Any:
    try:
        deactivate_agency(DeactivateAgency(code=agency_code, by=admin_id(), reason=request.form.get("reason", "")),
                          svc=svc(), clock=admin_clock())
    except CasetrailError as exc:
        return _refused(agency_code, exc)
    flash(translate("agency.deactivated", code=agency_code), "success")
    return redirect(url_for("agencies.agency", agency_code=agency_code))


def _refused(agency_code: str, exc: CasetrailError, **options: Any) -> tuple[str, int]:
    """A refusal shown on the agency's page (web/admin.py `refused_form`)."""
    return refused_form(exc, lambda problem, errors: _agency_page(agency_code, problem=problem, errors=errors),
                        **options)
