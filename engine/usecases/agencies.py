"""Administrators manage the platform's agency tree (issue 16): add, edit, retire an agency, set what the law lets
it set. Each change is one transaction, checked against the whole tree, and journalled in admin_events."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.agencies import agency_value, check_agency, lineage, settings_of, subtree_codes, tree_order
from engine.agency_seals import issue_agency_seal
from engine.db.admin_tables import AdminEventRow
from engine.db.repositories import Users
from engine.db.session import Work
from engine.db.tables import AgencyRow, UserRow
from engine.enums import AgencyLevel
from engine.errors import Conflict, NotFound, ValidationError
from engine.paperwork.context import default_review_agency
from engine.rules.agency_overrides import document_prefixes, setting_value
from engine.rules.agency_settings import DOCUMENT_NUMBERS, check_override
from engine.rules.discretion import DISCRETION_KEY
from engine.rules.settings import Settings
from engine.services import Services
from engine.usecases.access import admin_reach, require_agency_admin
from engine.usecases.users import (
    SERVER_OPERATOR,
    USER_AGENCY_SET,
    account_change_reason,
    administered,
    required_reason,
)
from engine.values import (
    AddAgency,
    AgencyView,
    Clock,
    DeactivateAgency,
    EditAgency,
    SetAgencyAreas,
    SetAgencySetting,
    SetUserAgency,
    UserView,
)
from engine.views import user_view

AGENCY_CODE = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
LEVELS = tuple(AgencyLevel)  # from the top of the tree down
AGENCY_ADDED, AGENCY_EDITED, AGENCY_DEACTIVATED, AGENCY_SETTING, AGENCY_AREAS = (
    "agency_added", "agency_edited", "agency_deactivated", "agency_setting", "agency_areas")
# Where an agency's territory is kept: its settings, beside what the law lets it set (not inherited: the rules
# add those of the agencies below it instead, engine/rules/jurisdiction.py `territory`).
AREAS_KEY = "areas"
AREA_LIMIT, AREAS_MAX = 50, 100
_REFUSAL = "只有系统管理员可以管理机构 (only an administrator manages agencies)"
_TEXT_LIMITS = {"name": 100, "short": 20, "case_number_prefix": 32, "penalty_number_prefix": 32,
                "review_agency": 100, "court": 100}


def add_agency(cmd: AddAgency, *, svc: Services, clock: Clock) -> AgencyView:
    """A new agency below an existing, active one, one level down or more (a city below the province, a
    district below a city); its code and every prefix it numbers with are new on the platform."""
    errors = _text_problems({"name": cmd.name, "short": cmd.short, "case_number_prefix": cmd.case_number_prefix,
                             "penalty_number_prefix": cmd.penalty_number_prefix, "review_agency": cmd.review_agency,
                             "court": cmd.court}, required=("name", "short", "case_number_prefix",
                                                            "penalty_number_prefix"))
    if not AGENCY_CODE.match(cmd.code):
        errors["code"] = "机构代码须为小写字母开头的字母、数字、- (2–32 chars: a-z, 0-9, -)"
    if cmd.level not in LEVELS:
        errors["level"] = f"未知层级 (unknown level): {cmd.level} ({', '.join(LEVELS)})"
    if errors:
        raise ValidationError("机构信息有误 (invalid agency)", errors)
    now = clock()
    with svc.uow.read() as session:  # the refusals an administrator can fix, before a key is made for nothing
        _new_agency(session, svc.settings, cmd, now, lock=False)
    added: list[AgencyView] = []

    def insert(session: Session) -> None:
        # Checked again in the transaction that writes it: another administrator may have added the code since.
        row = _new_agency(session, svc.settings, cmd, now, lock=True)
        session.add(row)
        session.add(AdminEventRow(kind=AGENCY_ADDED, subject=row.code, actor=cmd.by, at=now,
                                  detail={"parent": row.parent_code, "level": row.level, "name": row.name}))
        session.flush()
        added.append(_view(session, svc.settings, row))

    # Its own seal from the platform CA, for its 告知书 and 决定书 (engine/agency_seals.py), in the agency's own
    # transaction: an agency is never added without its seal, nor a seal key left for an agency that is not.
    issue_agency_seal(svc, cmd.code, cmd.name.strip(), now=now, with_seal=insert)
    return added[0]


def _new_agency(session: Session, settings: Settings, cmd: AddAgency, now: dt.datetime, *, lock: bool) -> AgencyRow:
    """The agency's row as `cmd` adds it, once the administrator, the code, the parent, the level and the
    prefixes are checked against the tree (`lock`: the parent locked, in the transaction that adds it)."""
    # Below the administrator's own agency or one under it only (issue 16): a district's administrator adds
    # its 派出 units, never an agency under the neighbouring district.
    require_agency_admin(session, cmd.by, cmd.parent_code, _REFUSAL)
    if session.get(AgencyRow, cmd.code) is not None:
        raise Conflict(f"机构代码已存在 (agency exists): {cmd.code}")
    parent = session.get(AgencyRow, cmd.parent_code, with_for_update=lock)
    if parent is None or not parent.active:
        raise ValidationError("机构信息有误 (invalid agency)",
                              {"parent": f"上级机构不存在或已停用 (no such active agency): {cmd.parent_code}"})
    if LEVELS.index(AgencyLevel(cmd.level)) <= LEVELS.index(AgencyLevel(parent.level)):
        raise ValidationError("机构信息有误 (invalid agency)", {
            "level": f"下级机构的层级须低于上级 ({parent.level}) (an agency sits below its parent's level)"})
    row = AgencyRow(code=cmd.code, name=cmd.name.strip(), short=cmd.short.strip(), parent_code=parent.code,
                    level=cmd.level, case_number_prefix=cmd.case_number_prefix.strip(),
                    penalty_number_prefix=cmd.penalty_number_prefix.strip(),
                    # 行政复议法 第二十四条: 本级人民政府, derived from the name unless given (the 文书 print it).
                    review_agency=cmd.review_agency.strip() or default_review_agency(cmd.name.strip()),
                    court=cmd.court.strip(), settings={}, active=True,
                    created_at=now)
    _check_prefixes_unique(session, settings, row)
    return row


def edit_agency(cmd: EditAgency, *, svc: Services, clock: Clock) -> AgencyView:
    """New name, 简称, prefixes, 复议机关 or court: cases opened from now on print and number with them; the
    文书 already signed keep what they print."""
    changes = {k: v.strip() for k, v in {"name": cmd.name, "short": cmd.short,
                                          "case_number_prefix": cmd.case_number_prefix,
                                          "penalty_number_prefix": cmd.penalty_number_prefix,
                                          "review_agency": cmd.review_agency, "court": cmd.court}.items()
               if v is not None}
    errors = _text_problems(changes, required=[k for k in ("name", "short", "case_number_prefix",
                                                            "penalty_number_prefix") if k in changes])
    if errors:
        raise ValidationError("机构信息有误 (invalid agency)", errors)
    now = clock()
    with svc.uow() as work:
        session = work.session
        require_agency_admin(session, cmd.by, cmd.code, _REFUSAL)
        row = _get(session, cmd.code, lock=True)
        before = {k: getattr(row, k) for k in changes if getattr(row, k) != changes[k]}
        if not before:
            raise Conflict(f"机构信息未改变 (nothing changes): {cmd.code}")
        for key in before:
            setattr(row, key, changes[key])
        _check_prefixes_unique(session, svc.settings, row)
        return _journalled(work, svc, row, AGENCY_EDITED, by=cmd.by, at=now, detail={"before": before, "after": {k: changes[k] for k in before}})


def deactivate_agency(cmd: DeactivateAgency, *, svc: Services, clock: Clock) -> AgencyView:
    """Retire an agency (merged, abolished): no users or agencies are added to it any more. Refused for the
    home agency, and while an active agency or an active user is still below or in it (move them first)."""
    reason = required_reason(cmd.reason)
    now = clock()
    with svc.uow() as work:
        session = work.session
        require_agency_admin(session, cmd.by, cmd.code, _REFUSAL)
        row = _get(session, cmd.code, lock=True)
        if not row.active:
            raise Conflict(f"机构已停用 (already inactive): {row.code}")
        if row.parent_code is None:
            raise Conflict("平台本级机构不能停用 (the platform's home agency cannot be retired)")
        children = session.scalars(select(AgencyRow.code).where(AgencyRow.parent_code == row.code,
                                                                AgencyRow.active.is_(True))).all()
        if children:
            raise Conflict(f"机构下仍有启用的下级机构 (active agencies below it): {', '.join(children)}")
        users = session.scalars(select(UserRow.id).where(UserRow.agency_code == row.code, UserRow.active.is_(True))
                                .limit(5)).all()
        if users:
            raise Conflict(f"机构仍有启用的用户 (active users still belong to it): {', '.join(users)}")
        row.active = False
        return _journalled(work, svc, row, AGENCY_DEACTIVATED, by=cmd.by, at=now, detail={"reason": reason})


def set_agency_setting(cmd: SetAgencySetting, *, svc: Services, clock: Clock) -> AgencyView:
    """Set (or, `value` None, clear) what the law lets an agency set; the agencies below it inherit it unless
    they set it themselves. Cases already open keep the settings they started with (the model's copy)."""
    key = cmd.key.strip()
    value = checked_setting(svc, key, cmd.value)
    now = clock()
    with svc.uow() as work:
        session = work.session
        require_agency_admin(session, cmd.by, cmd.code, _REFUSAL)
        row = _get(session, cmd.code, lock=True)
        own = dict(row.settings or {})
        before = own.get(key)
        if value is None:
            if key not in own:
                raise Conflict(f"{row.code} 未设定 {key} (not set)")
            own.pop(key)
        else:
            own[key] = value
        row.settings = own
        if key.startswith(DOCUMENT_NUMBERS):
            _check_prefixes_unique(session, svc.settings, row)
        return _journalled(work, svc, row, AGENCY_SETTING, by=cmd.by, at=now, detail={"key": key, "before": before, "after": value})


def set_agency_areas(cmd: SetAgencyAreas, *, svc: Services, clock: Clock) -> AgencyView:
    """The place names of an agency's own territory (地域管辖): the hand-over's jurisdiction rules read them, with
    those of the agencies below it (engine/rules/jurisdiction.py `territory`). Set by an administrator of the
    agency or of one above it; the names given replace those before. A name another active agency outside its
    line (neither above nor below it) already holds is refused: two agencies side by side with one territory
    would both receive the same hand-over."""
    areas = checked_areas(cmd.areas)
    now = clock()
    with svc.uow() as work:
        session = work.session
        require_agency_admin(session, cmd.by, cmd.code, _REFUSAL)
        row = _get(session, cmd.code, lock=True)
        own = dict(row.settings or {})
        before = [str(a) for a in own.get(AREAS_KEY, ())]
        if before == list(areas):
            raise Conflict(f"{row.code} 的辖区未改变 (the territory does not change)")
        _check_areas_free(session, row.code, areas)
        if areas:
            own[AREAS_KEY] = list(areas)
        else:
            own.pop(AREAS_KEY, None)
        row.settings = own
        return _journalled(work, svc, row, AGENCY_AREAS, by=cmd.by, at=now, detail={"before": before, "after": list(areas)})


def _journalled(work: Work, svc: Services, row: AgencyRow, kind: str, *, by: str | None, at: dt.datetime,
                detail: dict[str, Any]) -> AgencyView:
    """The change to `row` journalled in admin_events and committed with it; the agency as it now reads."""
    work.session.add(AdminEventRow(kind=kind, subject=row.code, actor=by, at=at, detail=detail))
    work.session.flush()
    view = _view(work.session, svc.settings, row)
    work.commit()
    return view


def checked_areas(raw: Iterable[str]) -> tuple[str, ...]:
    """The place names as stored: trimmed, each once, in the order given; ValidationError for an over-long name
    or too many (an empty entry is dropped: a form's blank line)."""
    areas = tuple(dict.fromkeys(a.strip() for a in raw if a.strip()))
    long = [a for a in areas if len(a) > AREA_LIMIT]
    if long:
        raise ValidationError("辖区有误 (invalid territory)", {AREAS_KEY: (
            f"地名不超过 {AREA_LIMIT} 个字符 (a place name has at most {AREA_LIMIT} characters): {long[0][:AREA_LIMIT]}…")})
    if len(areas) > AREAS_MAX:
        raise ValidationError("辖区有误 (invalid territory)", {AREAS_KEY: (
            f"最多 {AREAS_MAX} 个地名，下辖区域请在下级机构设定 (at most {AREAS_MAX} place names; set those of the "
            "agencies below on them)")})
    return areas


def _check_areas_free(session: Session, code: str, areas: tuple[str, ...]) -> None:
    if not areas:
        return
    line = {r.code for r in lineage(session, code)} | set(subtree_codes(session, code))
    for other in session.scalars(select(AgencyRow).where(AgencyRow.active.is_(True)).order_by(AgencyRow.code)):
        shared = [a for a in (other.settings or {}).get(AREAS_KEY, ()) if a in areas]
        if other.code not in line and shared:
            raise Conflict(f"地名 {'、'.join(shared)} 已属机构 {other.code} 的辖区 (already in the territory of "
                           f"{other.code}, which is neither above nor below {code})")


def checked_setting(svc: Services, key: str, raw: str | None) -> object:
    """The value an agency may set for `key` (None: inherit again); ValidationError naming the article or the
    allow-list otherwise. A caller setting several checks them all first, so that a bad one writes none."""
    settings = svc.settings
    if key.startswith(DOCUMENT_NUMBERS):
        kind = key[len(DOCUMENT_NUMBERS):]
        if kind not in settings.document_numbers:
            raise ValidationError("机构设置有误 (invalid agency setting)", {
                key: f"未知文书种类 (unknown document kind; known: {', '.join(sorted(settings.document_numbers))})"})
        value = None if raw is None else raw.strip()
        if value is not None and not 1 <= len(value) <= 32:
            raise ValidationError("机构设置有误 (invalid agency setting)", {key: "文号前缀须为 1–32 个字符 (1-32 chars)"})
        return value
    value = None if raw is None else check_override(settings.agency_settings, key, raw)
    if key == DISCRETION_KEY and value is not None:
        _check_benchmark(svc, str(value))
    return value


def published_benchmarks(svc: Services) -> dict[str, str]:
    """The 裁量基准 the current model publishes, id -> published name: what an agency may adopt (empty before a
    model is stored or without settings.json `discretion`)."""
    from engine.spiff.benchmarks import published

    policy = svc.settings.discretion
    if policy is None:
        return {}
    with svc.uow.read() as session:
        try:
            definition = svc.definition(session, svc.current_definition_id(session))
        except NotFound:
            return {}
    return published(definition, policy)


def _check_benchmark(svc: Services, benchmark: str) -> None:
    """A 裁量基准 an agency adopts is one the current model publishes, every row within the law's ranges
    (《行政处罚法》第三十四条: the benchmark refines the statutory range, engine/spiff/benchmarks.py)."""
    from engine.spiff.benchmarks import BenchmarkOutsideTheLaw, check_within_law, published

    policy = svc.settings.discretion
    assert policy is not None  # the allow-list names the key only with settings.json `discretion`
    with svc.uow.read() as session:
        definition = svc.definition(session, svc.current_definition_id(session))
    names = published(definition, policy)
    if benchmark not in names:
        raise ValidationError("机构设置值有误 (invalid agency setting)", {DISCRETION_KEY: (
            f"流程未公布此裁量基准 (the model publishes no benchmark {benchmark}; {policy.basis}); 可选 (published): "
            f"{', '.join(f'{k}（{v}）' for k, v in names.items()) or '-'}")})
    try:
        check_within_law(definition, policy, settings=svc.settings, calendar=svc.calendar, only=benchmark)
    except BenchmarkOutsideTheLaw as exc:
        raise ValidationError("裁量基准超出法定幅度 (the benchmark breaks the statutory range)",
                              {DISCRETION_KEY: str(exc)}) from exc


def set_user_agency(cmd: SetUserAgency, *, svc: Services, clock: Clock) -> UserView:
    """Put a person in another active agency; journalled with who, why and the agency before. An administrator
    moves only a person of their agency or below into such an agency (issue 16); the server's command line
    (`by` None) any."""
    now = clock()
    with svc.uow() as work:
        session = work.session
        row = administered(session, cmd.by, cmd.user_id, lock=True)
        reason = account_change_reason(cmd.by, cmd.reason)
        agency = check_agency(session, cmd.agency_code.strip())
        if cmd.by is not None:  # from a person the administrator administers into an agency they administer
            require_agency_admin(session, cmd.by, agency.code, _REFUSAL)
        if row.agency_code == agency.code:
            raise Conflict(f"{row.id} 已属于 {agency.code} (already in that agency)")
        before, row.agency_code = row.agency_code, agency.code
        session.add(AdminEventRow(kind=USER_AGENCY_SET, subject=row.id, actor=cmd.by or SERVER_OPERATOR, at=now,
                                  detail={"reason": reason, "before": before, "after": agency.code}))
        work.commit()
        return user_view(row)


def list_agencies(svc: Services, viewer_id: str | None = None) -> list[AgencyView]:
    """Every agency in tree order (depth first, children by code), with its depth in the whole tree; with
    `viewer_id`, only those the administrator administers (`admin_reach`: their agency and those below it, a
    platform administrator's all; nobody else's any). None: the server's command line, all."""
    with svc.uow.read() as session:
        reach = None if viewer_id is None else admin_reach(session, Users(session).active(viewer_id))
        rows = {r.code: r for r in session.scalars(select(AgencyRow))}
        order = tree_order([(c, r.parent_code) for c, r in rows.items()])
        depth: dict[str, int] = {}
        views = []
        for code in order:
            row = rows[code]
            depth[code] = depth.get(row.parent_code or "", -1) + 1
            if reach is None or code in reach:
                views.append(_plain_view(row, depth[code]))
        return views


def agency_detail(svc: Services, code: str, viewer_id: str | None = None) -> AgencyView:
    """One agency with its own settings, what its cases run with (inherited) and its 文号 prefixes. With
    `viewer_id`, Forbidden unless they administer it (an administrator of it or of an agency above it)."""
    with svc.uow.read() as session:
        if viewer_id is not None:
            require_agency_admin(session, viewer_id, code, _REFUSAL)
        return _view(session, svc.settings, _get(session, code))


def agency_codes(svc: Services, viewer_id: str | None = None, *, active: bool = True) -> list[tuple[str, str]]:
    """(code, name) of the agencies a person may be put in, in tree order: for pickers (with `viewer_id`, those
    the administrator administers only, as `list_agencies`)."""
    return [(v.code, v.name) for v in list_agencies(svc, viewer_id) if v.active or not active]


def _get(session: Session, code: str, *, lock: bool = False) -> AgencyRow:
    row = session.get(AgencyRow, code, with_for_update=lock)
    if row is None:
        raise NotFound(f"机构不存在 (no such agency): {code}")
    return row


def _text_problems(values: dict[str, str], *, required: Iterable[str]) -> dict[str, str]:
    errors = {k: "不能为空 (required)" for k in required if not values.get(k, "").strip()}
    errors.update({k: f"不超过 {_TEXT_LIMITS[k]} 个字符 (at most {_TEXT_LIMITS[k]} characters)"
                   for k, v in values.items() if len(v.strip()) > _TEXT_LIMITS[k]})
    return errors


def _numbering(settings: Settings, row: AgencyRow) -> set[str]:
    """Every prefix `row` numbers with: its case and penalty prefixes and its 文号 prefixes."""
    agency = agency_value(row, settings)
    return {row.case_number_prefix, row.penalty_number_prefix,
            *document_prefixes(settings, agency, row.settings or {}).values()}


def _check_prefixes_unique(session: Session, settings: Settings, row: AgencyRow) -> None:
    """Numbers run per prefix and year (engine/numbering.py): two agencies sharing a prefix would share a
    sequence, and their case numbers and 文号 could not tell them apart. The 简称 too, which the 文号 derive from."""
    mine = _numbering(settings, row)
    for other in session.scalars(select(AgencyRow).where(AgencyRow.code != row.code)):
        shared = mine & _numbering(settings, other)
        if shared or other.short == row.short:
            raise Conflict(f"编号前缀或简称与机构 {other.code} 重复 (a prefix or the short name is {other.code}'s): "
                           f"{', '.join(sorted(shared)) or row.short}")


def _plain_view(row: AgencyRow, depth: int = 0) -> AgencyView:
    return AgencyView(code=row.code, name=row.name, short=row.short, parent_code=row.parent_code, level=row.level,
                      case_number_prefix=row.case_number_prefix, penalty_number_prefix=row.penalty_number_prefix,
                      review_agency=row.review_agency, court=row.court, active=row.active, depth=depth,
                      settings=dict(row.settings or {}))


def _view(session: Session, settings: Settings, row: AgencyRow) -> AgencyView:
    chain = lineage(session, row.code)
    chain[-1] = row  # as changed in this transaction
    effective = settings_of(settings, chain)
    values = {key: setting_value(effective, key) for key in settings.agency_settings}
    plain = _plain_view(row, len(chain) - 1)
    return AgencyView(**{**plain.__dict__, "effective": values, "document_numbers": dict(effective.document_numbers)})
