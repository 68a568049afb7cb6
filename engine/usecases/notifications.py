"""Telling people about their work (issue 15): one inbox row per person, and an e-mail when they chose so.

`notify` and `deliver` write in the caller's transaction and never commit: a notice exists exactly when what
caused it (a step completed, a task reassigned, the worker's deadline scan) is written, and vanishes with its
rollback. However many notices and people, they read once (who the people are, their addresses and choices)
and insert with one executemany per table, so the completion path pays two or three statements, not one per
person. E-mail is only queued here; the worker composes and sends it (engine/usecases/mailing.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, insert, null, or_, select
from sqlalchemy.orm import Session

from engine.db.notice_tables import EmailOutboxRow, NoticeChoiceRow, NotificationRow
from engine.db.tables import TaskRow, UserRoleRow, UserRow
from engine.enums import NoticeKind
from engine.values import Clock

# Mailed unless the person said otherwise: what needs them now. An offer to a whole group and the early
# warning stay in the inbox unless a person asks for them by mail (a group of twenty would get every offer).
EMAIL_BY_DEFAULT = frozenset({NoticeKind.ASSIGNED, NoticeKind.RETURNED, NoticeKind.OVERDUE, NoticeKind.URGED})


@dataclass(frozen=True)
class Notice:
    """One thing to tell: to the `users` named and everyone active holding one of `roles` of `agency` (a task's
    lane is its case's agency's people only: engine.rules.duties `refusal_to_act`), except `excluded`
    (separation of duties: a task's barred people are not told of it) and `by` (who caused it)."""

    kind: NoticeKind
    case_id: int | None
    task_id: str | None
    by: str | None
    note: str = ""
    users: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()
    agency: str = ""


@dataclass
class _Person:
    email: str | None
    agency: str
    roles: set[str] = field(default_factory=set)
    choices: dict[str, bool] = field(default_factory=dict)

    def mailed(self, kind: NoticeKind) -> bool:
        return bool(self.email) and self.choices.get(kind.value, kind in EMAIL_BY_DEFAULT)


def notify(
    s: Session,
    *,
    recipients: Iterable[str],
    kind: NoticeKind,
    case_id: int | None,
    task_id: int | str | None,
    by: str | None,
    note: str,
    clock: Clock,
) -> int:
    """Put a notice of `kind` in each recipient's inbox, and an e-mail in the outbox for those who want it by
    mail and have an address. Unknown and deactivated accounts are skipped, as is `by` itself (nobody needs to
    be told what they just did). `note` is stored as given: callers must not put complainant identity in it.
    Returns how many inbox rows were written. Does not commit."""
    notice = Notice(kind=NoticeKind(kind), case_id=case_id, task_id=None if task_id is None else str(task_id),
                    by=by, note=note, users=frozenset(r for r in recipients if r))
    return deliver(s, [notice], clock=clock)


def deliver(s: Session, notices: Sequence[Notice], *, clock: Clock) -> int:
    """Write `notices`: one read of the people concerned, one insert of inbox rows, one of outbox rows (when
    anyone gets mail). Returns how many inbox rows were written. Does not commit."""
    s.flush()  # the statements below are the tables' own, which do not flush: they read what the caller changed
    people = _people(s, notices)
    now = clock()
    rows: list[dict[str, Any]] = []
    mail_to: list[str | None] = []
    for notice in notices:
        for uid in sorted(_recipients(notice, people)):
            rows.append({"recipient": uid, "kind": notice.kind.value, "case_id": notice.case_id,
                         "task_id": notice.task_id, "by_user": notice.by, "note": notice.note, "created_at": now,
                         "read_at": None})
            person = people[uid]
            mail_to.append(person.email if person.mailed(notice.kind) else None)
    if not rows:
        return 0
    if not any(mail_to):
        s.execute(_INSERT_NOTICES, rows)
        return len(rows)
    ids = s.scalars(_INSERT_NOTICES_RETURNING, rows).all()
    s.execute(insert(EmailOutboxRow), [
        {"notification_id": nid, "to": to, "subject": "", "body": "", "created_at": now, "next_attempt_at": now,
         "sent_at": None, "attempts": 0, "last_error": None}
        for nid, to in zip(ids, mail_to, strict=True) if to
    ])
    return len(rows)


def _recipients(notice: Notice, people: Mapping[str, _Person]) -> set[str]:
    named = {u for u in notice.users if u in people}
    by_role = ({u for u, p in people.items() if p.roles & notice.roles and p.agency == notice.agency}
               if notice.roles else set())
    return (named | by_role) - notice.excluded - {notice.by}


def _people(s: Session, notices: Sequence[Notice]) -> dict[str, _Person]:
    """The active people any of `notices` may go to, with their roles (when a notice goes to a role), addresses
    and choices for the kinds at hand: one query."""
    ids = sorted({u for n in notices for u in n.users})
    roles = sorted({r for n in notices for r in n.roles})
    kinds = sorted({n.kind.value for n in notices})
    if not ids and not roles:
        return {}
    query = _PEOPLE_BY_ROLE if roles else _PEOPLE_NAMED
    people: dict[str, _Person] = {}
    for uid, email, agency, kind, mailed, role in s.execute(query, {"ids": ids, "roles": roles, "kinds": kinds}):
        person = people.setdefault(uid, _Person(email=email, agency=agency))
        if role:
            person.roles.add(role)
        if kind is not None:
            person.choices[kind] = bool(mailed)
    return people


def _people_statement(*, by_role: bool) -> Any:
    """`_people`'s query, built once (every completion that opens a task asks it): the people named in `:ids`,
    and with `by_role` those holding one of `:roles`, with their choices for `:kinds`. On the tables, not the
    ORM classes: nothing of it becomes an ORM object, and it does not flush the session first."""
    users, choices, roles = UserRow.__table__, NoticeChoiceRow.__table__, UserRoleRow.__table__
    query = select(users.c.id, users.c.email, users.c.agency_code, choices.c.kind, choices.c.email).outerjoin(
        choices, and_(choices.c.user_id == users.c.id, choices.c.kind.in_(bindparam("kinds", expanding=True))))
    ids = users.c.id.in_(bindparam("ids", expanding=True))
    if by_role:
        query = query.add_columns(roles.c.role).outerjoin(roles, roles.c.user_id == users.c.id).where(
            or_(ids, roles.c.role.in_(bindparam("roles", expanding=True))))
    else:
        query = query.add_columns(null().label("role")).where(ids)
    return query.where(users.c.active.is_(True))


_PEOPLE_NAMED, _PEOPLE_BY_ROLE = _people_statement(by_role=False), _people_statement(by_role=True)
# The inbox rows, by the table's INSERT (keys are its column names): written once, never read back here.
_INSERT_NOTICES = NotificationRow.__table__.insert()
_INSERT_NOTICES_RETURNING = _INSERT_NOTICES.returning(NotificationRow.__table__.c.id, sort_by_parameter_order=True)


def new_task_notices(
    created: Sequence[TaskRow], *, candidates: Mapping[str, Iterable[str]], excluded: Mapping[str, Iterable[str]],
    returned: Iterable[str], by: str | None,
) -> list[Notice]:
    """What the task sync's new rows tell: a task given to someone is `assigned` to them; one offered by name or
    to a lane is `offered` to those who may take it (not to those separation of duties bars); one whose step
    the model marks as a return (task property `notice`) is `returned` to the same people."""
    back = set(returned)
    notices = []
    for row in created:
        if row.assignee:
            kind, users, roles = NoticeKind.ASSIGNED, frozenset({row.assignee}), frozenset()
        else:
            named = frozenset(candidates.get(row.id, ()))
            # Offered by name, or to the lane; a task offered to nobody (a step waiting for another agency's
            # answer) tells nobody.
            lane = frozenset() if named or row.restricted else frozenset({row.role})
            kind, users, roles = NoticeKind.OFFERED, named, lane
        if row.id in back:
            kind = NoticeKind.RETURNED
        notices.append(Notice(kind=kind, case_id=row.case_id, task_id=row.id, by=by, users=users, roles=roles,
                              excluded=frozenset(excluded.get(row.id, ())), agency=row.agency_code))
    return notices


__all__ = ["EMAIL_BY_DEFAULT", "Notice", "deliver", "new_task_notices", "notify"]
