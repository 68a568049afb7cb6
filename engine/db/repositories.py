"""The aggregates the use cases load — a case, a task, a user — each loaded one way, with its refusal written
once (zh-CN first, then English). A repository wraps the session of a unit of work (`Work.cases`, …) or of a
read (`Cases(session)`); it loads and locks, and never commits: the use case does (engine/db/session.py)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, defer, joinedload

from engine.db.tables import CaseRow, TaskRow, UserRow
from engine.errors import Forbidden, NotFound
from engine.values import MAX_ID


class Cases:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, case_id: int, *, lock: bool = False) -> CaseRow:
        """The case with id `case_id`; `lock`: its row locked for the rest of the transaction and read again
        (what a concurrent writer committed meanwhile is what we see)."""
        case = self.session.get(CaseRow, case_id, with_for_update=lock, populate_existing=lock)
        if case is None:
            raise NotFound(f"案件不存在 (no such case): {case_id}")
        return case

    def find(self, ref: str | int, *, with_state: bool = True, lock: bool = False) -> CaseRow:
        """A case by id or number; `with_state=False` leaves out the workflow state (kilobytes of JSON) for
        readers that do not restore the workflow; `lock`: its row locked and read again, as `get`."""
        case: CaseRow | None
        options = () if with_state else (defer(CaseRow.state, raiseload=True),)
        if isinstance(ref, int) or str(ref).isdigit():
            case_id = int(ref)
            case = (self.session.get(CaseRow, case_id, options=options, with_for_update=lock, populate_existing=lock)
                    if 0 < case_id <= MAX_ID else None)
        else:
            query = select(CaseRow).where(CaseRow.number == str(ref)).options(*options)
            if lock:
                query = query.with_for_update().execution_options(populate_existing=True)
            case = self.session.scalar(query)
        if case is None:
            raise NotFound(f"案件不存在 (no such case): {ref}")
        return case


class Tasks:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, task_id: str, *, lock: bool = False) -> TaskRow:
        """The task; `lock`: its row locked and read again, as `Cases.get`."""
        task = self.session.get(TaskRow, task_id, with_for_update=lock, populate_existing=lock)
        if task is None:
            raise NotFound(f"任务不存在 (no such task): {task_id}")
        return task


class Users:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: str, *, lock: bool = False) -> UserRow:
        """The user, active or not (NotFound if unknown); `lock`: the row locked, its roles read after."""
        user = self.session.get(UserRow, user_id, with_for_update=lock)
        if user is None:
            raise NotFound(f"用户不存在 (no such user): {user_id}")
        return user

    def find(self, user_id: str) -> UserRow | None:
        """The user with their roles in one query, or None; active or not."""
        # A FOR UPDATE is never combined with this outer join (PostgreSQL refuses to lock its nullable side).
        return self.session.get(UserRow, user_id, options=_WITH_ROLES)

    def active(self, user_id: str) -> UserRow:
        """The active user, roles loaded in the same query; Forbidden if unknown or deactivated."""
        user = self.find(user_id)
        if user is None or not user.active:
            raise inactive_user(user_id)
        return user

    def holding(self, user_id: str, roles: str | Iterable[str], *, refusal: str | None = None) -> UserRow:
        """The active user holding `roles` (one of them, if several). Forbidden otherwise: with `refusal` and
        the user id when given (the action's own wording), else saying what is missing."""
        wanted = {roles} if isinstance(roles, str) else set(roles)
        user = self.find(user_id)
        if refusal is not None and (user is None or not user.active or not wanted & role_names(user)):
            raise Forbidden(f"{refusal}: {user_id}")
        user = self.active(user_id)
        if not wanted & role_names(user):
            raise Forbidden(f"用户 {user_id} 没有此角色 (lacks role): {'/'.join(sorted(wanted))}")
        return user


def inactive_user(user_id: str) -> Forbidden:
    """The refusal of a user id that names nobody, or a deactivated account."""
    return Forbidden(f"用户不存在或已停用 (unknown or inactive user): {user_id}")


# Made once: an option made per call costs a third of the lookup (every step reads its actor this way).
_WITH_ROLES = (joinedload(UserRow.roles),)


def role_names(user: UserRow) -> set[str]:
    return {r.role for r in user.roles}


__all__ = ["Cases", "Tasks", "Users", "inactive_user", "role_names"]
