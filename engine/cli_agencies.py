"""`casetrail agency …`: the platform's agency tree (issue 16) — add, list, show, edit, set what the law lets an
agency set, set its territory, retire. Every change names the administrator (`--user`), who the engine checks and journals."""

from __future__ import annotations

import click

from engine.cli_support import current_clock, emit, handle_errors, services
from engine.enums import AgencyLevel
from engine.errors import ValidationError
from engine.values import (
    AddAgency,
    AgencyView,
    DeactivateAgency,
    EditAgency,
    SetAgencyAreas,
    SetAgencySetting,
)

ADMIN_OPTION = click.option("--user", "by", required=True, help="the administrator making the change (journalled)")


@click.group()
def agency() -> None:
    """The platform's agencies: province, cities, districts and their 派出 units."""


@agency.command("add")
@click.argument("code")
@click.option("--name", required=True, help="全称, e.g. 呈州市和平区卫生健康局")
@click.option("--short", required=True, help="简称 of its 文号, e.g. 和卫")
@click.option("--parent", "parent", required=True, help="the code of the agency above it")
@click.option("--level", required=True, type=click.Choice([level.value for level in AgencyLevel]))
@click.option("--case-prefix", required=True, help="case number prefix, e.g. 和卫投")
@click.option("--penalty-prefix", required=True, help="penalty decision number prefix, e.g. 和卫罚")
@click.option("--review-agency", default="", help="行政复议机关 (default: derived from the name)")
@click.option("--court", default="", help="the court named for 行政诉讼")
@ADMIN_OPTION
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def agency_add(code: str, name: str, short: str, parent: str, level: str, case_prefix: str, penalty_prefix: str,
               review_agency: str, court: str, by: str, as_json: bool) -> None:
    """Add an agency below an existing one."""
    from engine.usecases.agencies import add_agency

    view = add_agency(AddAgency(code=code, name=name, short=short, parent_code=parent, level=level,
                                case_number_prefix=case_prefix, penalty_number_prefix=penalty_prefix,
                                review_agency=review_agency, court=court, by=by), svc=services(), clock=current_clock())
    emit(view.to_json(), as_json, lambda: click.echo(f"agency {view.code} {view.name} added below {view.parent_code}"))


@agency.command("list")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def agency_list(as_json: bool) -> None:
    """Every agency in tree order, indented by depth."""
    from engine.usecases.agencies import list_agencies

    views = list_agencies(services())
    emit([v.to_json() for v in views], as_json, lambda: [click.echo(_line(v)) for v in views])


def _line(view: AgencyView) -> str:
    retired = "" if view.active else "  (inactive)"
    return (f"{'  ' * view.depth}{view.code}  {view.name}  [{view.level}]  "
            f"{view.case_number_prefix} / {view.penalty_number_prefix}{retired}")


@agency.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def agency_show(code: str, as_json: bool) -> None:
    """One agency: where it sits, its prefixes, its own settings and what its cases run with."""
    from engine.usecases.agencies import agency_detail

    view = agency_detail(services(), code)

    def text() -> None:
        click.echo(f"{view.code}  {view.name} ({view.short})  [{view.level}]  parent: {view.parent_code or '—'}"
                   f"{'' if view.active else '  (inactive)'}")
        click.echo(f"case numbers {view.case_number_prefix}, penalty decisions {view.penalty_number_prefix}")
        click.echo(f"复议机关 {view.review_agency or '—'}; court {view.court or '—'}")
        click.echo(f"辖区 (areas) {'、'.join(view.areas) or '—'}")
        for key, value in view.effective.items():
            own = " (own)" if key in view.settings else ""
            click.echo(f"  {key} = {value}{own}")
        for kind, prefix in view.document_numbers.items():
            click.echo(f"  文号 {kind}: {prefix}")

    emit(view.to_json(), as_json, text)


