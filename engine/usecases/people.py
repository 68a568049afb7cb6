"""People are chosen, not typed: who is eligible for a role on a day (and in a case), and the check of a form's
person fields (x-person) against it. The rules are engine/rules/people.py; this module reads the users.

`eligible` is the one list the pickers show, the CLI and the JSON API are checked against, and other use cases
(a head's reassignment) offer: an active user of the role, with a valid 执法证 where the role needs one
(settings.json `people`), not barred from the case by the model's separation of duties (回避).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.admin_tables import AdminEventRow
from engine.db.repositories import Users
from engine.db.tables import AgencyRow, CaseRow, TaskRow, TaskUserRow, UserRoleRow, UserRow
from engine.enums import TaskStatus
from engine.errors import Forbidden, NotFound, ValidationError
from engine.rules.duties import reaches
from engine.rules.people import (
    PeoplePolicy,
    Person,
    PersonField,
    cert_no_or_none,
    certificate_problems,
    chosen_ids,
    invited_across_agencies,
    person_fields,
    refusal,
    roles_invited_across_agencies,
)
from engine.rules.settings import load_settings
from engine.services import Services
from engine.usecases.access import person_of, seen_case
from engine.usecases.tasksync import excluded_users
from engine.usecases.users import CERTIFICATE_SET, SERVER_OPERATOR, account_change_reason, administered
from engine.values import Clock, SetUserCertificate, UserView
from engine.views import user_view

STAND_ASIDE = "stand_aside"  # x-person: false when the model's 回避 rules do not apply (a head's reminder)


def set_user_certificate(cmd: SetUserCertificate, *, svc: Services, clock: Clock) -> UserView:
    """An administrator records (or clears) a user's 执法证号 and its last valid day: from the next step on, a
    lapsed or missing certificate keeps the user out of every officer picker and the engine refuses them
    (行政处罚法 第四十二条). Journalled with who and why (the server's command line needs no reason)."""
    problems = certificate_problems(cmd.cert_no, cmd.valid_until)
    if problems:
        raise ValidationError("执法证信息有误 (invalid enforcement certificate)", problems)
    number = cert_no_or_none(cmd.cert_no)
    until = cmd.valid_until if number else None
    now = clock()
    with svc.uow() as work:
        session = work.session
        row = administered(session, cmd.by, cmd.user_id, lock=True)
        reason = account_change_reason(cmd.by, cmd.reason)
        before = {"cert_no": row.cert_no, "valid_until": _iso(row.cert_valid_until)}
        row.cert_no, row.cert_valid_until = number, until
        session.add(AdminEventRow(kind=CERTIFICATE_SET, subject=row.id, actor=cmd.by or SERVER_OPERATOR, at=now,
                                  detail={"reason": reason, "before": before, "cert_no": number,
                                          "valid_until": _iso(until)}))
        work.commit()
        return user_view(row)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _person(row: UserRow) -> Person:
    return Person(id=row.id, name=row.name, unit=row.unit, cert_no=row.cert_no, cert_valid_until=row.cert_valid_until,
                  roles=frozenset(r.role for r in row.roles), active=row.active, agency=row.agency_code)


def people_by_id(session: Session, user_ids: Iterable[str]) -> dict[str, Person]:
    """The named users as `Person`s (unknown ids are absent)."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    return {row.id: _person(row) for row in session.scalars(select(UserRow).where(UserRow.id.in_(wanted)))}


def eligible(s: Session, *, role: str, on: dt.date, case_id: int | None = None, barred: Iterable[str] = (),
             policy: PeoplePolicy | None = None, agency: str | None = None) -> list[Person]:
    """Who may be chosen for `role` on day `on`, by name: active, holding the role, certified on `on` if the role
    needs it (`policy`: the settings' `people`; the shipped settings when None). With `case_id`: of the case's
    agency, not barred from the role's steps of that case (the users the model's 回避 rules marked on its tasks
    of the role), nor among `barred` (what the caller derived from the model for a step not open yet). With
    `agency` (and no case): of that agency; with neither, of every agency (an administrator's overview). A role
    invited across agencies (a 合议 member's, engine/rules/people.py) is of any agency, as its picker offers."""
    policy = policy or load_settings().people
    out = set(barred)
    if case_id is not None:
        out.update(s.scalars(select(TaskUserRow.user_id).join(TaskRow, TaskRow.id == TaskUserRow.task_id)
                             .where(TaskRow.case_id == case_id, TaskRow.role == role, TaskUserRow.kind == "excluded")))
        agency = s.scalar(select(CaseRow.agency_code).where(CaseRow.id == case_id))
    if roles_invited_across_agencies(frozenset({role})):
        agency = None
    return _eligible(s, frozenset({role}), on=on, barred=frozenset(out), certified=policy.needs_certificate({role}),
                     agency=agency)


def eligible_people(svc: Services, *, role: str, on: dt.date, case_ref: str | None = None, agency: str | None = None,
                    viewer_id: str | None = None) -> list[Person]:
    """`casetrail user eligible`: whom a picker for `role` offers, scoped as the pages' pickers are — for a case
    (`case_ref`), its agency's people not barred from it; else the people of `agency` (default: the viewer's
    agency, without a viewer the home agency); of any agency for a role invited across agencies (合议 members).
    With `viewer_id`: the case must be one they may see, the agency one they may read (their own, or a
    supervisor's or an auditor's reach); Forbidden otherwise. Without: the server's operator, who reads all."""
    if case_ref is not None and agency is not None:
        raise ValidationError("只能给出案件或机构之一 (give a case or an agency, not both)",
                              {"agency": "案件已确定机构 (the case names its agency)"})
    with svc.uow.read() as session:
        if case_ref is not None:
            case, _, _ = seen_case(session, case_ref, viewer_id)
            return eligible(session, role=role, on=on, case_id=case.id, policy=svc.settings.people)
        viewer = None if viewer_id is None else person_of(Users(session).active(viewer_id))
        code = agency or (viewer.agency if viewer is not None else svc.settings.agency.code)
        if session.get(AgencyRow, code) is None:
            raise NotFound(f"机构不存在 (no such agency): {code}")
        if viewer is not None and not reaches(viewer, code):
            raise Forbidden(f"{viewer.id} 无权查看机构 {code} 的人员 (the people of agency {code} are not {viewer.id}'s "
                            "to read: their own agency's, or a supervisor's or an auditor's agencies below theirs)")
        return eligible(session, role=role, on=on, agency=code, policy=svc.settings.people)


def _eligible(s: Session, roles: frozenset[str], *, on: dt.date, barred: frozenset[str], certified: bool,
              agency: str | None) -> list[Person]:
    """Of `agency` (None: any): the agency's people only are chosen for its cases (ix_users_agency)."""
    query = select(UserRow).where(UserRow.active.is_(True), UserRow.id.in_(
        select(UserRoleRow.user_id).where(UserRoleRow.role.in_(sorted(roles)))))
    if agency is not None:
        query = query.where(UserRow.agency_code == agency)
    rows = s.scalars(query.order_by(UserRow.unit, UserRow.id))
    return [p for p in map(_person, rows) if p.id not in barred and (not certified or p.certified_on(on))]


def barred_for(session: Session, definition: Any, case_id: int | None, field: PersonField,
               case_data: Mapping[str, Any], spec: Mapping[str, Any]) -> frozenset[str]:
    """Those the model's 回避 rules bar from the steps of the field's roles in this case (excludeActorsOf,
    excludeUsersFrom of each such step), from what the case has done and recorded so far."""
    if case_id is None or spec.get(STAND_ASIDE) is False:
        return frozenset()
    barred: set[str] = set()
    for meta in definition.metas.values():
        if meta.role in field.roles:
            barred |= excluded_users(session, case_id, meta, dict(case_data))
    return frozenset(barred)


def _spec(schema: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    sub = (schema.get("properties") or {}).get(key) or {}
    spec = sub.get("x-person") or (sub.get("items") or {}).get("x-person") or {}
    return spec if isinstance(spec, dict) else {}


def check_person_fields(session: Session, *, schema: Mapping[str, Any] | None, data: Mapping[str, Any],
                        definition: Any, case_id: int | None, case_data: Mapping[str, Any], on: dt.date,
                        policy: PeoplePolicy, title: str) -> None:
    """Every person a form's x-person fields name is eligible for the field on day `on`; else ValidationError with
    each refused value's path (`panel_members/1`) and why, naming the field (a lapsed 执法证 with its article)."""
    fields = person_fields(schema)
    if not fields:
        return
    named = {uid for f in fields for _, uid in chosen_ids(data.get(f.key))}
    people = people_by_id(session, named)
    agency = None if case_id is None else session.scalar(select(CaseRow.agency_code).where(CaseRow.id == case_id))
    errors: dict[str, str] = {}
    for f in fields:
        barred = barred_for(session, definition, case_id, f, {**case_data, **data}, _spec(schema or {}, f.key))
        for suffix, uid in chosen_ids(data.get(f.key)):
            why = refusal(people.get(uid), uid, f, on=on, excluded=barred, policy=policy, agency=agency)
            if why is not None:
                errors[f"{f.key}{suffix}"] = why
    if errors:
        raise ValidationError(f"{title}: 所选人员不符合要求 (a person chosen cannot take this part)", errors)


def person_choices(svc: Services, *, schema: Mapping[str, Any] | None, case_id: int | None,
                   at: dt.datetime) -> dict[str, list[Person]]:
    """For each x-person field of a form (by key): the people a picker offers — eligible for one of the field's
    roles on the agency's day of `at`, not barred from the case, of the case's agency (of any agency for a field
    that invites across agencies: a 合议 member's). The case's data the 回避 rules read is what its
    completed steps recorded (excludeUsersFrom names form fields, such as the case officers chosen at 受理)."""
    fields = person_fields(schema)
    if not fields:
        return {}
    on = at.astimezone(svc.settings.zone).date()
    with svc.uow.read() as session:
        definition = None
        agency: str | None = None
        case_data: dict[str, Any] = {}
        if case_id is not None:
            case = session.get(CaseRow, case_id)
            if case is not None:
                agency = case.agency_code  # the case's own people only (engine.rules.duties refusal_to_act)
                definition = svc.definition(session, case.definition_id)
                for form in session.scalars(select(TaskRow.form_data).where(
                        TaskRow.case_id == case_id, TaskRow.status == TaskStatus.COMPLETED)
                        .order_by(TaskRow.completed_at)):
                    case_data.update(form or {})
        out: dict[str, list[Person]] = {}
        for f in fields:
            barred = (barred_for(session, definition, case_id, f, case_data, _spec(schema or {}, f.key))
                      if definition is not None else frozenset())
            # A 合议 member may be invited from any agency of the platform (rules/people.py); others are the case's.
            out[f.key] = _eligible(session, f.roles, on=on, barred=barred,
                                   certified=svc.settings.people.needs_certificate(f.roles),
                                   agency=None if invited_across_agencies(f) else agency)
        return out


__all__ = ["Person", "barred_for", "check_person_fields", "eligible", "eligible_people", "people_by_id", "person_choices",
           "set_user_certificate"]
