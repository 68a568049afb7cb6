"""Who may act on a task, checked on every call that acts: role from the lane, named candidates, the assignee,
separation of duties (回避), one vote per panel member. Shared by claiming, assigning and completing."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from engine.db.tables import TaskRow, TaskUserRow, UserRow
from engine.enums import TaskStatus
from engine.errors import Conflict, Forbidden, NotFound


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


def ensure_open(task: TaskRow) -> None:
    if task.status != TaskStatus.READY:
        who = f"，由 {task.completed_by} 完成" if task.completed_by else ""
        raise Conflict(f"任务已结束{who} (task is no longer open: {task.status})")


def marks_for(session: Session, task_id: str, user_id: str) -> set[str]:
    """How the task names this person: {"candidate"}, {"excluded"}, both or neither (one indexed lookup)."""
    return set(session.scalars(select(TaskUserRow.kind).where(TaskUserRow.task_id == task_id,
                                                             TaskUserRow.user_id == user_id)))


def check_may_act(session: Session, task: TaskRow, user: UserRow) -> None:
    """Role from the lane, named candidates, assignee, and separation of duties — checked on every call."""
    roles = {r.role for r in user.roles}
    if task.role not in roles:
        raise Forbidden(f"此任务需要角色 {task.role} (task needs role {task.role}); {user.id} 无此角色")
    marks = marks_for(session, task.id, user.id)
    if "excluded" in marks:
        raise Forbidden(
            f"{user.id} 参与了本案调查，不得办理此环节（回避；行政处罚法第四十三条、第五十八条、第六十四条）"
            " (separation of duties: an investigator of this case may not take this step)"
        )
    if task.restricted and "candidate" not in marks and task.assignee != user.id:
        raise Forbidden(f"此任务只交给指定人员 (task is offered to named people only); {user.id} 不在其中")
    if task.assignee is not None and task.assignee != user.id:
        raise Forbidden(f"任务已由 {task.assignee} 签收 (task is claimed by {task.assignee})")


def already_voted(session: Session, task: TaskRow, user_id: str) -> bool:
    return session.scalar(select(exists().where(
        TaskRow.case_id == task.case_id, TaskRow.spec_id == task.spec_id, TaskRow.completed_by == user_id,
        TaskRow.status == TaskStatus.COMPLETED,
    ))) or False


__all__ = ["active_user", "already_voted", "check_may_act", "ensure_open", "load_task", "marks_for"]
