"""Keeps the denormalised task table in step with the workflow after every change of a case."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, make_transient_to_detached

from engine.db.queue_tables import task_scopes, user_scope
from engine.db.session import note_queue_change
from engine.db.tables import NO_DEADLINE, CaseEventRow, CaseRow, TaskRow, TaskUserRow
from engine.enums import CaseEventKind, CaseOutcome, CaseStatus, TaskStatus
from engine.usecases.case_figures import close_case_figures
from engine.usecases.drafts import drop_task_drafts
from engine.usecases.notifications import deliver, new_task_notices
from engine.values import Clock

if TYPE_CHECKING:
    from engine.spiff.definitions import LoadedDefinition
    from engine.spiff.instance import ProcessInstance


def excluded_users(session: Session, case_id: int, meta: Any, data: dict[str, Any]) -> set[str]:
    """Separation of duties as the model states it (行政处罚法 Art 64; independence of 法制审核).

    `excludeActorsOf`: whoever completed those tasks in this case; `excludeUsersFrom`: users named in
    the case data (e.g. the case officers assigned at acceptance).
    """
    users: set[str] = set()
    spec_ids = list(getattr(meta, "exclude_actors_of", ()) or ())
    if spec_ids:
        users.update(session.scalars(
            select(TaskRow.completed_by).where(
                TaskRow.case_id == case_id, TaskRow.spec_id.in_(spec_ids), TaskRow.completed_by.is_not(None)
            )
        ))
    for var in getattr(meta, "exclude_users_from", ()) or ():
        users.update(_as_user_list(data.get(var)))
    return {u for u in users if u}


def _as_user_list(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple | set):
        return [v for v in value if isinstance(v, str)]
    return []


def new_ready_tasks(instance: ProcessInstance, open_ids: Iterable[str]) -> list[Any]:
    """The user tasks the instance has ready that have no open row yet: what `sync_tasks` inserts."""
    known = set(open_ids)
    return [t for t in instance.ready_user_tasks() if t.id not in known]


def assignments_for(ready: Iterable[Any]) -> dict[str, list[str]]:
    """{task spec: users} the new tasks go to by name (assignee or named candidates), as
    engine.journal.assignments_of reads them back from the rows `sync_tasks` writes for them."""
    out: dict[str, set[str]] = {}
    for task in ready:
        users = set(task.candidates_hint or ()) | ({task.assignee_hint} if task.assignee_hint else set())
        if users:
            out.setdefault(task.spec_id, set()).update(users)
    return {spec: sorted(users) for spec, users in sorted(out.items())}


# Built once: every step, timer and hand-over reads the case's open tasks.
_OPEN_TASKS = select(TaskRow).where(TaskRow.case_id == bindparam("case_id"), TaskRow.status == TaskStatus.READY)


def sync_tasks(
    session: Session, case: CaseRow, instance: ProcessInstance, definition: LoadedDefinition, clock: Clock,
    *, by: str | None = None,
) -> list[TaskRow]:
    """Insert rows for newly ready user tasks, cancel rows whose task vanished (a timer interrupted it), and tell
    the people of each new task (notifications: offered, assigned, returned); `by`: who caused it, if a person."""
    now = clock()
    existing = {
        t.id: t for t in session.scalars(_OPEN_TASKS, {"case_id": case.id})
    }
    created: list[TaskRow] = []
    candidates: dict[str, set[str]] = {}
    excluded: dict[str, set[str]] = {}
    repeats: dict[str, str] = {}  # task id -> spec id of new tasks that are a return when their step was done before
    returned: set[str] = set()
    data = instance.data
    seen: set[str] = set()
    for ready in instance.ready_user_tasks():
        seen.add(ready.id)
        row = existing.get(ready.id)
        if row is not None:
            if row.due_at != ready.due:
                row.due_at = ready.due
                row.sort_due = ready.due or NO_DEADLINE
            continue
        meta = definition.task_meta(ready.spec_id)
        # A task is its acting agency's (its queues, who may act): the case's, unless the model names another.
        acting = getattr(meta, "agency_from", None)
        agency = str(ready.data.get(acting) or data.get(acting) or case.agency_code) if acting else case.agency_code
        created.append(TaskRow(
            id=ready.id, case_id=case.id, spec_id=ready.spec_id, name=ready.name, role=ready.role,
            stage=ready.stage or case.stage, document=ready.document, status=TaskStatus.READY,
            # A step that waits for another agency's answer (handOver=await) is offered to nobody here.
            assignee=ready.assignee_hint,
            restricted=bool(ready.candidates_hint) or getattr(meta, "hand_over", None) == "await",
            supervision=bool(getattr(meta, "supervision", False)), mi_index=ready.mi_index,
            due_at=ready.due, sort_due=ready.due or NO_DEADLINE, created_at=now, agency_code=agency,
            claimed_at=None, completed_at=None, completed_by=None, form_data=None,
        ))
        candidates[ready.id] = set(ready.candidates_hint or ())
        excluded[ready.id] = excluded_users(session, case.id, meta, {**data, **ready.data})
        notice = getattr(meta, "notice", None)
        if notice == "returned":
            returned.add(ready.id)
        elif notice == "returned_on_repeat":
            repeats[ready.id] = ready.spec_id
    _insert_tasks(session, created, candidates=candidates, excluded=excluded)
    cancelled = [task_id for task_id in existing if task_id not in seen]
    for task_id in cancelled:
        row = existing[task_id]
        row.status = TaskStatus.CANCELLED
        row.completed_at = now
        session.add(CaseEventRow(case_id=case.id, kind=CaseEventKind.TASK_CANCELLED, task_id=task_id,
                                 spec_id=row.spec_id, actor=None, at=now, detail={}))
    drop_task_drafts(session, cancelled)  # nobody can sign a cancelled task: its drafts go (none: no statement)
    if created:
        returned |= _done_before(session, case.id, repeats)
        deliver(session, new_task_notices(created, candidates=candidates, excluded=excluded, returned=returned,
                                          by=by), clock=clock)
    case.stage = instance.stage or case.stage
    case.outcome = instance.outcome or CaseOutcome.OPEN
    case.next_timer_at = instance.next_timer_due()
    case.updated_at = now
    if instance.completed:
        case.status = CaseStatus.CLOSED
        case.closed_at = now
        close_case_figures(session, case.id, now)
    return created


def _insert_tasks(session: Session, rows: list[TaskRow], *, candidates: dict[str, set[str]],
                  excluded: dict[str, set[str]]) -> None:
    """Insert the new tasks and their marks by the tables' INSERTs, and keep each row in the session as if it
    had been loaded (every column is set: nothing is read back). The unit of work's flush of new objects cost
    more than the statements; the task pages of those the rows concern are marked changed, as a flush would."""
    if not rows:
        return
    marks = [{"task_id": row.id, "user_id": user, "kind": kind} for row in rows
             for kind, users in (("candidate", candidates[row.id]), ("excluded", excluded[row.id]))
             for user in sorted(users)]
    note_queue_change(session, {scope for row in rows for scope in task_scopes(session, row)}
                      | {user_scope(mark["user_id"]) for mark in marks})
    session.execute(_INSERT_TASKS, [{column: getattr(row, column) for column in _TASK_COLUMNS} for row in rows])
    if marks:
        session.execute(_INSERT_MARKS, marks)
    for row in rows:
        make_transient_to_detached(row)
        session.add(row)


_INSERT_TASKS, _INSERT_MARKS = TaskRow.__table__.insert(), TaskUserRow.__table__.insert()
# Not form_data: NULL until the task is completed (a JSON column given None would store the JSON null).
_TASK_COLUMNS = tuple(column.key for column in TaskRow.__table__.columns if column.key != "form_data")


def _done_before(session: Session, case_id: int, repeats: dict[str, str]) -> set[str]:
    """Of the new tasks in `repeats` (task id -> spec id), those whose step this case has done before: each is
    a return (退回). One query, and only when the model marks such a step (`notice="returned_on_repeat"`)."""
    if not repeats:
        return set()
    done = set(session.scalars(select(TaskRow.spec_id).where(
        TaskRow.case_id == case_id, TaskRow.spec_id.in_(sorted(set(repeats.values()))),
        TaskRow.status == TaskStatus.COMPLETED).distinct()))
    return {task_id for task_id, spec_id in repeats.items() if spec_id in done}
