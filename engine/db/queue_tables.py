"""Who must re-read their task page: version counters per audience, moved by every write that changes
what an audience sees.

Task pages are kept per process while exact (engine/usecases/readcache.py). A page shows a person the
open tasks assigned to them, the unclaimed tasks offered to them by name, and the unclaimed group tasks of
their roles, with the case's number, party and violation. So a change to a task concerns
- its assignee before and after (`user:<id>`),
- if it is offered by name (restricted): the people it is offered to (`user:<id>`),
- otherwise: everyone holding its role (`role:<role>`),
and a change to an offer or a bar (task_users) concerns that person; a change to a case's number, party
or violation concerns everyone (`*`). A person's page is kept under the versions of `*`, their roles and
themselves: an officer claiming a named task moves the versions of that task's candidates, and no head
re-counts the head lane for it.

Row changes are seen before each flush; an UPDATE or DELETE statement names its audiences itself
(`SCOPES_OPTION`), or counts as concerning everyone. The versions move in the writing transaction, as its last statements, in a fixed order: the row locks are
held only until the commit, and two writers take them in the same order, so they cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, String, bindparam, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db.tables import Base, CaseRow, TaskRow, TaskUserRow

EVERYONE = "*"
QUEUE_TABLES = frozenset({"tasks", "task_users", "cases"})  # what task pages read
# An UPDATE or DELETE statement on those tables names the audiences it concerns with this execution
# option; one that does not is taken to concern everyone (engine/db/session.py).
SCOPES_OPTION = "casetrail_queue_scopes"
CASE_COLUMNS_SHOWN = ("number", "respondent", "violation")  # what a task page shows of a task's case


class QueueVersionRow(Base):
    __tablename__ = "queue_versions"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


def user_scope(user_id: str) -> str:
    return f"user:{user_id}"


def role_scope(role: str) -> str:
    return f"role:{role}"


def reader_scopes(user_id: str, roles: Iterable[str]) -> tuple[str, ...]:
    """The audiences whose versions a person's task page depends on, in a fixed order."""
    return (EVERYONE, *sorted(role_scope(r) for r in set(roles)), user_scope(user_id))


def read_versions(session: Session, scopes: tuple[str, ...]) -> tuple[int, ...]:
    """The current version of each scope (0 for one never moved), in the order given."""
    rows = session.execute(select(QueueVersionRow.scope, QueueVersionRow.version)
                           .where(QueueVersionRow.scope.in_(scopes)))
    found = {scope: version for scope, version in rows}
    return tuple(found.get(s, 0) for s in scopes)


def bump_versions(session: Session, scopes: Iterable[str]) -> None:
    """Move each scope's version by one (creating it at 1): one statement executed for each scope, in sorted
    order, so every writer takes the rows' locks in the same order."""
    ordered = sorted(set(scopes))
    if not ordered:
        return
    bump = _BUMP_POSTGRESQL if session.get_bind().dialect.name == "postgresql" else _BUMP_SQLITE
    session.execute(bump, [{"scope": scope} for scope in ordered])


def _bump_statement(insert: Any) -> Any:
    table = QueueVersionRow.__table__
    return insert(table).values(scope=bindparam("scope"), version=1).on_conflict_do_update(
        index_elements=[table.c.scope], set_={"version": table.c.version + 1})


# Built once per dialect (every writing transaction runs one): executed for each scope in the order given.
_BUMP_POSTGRESQL, _BUMP_SQLITE = _bump_statement(postgresql.insert), _bump_statement(sqlite.insert)


def task_scopes(session: Session, task: TaskRow, *, users: Iterable[str] = (),
                offered: Iterable[str] | None = None) -> set[str]:
    """Who sees `task` now or saw it before this transaction's changes to it (plus `users`); `offered`: every
    person marked on it (candidates and barred), when the caller has read them already."""
    state = inspect(task)
    scopes = {user_scope(u) for u in users}
    assignees = {task.assignee, *state.attrs.assignee.history.deleted}
    scopes |= {user_scope(a) for a in assignees if a}
    roles = {task.role, *state.attrs.role.history.deleted}
    restricted = {task.restricted, *state.attrs.restricted.history.deleted}
    if False in restricted or None in restricted:  # open to the group at some point: the whole lane
        scopes |= {role_scope(r) for r in roles if r}
    if True in restricted and not state.transient and not state.pending:
        if offered is None:
            with session.no_autoflush:
                offered = list(session.scalars(select(TaskUserRow.user_id).where(TaskUserRow.task_id == task.id)))
        scopes |= {user_scope(u) for u in offered}
    return scopes


def changed_scopes(session: Session) -> set[str]:
    """The audiences of what this session is about to flush (new, changed and deleted rows)."""
    scopes: set[str] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, TaskRow):
            scopes |= task_scopes(session, obj)
        elif isinstance(obj, TaskUserRow):
            scopes.add(user_scope(obj.user_id))
        elif isinstance(obj, CaseRow) and obj not in session.new:
            state = inspect(obj)
            if obj in session.deleted or any(state.attrs[c].history.has_changes() for c in CASE_COLUMNS_SHOWN):
                scopes.add(EVERYONE)
    return scopes
