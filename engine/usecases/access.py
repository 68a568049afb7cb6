"""Who may act on a task, checked on every call that acts: the rules of engine/rules/duties.py over the rows
the call has loaded. Shared by claiming, assigning and completing (the hot path: one indexed lookup of the
person's marks on the task, no more)."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from engine.db.tables import TaskRow, TaskUserRow, UserRow
from engine.enums import TaskStatus
from engine.errors import Conflict, Forbidden, NotFound
from engine.rules import duties
from engine.rules.duties import Person, TaskFacts


def active_user(session: Session, user_id: str) -> UserRow:
    user = session.get(UserRow, user_id)
    if user is None or not user.active:
        raise Forbidden(f"用户不存在或已停用 (unknown or inactive user): {user_id}")
    return user


def load_task(session: Session, task_id: str, *, lock: bool = False) -> TaskRow:
    task = session.get(TaskRow, task_id, with_for_update=lock, populate_existing=lock)
    if task is None:
        raise NotFound(f"任务不存在 (no such task): {task_id}")
    return task


def person_of(user: UserRow) -> Person:
    return Person.of(user.id, (r.role for r in user.roles), active=user.active)


def facts_of(task: TaskRow, *, candidates: frozenset[str] = frozenset(),
             excluded: frozenset[str] = frozenset()) -> TaskFacts:
    """The task as the duties read it; `candidates` and `excluded`: its marks (or one person's)."""
    return TaskFacts(role=task.role, status=task.status, assignee=task.assignee, restricted=task.restricted,
                     candidates=candidates, excluded=excluded, vote=task.mi_index is not None,
                     completed_by=task.completed_by)


def ensure_open(task: TaskRow) -> None:
    if (refused := duties.closed(facts_of(task))) is not None:
        raise Conflict(refused.message)


def marks_for(session: Session, task_id: str, user_id: str) -> set[str]:
    """How the task names this person: {"candidate"}, {"excluded"}, both or neither (one indexed lookup)."""
    return set(session.scalars(select(TaskUserRow.kind).where(TaskUserRow.task_id == task_id,
                                                             TaskUserRow.user_id == user_id)))


def check_may_act(session: Session, task: TaskRow, user: UserRow) -> None:
    """Forbidden, with the duties' reason, unless `user` may act on `task` (engine.rules.duties.refusal_to_act);
    a task no longer open is a conflict, as `ensure_open` says."""
    _raise(duties.refusal_to_act(person_of(user), _facts_for(session, task, user.id)))


def check_may_be_assigned(session: Session, task: TaskRow, user: UserRow) -> None:
    """Forbidden unless a head may hand `task` to `user` (engine.rules.duties.refusal_to_be_assigned)."""
    _raise(duties.refusal_to_be_assigned(person_of(user), _facts_for(session, task, user.id)))


def _facts_for(session: Session, task: TaskRow, user_id: str) -> TaskFacts:
    """The task with only this person's marks: all the duties ask is whether they are among them."""
    marks = marks_for(session, task.id, user_id)
    mine = frozenset({user_id})
    return facts_of(task, candidates=mine if "candidate" in marks else frozenset(),
                    excluded=mine if "excluded" in marks else frozenset())


def _raise(refused: duties.Refusal | None) -> None:
    if refused is not None:
        raise (Conflict if refused.kind == "closed" else Forbidden)(refused.message)


def already_voted(session: Session, task: TaskRow, user_id: str) -> bool:
    return session.scalar(select(exists().where(
        TaskRow.case_id == task.case_id, TaskRow.spec_id == task.spec_id, TaskRow.completed_by == user_id,
        TaskRow.status == TaskStatus.COMPLETED,
    ))) or False


__all__ = ["active_user", "already_voted", "check_may_act", "check_may_be_assigned", "ensure_open", "facts_of", "load_task", "marks_for",
           "person_of"]
