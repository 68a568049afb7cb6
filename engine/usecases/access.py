"""Who may act on a task, checked on every call that acts: the rules of engine/rules/duties.py over the rows
the call has loaded. Shared by claiming, assigning and completing (the hot path: one indexed lookup of the
person's marks on the task, no more). And the facts the visibility rules read of a case — who takes part in
it — for one case (`case_facts`) and, as SQL, for the case list (`visible_cases`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, bindparam, false, func, select, true, union_all
from sqlalchemy.orm import Session, aliased, object_session

from engine.agencies import subtree_codes
from engine.db.repositories import Cases, Users, inactive_user
from engine.db.tables import (
    AgencyRow,
    CaseRow,
    CertificateRow,
    TaskRow,
    TaskUserRow,
    UserKeyRow,
    UserRoleRow,
    UserRow,
)
from engine.enums import TaskStatus
from engine.errors import Conflict, Forbidden
from engine.roles import ADMIN_ROLE, require_admin
from engine.rules import duties
from engine.rules.duties import CaseFacts, Person, TaskFacts
from engine.rules.people import CROSS_AGENCY_ROLES


def person_of(user: UserRow, *, cannot_sign: str | None = None) -> Person:
    """The user as the duties read them: with their agency and, for a supervisor or an auditor, the agencies
    under it (one recursive query, in the user's own session; nobody else pays it)."""
    return _person(object_session(user), user.id, frozenset(r.role for r in user.roles), active=user.active,
                   agency=user.agency_code, cannot_sign=cannot_sign)


def _person(session: Session | None, user_id: str, roles: frozenset[str], *, active: bool, agency: str,
            cannot_sign: str | None = None) -> Person:
    reads: frozenset[str] = frozenset()
    if duties.reads_subtree(roles) and session is not None:
        reads = agency_subtree(session, agency)
    return Person.of(user_id, roles, active=active, cannot_sign=cannot_sign, agency=agency, reads=reads)


_users, _user_roles, _task_users = UserRow.__table__.c, UserRoleRow.__table__.c, TaskUserRow.__table__.c
# Built once, on the tables (not the ORM classes): SQLAlchemy keeps their compiled form, and no ORM row is made.
# The write of a step reads both again under its lock (engine/usecases/completion.py).
_ACTIVE_PERSON = select(_users.active, _users.agency_code, _user_roles.role).outerjoin(
    UserRoleRow.__table__, _user_roles.user_id == _users.id).where(_users.id == bindparam("user_id"))
_TASK_MARKS = select(_task_users.user_id, _task_users.kind).where(_task_users.task_id == bindparam("task_id"))


def active_person(session: Session, user_id: str) -> Person:
    """`person_of(Users(session).active(user_id))` in one statement that loads no ORM object: the active user
    with their roles, or the same Forbidden for an unknown or deactivated one."""
    rows = session.execute(_ACTIVE_PERSON, {"user_id": user_id}).all()
    if not rows or not rows[0].active:
        raise inactive_user(user_id)
    return _person(session, user_id, frozenset(r.role for r in rows if r.role is not None), active=True,
                   agency=rows[0].agency_code)


def agency_subtree(session: Session, code: str) -> frozenset[str]:
    """The agency `code` and every agency below it in the platform's tree (engine/agencies.py: one recursive
    query, SQLite and PostgreSQL alike), as the set the duties compare with."""
    return frozenset(subtree_codes(session, code))


def signer_at(session: Session, user: UserRow, now: dt.datetime) -> Person:
    """The person with their signing certificate judged at `now` (`Person.cannot_sign`)."""
    return person_of(user, cannot_sign=signing_problems(session, [user.id], now).get(user.id))


def signing_problems(session: Session, user_ids: Iterable[str], now: dt.datetime) -> dict[str, str]:
    """Why each of `user_ids` cannot sign at `now` — no active key, a revoked, expired or not yet valid
    certificate — as engine/journal.py `unlock_signer` would refuse them (without the PIN); users who can sign
    are absent. Two indexed queries whatever the number of users."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return {}
    newest: dict[str, Any] = {}
    for row in session.execute(
            select(UserKeyRow.user_id, UserKeyRow.created_at, CertificateRow.not_before, CertificateRow.not_after,
                   CertificateRow.revoked_at)
            .join(CertificateRow, CertificateRow.fingerprint == UserKeyRow.fingerprint)
            .where(UserKeyRow.user_id.in_(ids), UserKeyRow.active.is_(True))
            .order_by(UserKeyRow.user_id, UserKeyRow.created_at)):
        newest[row.user_id] = row  # the newest active key, as unlock_signer takes it
    problems: dict[str, str] = {}
    keyless = [u for u in ids if u not in newest]
    revoked_at = dict(session.execute(
        select(CertificateRow.user_id, func.max(CertificateRow.revoked_at))
        .where(CertificateRow.user_id.in_(keyless), CertificateRow.revoked_at.is_not(None))
        .group_by(CertificateRow.user_id)).all()) if keyless else {}
    for user_id in keyless:
        at = revoked_at.get(user_id)
        problems[user_id] = (f"签名证书已于 {at:%Y-%m-%d %H:%M}Z 吊销 (signing certificate revoked)" if at is not None
                             else "尚无签名证书 (no signing certificate)")
    for user_id, row in newest.items():
        if row.revoked_at is not None and now >= row.revoked_at:
            problems[user_id] = f"签名证书已于 {row.revoked_at:%Y-%m-%d %H:%M}Z 吊销 (signing certificate revoked)"
        elif now > row.not_after:
            problems[user_id] = f"签名证书已于 {row.not_after:%Y-%m-%d} 过期 (signing certificate expired)"
        elif now < row.not_before:
            problems[user_id] = f"签名证书自 {row.not_before:%Y-%m-%d} 起才生效 (signing certificate not yet valid)"
    return problems


def facts_of(task: TaskRow, *, candidates: frozenset[str] = frozenset(),
             excluded: frozenset[str] = frozenset()) -> TaskFacts:
    """The task as the duties read it; `candidates` and `excluded`: its marks (or one person's)."""
    return TaskFacts(role=task.role, status=task.status, assignee=task.assignee, restricted=task.restricted,
                     candidates=candidates, excluded=excluded, vote=task.mi_index is not None,
                     completed_by=task.completed_by, agency=task.agency_code)


def ensure_open(task: TaskRow) -> None:
    if (refused := duties.closed(facts_of(task))) is not None:
        raise Conflict(refused.message)


def marks_for(session: Session, task_id: str, user_id: str) -> set[str]:
    """How the task names this person: {"candidate"}, {"excluded"}, both or neither (one indexed lookup)."""
    return set(session.scalars(_MARKS, {"task_id": task_id, "user_id": user_id}))


# Built once: every step's preparation asks it (a statement built per call costs as much as the lookup).
_MARKS = select(TaskUserRow.kind).where(TaskUserRow.task_id == bindparam("task_id"),
                                        TaskUserRow.user_id == bindparam("user_id"))


def check_may_act(session: Session, task: TaskRow, user: UserRow, *, now: dt.datetime | None = None,
                  facts: TaskFacts | None = None) -> None:
    """Forbidden, with the duties' reason, unless `user` may act on `task` (engine.rules.duties.refusal_to_act);
    a task no longer open is a conflict, as `ensure_open` says. With `now`, their signing certificate is judged
    too (claiming); completing leaves it to the signing itself, which names the same cause. `facts`: the task
    with all its marks as `task_facts` read them in this transaction (the write of a step needs them anyway)."""
    person = signer_at(session, user, now) if now is not None else person_of(user)
    check_person_may_act(person, facts if facts is not None else _facts_for(session, task, user.id))


def check_person_may_act(person: Person, facts: TaskFacts) -> None:
    """`check_may_act` for a person and a task already read as the duties see them."""
    _raise(duties.refusal_to_act(person, facts))


def check_may_claim(session: Session, task: TaskRow, user: UserRow, *, now: dt.datetime) -> None:
    """As `check_may_act` at `now`, but a task another person claimed first is a conflict (409: two people
    raced for it and this one lost), not a refusal of this person."""
    refused = duties.refusal_to_act(signer_at(session, user, now), _facts_for(session, task, user.id))
    if refused is not None and refused.kind == "held":
        raise Conflict(refused.message)
    _raise(refused)


def check_may_be_assigned(session: Session, task: TaskRow, user: UserRow, *, now: dt.datetime) -> None:
    """Forbidden unless a head may hand `task` to `user` at `now` (engine.rules.duties.refusal_to_be_assigned):
    a stranded task — nobody named on it can take it — to anyone of its lane who could act on it."""
    facts = _facts_for(session, task, user.id)
    named = named_people(session, task, now) if task.restricted else ()
    is_stranded = bool(duties.stranded_names(task_facts(session, task), named))
    _raise(duties.refusal_to_be_assigned(signer_at(session, user, now), facts, stranded=is_stranded))


def task_facts(session: Session, task: TaskRow) -> TaskFacts:
    """The task with all its marks (every candidate and every barred person: one indexed query)."""
    users = session.execute(_TASK_MARKS, {"task_id": task.id}).all()
    return facts_of(task, candidates=frozenset(u for u, k in users if k == "candidate"),
                    excluded=frozenset(u for u, k in users if k == "excluded"))


def named_people(session: Session, task: TaskRow, now: dt.datetime) -> tuple[Person, ...]:
    """Those a task is offered to by name, each with their signing certificate judged at `now`."""
    ids = list(session.scalars(select(TaskUserRow.user_id).where(TaskUserRow.task_id == task.id,
                                                                 TaskUserRow.kind == "candidate")
                               .order_by(TaskUserRow.user_id)))
    return people_at(session, session.scalars(select(UserRow).where(UserRow.id.in_(ids)).order_by(UserRow.id)), now)


def people_at(session: Session, users: Iterable[UserRow], now: dt.datetime) -> tuple[Person, ...]:
    rows = list(users)
    problems = signing_problems(session, [u.id for u in rows], now)
    return tuple(person_of(u, cannot_sign=problems.get(u.id)) for u in rows)


# --- who takes part in a case ----------------------------------------------------------------------------
def case_facts(session: Session, case: CaseRow, tasks: Sequence[TaskRow], person_id: str) -> CaseFacts:
    """The case as the visibility rules read it for `person_id`, from its task rows already read: members as
    far as they concern the person (who opened it, holds or completed a task; the person if named on one),
    and its tasks open to their lane (with the person's barring). One indexed query of the person's marks."""
    members = {case.opened_by} | {t.assignee for t in tasks if t.assignee} | \
        {t.completed_by for t in tasks if t.completed_by}
    marks: set[tuple[str, str]] = set()
    if person_id and tasks:
        marks = {(t, k) for t, k in session.execute(select(TaskUserRow.task_id, TaskUserRow.kind).where(
            TaskUserRow.user_id == person_id, TaskUserRow.task_id.in_([t.id for t in tasks])))}
    if any(k == "candidate" for _, k in marks):
        members.add(person_id)
    mine = frozenset({person_id})
    open_tasks = [t for t in tasks if t.status == TaskStatus.READY]
    offers = tuple(facts_of(t, excluded=mine if (t.id, "excluded") in marks else frozenset()) for t in open_tasks
                   if t.assignee is None and not t.restricted)
    named_open = {t.assignee for t in open_tasks if t.assignee} | \
        ({person_id} if any((t.id, "candidate") in marks for t in open_tasks) else set())
    return CaseFacts(case.id, members=frozenset(members), lane_offers=offers, agency=case.agency_code,
                     named_open=frozenset(named_open))


def seen_case(session: Session, ref: str | int, viewer_id: str | None) -> tuple[CaseRow, Person, CaseFacts]:
    """The case `ref` (number or id) with who asks (None: the CLI's operator, as an auditor of the whole platform)
    and the facts the rules read; Forbidden, with the rules' reason, when they may not see it."""
    case = Cases(session).find(ref, with_state=False)
    person = duties.AUDITOR_VIEW if viewer_id is None else person_of(Users(session).active(viewer_id))
    rows = list(session.scalars(select(TaskRow).where(TaskRow.case_id == case.id)))
    facts = case_facts(session, case, rows, person.id)
    if (refused := duties.refusal_to_see_case(person, facts)) is not None:
        raise Forbidden(refused.message)
    return case, person, facts


def in_agencies(column: Any, agencies: frozenset[str] | None) -> ColumnElement[bool]:
    """`column` (an agency code) among `agencies` (None: any)."""
    if agencies is None:
        return true()
    return column.in_(sorted(agencies)) if len(agencies) != 1 else column == next(iter(agencies))


def admin_reach(session: Session, user: UserRow) -> frozenset[str] | None:
    """The agencies `user` administers: their own agency and every agency below it (issue 16: a district's
    administrator manages that district's people and data, not the neighbour's); None: an administrator of the
    root agency, the whole platform. Empty for someone who is not an administrator."""
    if ADMIN_ROLE not in {r.role for r in user.roles}:
        return frozenset()
    agency = session.execute(select(AgencyRow.parent_code).where(AgencyRow.code == user.agency_code)).first()
    if agency is None:  # an agency the tree does not have (users.agency_code has no foreign key): fail closed
        return frozenset({user.agency_code})
    if agency.parent_code is None:
        return None
    return agency_subtree(session, user.agency_code)


def require_agency_admin(session: Session, user_id: str, agency_code: str, refusal: str) -> UserRow:
    """The active administrator `user_id` whose reach (`admin_reach`) holds `agency_code`; Forbidden otherwise,
    with `refusal` when not an administrator at all: checked in the engine on every change to an agency (its
    details, settings, territory, retirement, an agency added below it) and on every person put in it, whatever
    the page offered (issue 16: a district's administrator administers their district and those below it)."""
    user = require_admin(session, user_id, refusal)
    if not administers(session, user, agency_code):
        raise Forbidden(f"{user_id} 不是机构 {agency_code} 或其上级机构的系统管理员 ({user_id} administers neither "
                        f"{agency_code} nor an agency above it)")
    return user


def require_platform_admin(session: Session, user_id: str, refusal: str) -> UserRow:
    """The active administrator `user_id` of the platform's home agency (reach: the whole platform): what the
    agencies share — the working-day calendar, the model's versions — is changed at the platform only, never by a
    district's administrator for the province (issue 16)."""
    user = require_admin(session, user_id, refusal)
    if admin_reach(session, user) is not None:
        raise Forbidden(f"{user_id} 是下级机构的系统管理员：工作日历和流程版本由平台系统管理员维护 ({user_id} administers "
                        "an agency below the platform's: the working-day calendar and the model's versions are the "
                        "platform administrator's)")
    return user


def require_user_admin(session: Session, by: str, user_id: str, refusal: str, *, lock: bool = False) -> UserRow:
    """The user `user_id` (`lock`: their row locked), once `by` is found to be an active administrator whose reach
    (`admin_reach`) holds the user's agency: a district's administrator changes and opens the accounts of their
    district's people only (issue 16). Forbidden otherwise (with `refusal` when `by` is no administrator at all),
    before anything is written; NotFound for an unknown user."""
    admin = require_admin(session, by, refusal)
    user = Users(session).get(user_id, lock=lock)
    if not administers(session, admin, user.agency_code):
        raise Forbidden(f"{user_id} 属于机构 {user.agency_code}，{by} 不是该机构或其上级机构的系统管理员 ({user_id} "
                        f"belongs to {user.agency_code}, which {by} does not administer)")
    return user


def administers(session: Session, admin: UserRow, agency_code: str) -> bool:
    """Whether `agency_code` is within the reach of the administrator `admin` (`admin_reach`)."""
    reach = admin_reach(session, admin)
    return reach is None or agency_code in reach


def within(session: Session, column: Any, agency: str | None) -> ColumnElement[bool]:
    """`column` (an agency code) within `agency` and the agencies under it (None: no condition) — a case list's
    or a figure's agency filter."""
    return true() if not agency else in_agencies(column, agency_subtree(session, agency))


def readable_agencies(person: Person) -> frozenset[str] | None:
    """The agencies whose every case `person` reads by supervision or audit (`duties.oversees`): a head's own,
    a supervisor's or an auditor's reach (None: the whole platform); empty for everyone else."""
    if duties.SUBTREE_ROLES & person.roles:
        return None if person.reads is None else person.reads | {person.agency}
    return frozenset({person.agency}) if duties.HEAD_ROLE in person.roles else frozenset()


def agencies_in_reach(session: Session, person: Person) -> tuple[tuple[str, str], ...]:
    """(code, name) of the agencies a list or a figure may be narrowed to for `person`: their reach, when it
    holds more than their own agency (a supervisor's, an auditor's); none for anyone who reads one only."""
    reach = readable_agencies(person)
    if reach is not None and len(reach) < 2:
        return ()
    return tuple((code, name) for code, name in session.execute(
        select(AgencyRow.code, AgencyRow.name).where(in_agencies(AgencyRow.code, reach)).order_by(AgencyRow.code)))


def visible_cases(person: Person) -> ColumnElement[bool]:
    """`engine.rules.duties.may_see_case` as a condition on the case table, for the case list: heads every
    case of their agency, auditors and supervisors every case of their reach (ix_cases_agency); anyone else the
    cases of their agency they opened, hold or completed a task of, are named on, or are offered an open task
    of by lane; and a case of any agency with an open task named to them (a 合议 member invited across agencies). Each part is driven by an index from the person's side (their own rows), never by a walk over
    every case (migration 0011)."""
    if not person.active or not person.roles - {duties.ADMIN_ROLE}:
        return false()
    overseen = readable_agencies(person)
    if overseen is None:
        return true()
    return _own_agencys(person, overseen) | _named_on_open_tasks(person)


def _named_on_open_tasks(person: Person) -> ColumnElement[bool]:
    """The cases — of any agency — with an open task named to the person (`duties.named_on_open_task`): only a
    holder of a role invited across agencies (a 合议 member, engine/rules/people.py) is ever named on another
    agency's task, so nobody else's list pays for the look-up."""
    if not person.roles & CROSS_AGENCY_ROLES:
        return false()
    named = aliased(TaskRow)
    return CaseRow.id.in_(union_all(
        select(named.case_id).where(named.assignee == person.id, named.status == TaskStatus.READY),
        select(TaskRow.case_id).join(TaskUserRow, TaskUserRow.task_id == TaskRow.id)
        .where(TaskUserRow.user_id == person.id, TaskUserRow.kind == "candidate",
               TaskRow.status == TaskStatus.READY)))


def _own_agencys(person: Person, overseen: frozenset[str]) -> ColumnElement[bool]:
    """`visible_cases` within the person's own agency (or their reach, `overseen`)."""
    if overseen:
        # Every reach holds the person's own agency, the only one whose cases they may take part in: the agency
        # condition alone says it all.
        return in_agencies(CaseRow.agency_code, overseen)
    uid = person.id
    task = aliased(TaskRow)
    barred = aliased(TaskUserRow)
    excluded = (select(barred.task_id).where(barred.task_id == task.id, barred.user_id == uid,
                                             barred.kind == "excluded").correlate(task).exists())
    opened = aliased(CaseRow)
    parts = [
        select(opened.id.label("case_id")).where(opened.opened_by == uid),
        select(task.case_id).where(task.assignee == uid),
        select(task.case_id).where(task.completed_by == uid),
        select(TaskRow.case_id).join(TaskUserRow, TaskUserRow.task_id == TaskRow.id)
        .where(TaskUserRow.user_id == uid, TaskUserRow.kind == "candidate"),
    ]
    if person.roles:
        parts.append(select(task.case_id).where(task.status == TaskStatus.READY, task.assignee.is_(None),
                                                task.restricted.is_(False), task.role.in_(sorted(person.roles)),
                                                ~excluded))
    # One IN over a UNION ALL: the database gathers the person's case ids first (duplicates do no harm to IN),
    # then looks the cases up — of their own agency only (a member of a case elsewhere reads it no more).
    return CaseRow.id.in_(union_all(*parts)) & (CaseRow.agency_code == person.agency)


def team_tasks(person: Person) -> ColumnElement[bool]:
    """`engine.rules.duties.team_scope` as a condition on the task table: the tasks of the cases of the agency
    `person` leads (none for anyone who leads no team): ix_tasks_agency_due."""
    scope = duties.team_scope(person)
    if scope is None:
        return false()
    return TaskRow.agency_code == scope


def _facts_for(session: Session, task: TaskRow, user_id: str) -> TaskFacts:
    """The task with only this person's marks: all the duties ask is whether they are among them."""
    marks = marks_for(session, task.id, user_id)
    mine = frozenset({user_id})
    return facts_of(task, candidates=mine if "candidate" in marks else frozenset(),
                    excluded=mine if "excluded" in marks else frozenset())


def _raise(refused: duties.Refusal | None) -> None:
    if refused is not None:
        raise (Conflict if refused.kind == "closed" else Forbidden)(refused.message)


__all__ = ["admin_reach", "require_platform_admin", "administers", "require_agency_admin", "require_user_admin", "active_person", "agencies_in_reach", "agency_subtree", "case_facts", "within", "in_agencies", "readable_agencies", "seen_case", "check_may_act", "check_person_may_act", "check_may_claim", "check_may_be_assigned", "ensure_open",
           "facts_of", "marks_for", "named_people", "people_at", "person_of", "signer_at",
           "signing_problems", "task_facts", "team_tasks", "visible_cases"]