@agency.command("edit")
@click.argument("code")
@click.option("--name", default=None)
@click.option("--short", default=None)
@click.option("--case-prefix", default=None)
@click.option("--penalty-prefix", default=None)
@click.option("--review-agency", default=None)
@click.option("--court", default=None)
@ADMIN_OPTION
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def agency_edit(code: str, name: str | None, short: str | None, case_prefix: str | None,
                penalty_prefix: str | None, review_agency: str | None, court: str | None, by: str,
                as_json: bool) -> None:
    """Change an agency's name, 简称, prefixes, 复议机关 or court (for cases opened from now on)."""
    from engine.usecases.agencies import edit_agency

    view = edit_agency(EditAgency(code=code, by=by, name=name, short=short, case_number_prefix=case_prefix,
                                  penalty_number_prefix=penalty_prefix, review_agency=review_agency, court=court),
                       svc=services(), clock=current_clock())
    emit(view.to_json(), as_json, lambda: click.echo(f"agency {view.code} changed"))


@agency.command("set")
@click.argument("code")
@click.option("--setting", "settings", multiple=True, required=True,
              help="KEY=VALUE (repeatable; an empty VALUE inherits again): a key of settings.json agency_settings, "
                   "or document_numbers.<kind>")
@ADMIN_OPTION
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def agency_set(code: str, settings: tuple[str, ...], by: str, as_json: bool) -> None:
    """Set what the law lets an agency set for itself and those below it; each setting is its own change."""
    from engine.usecases.agencies import checked_setting, set_agency_setting

    pairs = []
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError("设置格式须为 KEY=VALUE (a setting is KEY=VALUE)", {"setting": item})
        pairs.append((key.strip(), value.strip() or None))
    for key, value in pairs:  # all checked before any is written
        checked_setting(services(), key, value)
    view = None
    for key, value in pairs:
        view = set_agency_setting(SetAgencySetting(code=code, key=key, value=value, by=by), svc=services(),
                                  clock=current_clock())
    assert view is not None
    emit(view.to_json(), as_json, lambda: click.echo(
        "; ".join(f"{code} {k} = {view.effective.get(k, view.document_numbers.get(k.partition('.')[2]))}"
                  for k, _ in pairs)))


@agency.command("areas")
@click.argument("code")
@click.option("--set", "areas", multiple=True, metavar="PLACE",
              help="a place name of its territory, e.g. 西山区 (repeatable; replaces those before)")
@click.option("--clear", is_flag=True, help="no territory of its own (those of the agencies below it still count)")
@ADMIN_OPTION
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def agency_areas(code: str, areas: tuple[str, ...], clear: bool, by: str, as_json: bool) -> None:
    """Set the place names of an agency's territory, which the hand-over's jurisdiction rules read (地域管辖)."""
    from engine.usecases.agencies import set_agency_areas

    if bool(areas) == clear:  # both or neither: say which is meant rather than guess
        raise ValidationError("请给出辖区地名 (--set) 或 --clear，二者选一 (give the place names, --set, or --clear: one "
                              "of them)", {"areas": "--set PLACE … | --clear"})
    view = set_agency_areas(SetAgencyAreas(code=code, areas=areas, by=by), svc=services(), clock=current_clock())
    emit(view.to_json(), as_json, lambda: click.echo(f"{view.code} 辖区 (areas): {'、'.join(view.areas) or '—'}"))


@agency.command("deactivate")
@click.argument("code")
@click.option("--reason", required=True, help="why (journalled)")
@ADMIN_OPTION
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def agency_deactivate(code: str, reason: str, by: str, as_json: bool) -> None:
    """Retire an agency with nobody active left in or below it; its cases stay its."""
    from engine.usecases.agencies import deactivate_agency

    view = deactivate_agency(DeactivateAgency(code=code, by=by, reason=reason), svc=services(), clock=current_clock())
    emit(view.to_json(), as_json, lambda: click.echo(f"agency {view.code} deactivated"))
