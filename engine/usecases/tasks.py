"""Task lists, claiming, assignment, and completing a task (the hot path)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, select, union_all, update
from sqlalchemy.orm import Session, aliased, defer

from engine import journal
from engine.db.queue_tables import SCOPES_OPTION, task_scopes
from engine.db.tables import CaseEventRow, CaseRow, TaskRow, TaskUserRow, UserRow
from engine.errors import CasetrailError, Conflict, DefinitionInvalid, Forbidden, LegalGateRefused, NotFound
from engine.services import Services
from engine.stepdocs import StepDocumentsInput, documents_for_step
from engine.usecases.forms import validate_form
from engine.usecases.publications import record_publication_step
from engine.usecases.tasksync import excluded_users, sync_tasks
from engine.values import Clock, CompleteTask, ProducedDocument, TaskView
from engine.views import task_view
from signatures.records import REASSIGN_SPEC

HEAD_ROLE = "head"


def _user(session: Session, user_id: str) -> UserRow:
    user = session.get(UserRow, user_id)
    if user is None or not user.active:
        raise Forbidden(f"用户不存在或已停用 (unknown or inactive user): {user_id}")
    return user


def _task(session: Session, task_id: str, *, lock: bool = False) -> TaskRow:
    task = session.get(TaskRow, task_id, with_for_update=lock, populate_existing=lock)
    if task is None:
        raise NotFound(f"任务不存在 (no such task): {task_id}")
    return task


def _ensure_open(task: TaskRow) -> None:
    if task.status != "ready":
        who = f"，由 {task.completed_by} 完成" if task.completed_by else ""
        raise Conflict(f"任务已结束{who} (task is no longer open: {task.status})")


def _marks_for(session: Session, task_id: str, user_id: str) -> set[str]:
    """How the task names this person: {"candidate"}, {"excluded"}, both or neither (one indexed lookup)."""
    return set(session.scalars(select(TaskUserRow.kind).where(TaskUserRow.task_id == task_id,
                                                             TaskUserRow.user_id == user_id)))


def _check_may_act(session: Session, task: TaskRow, user: UserRow) -> None:
    """Role from the lane, named candidates, assignee, and separation of duties — checked on every call."""
    roles = {r.role for r in user.roles}
    if task.role not in roles:
        raise Forbidden(f"此任务需要角色 {task.role} (task needs role {task.role}); {user.id} 无此角色")
    marks = _marks_for(session, task.id, user.id)
    if "excluded" in marks:
        raise Forbidden(
            f"{user.id} 参与了本案调查，不得办理此环节（回避；行政处罚法第四十三条、第五十八条、第六十四条）"
            " (separation of duties: an investigator of this case may not take this step)"
        )
    if task.restricted and "candidate" not in marks and task.assignee != user.id:
        raise Forbidden(f"此任务只交给指定人员 (task is offered to named people only); {user.id} 不在其中")
    if task.assignee is not None and task.assignee != user.id:
        raise Forbidden(f"任务已由 {task.assignee} 签收 (task is claimed by {task.assignee})")


def claim_task(svc: Services, task_id: str, user_id: str, *, clock: Clock) -> TaskView:
    with svc.uow() as session:
        task = _task(session, task_id, lock=True)
        _ensure_open(task)
        user = _user(session, user_id)
        _check_may_act(session, task, user)
        if task.assignee != user_id:
            task.assignee = user_id
            task.claimed_at = clock()
            session.add(CaseEventRow(case_id=task.case_id, kind="claimed", task_id=task.id, spec_id=task.spec_id,
                                     actor=user_id, at=clock(), detail={}))
        return task_view(session, task, session.get_one(CaseRow, task.case_id))


def unclaim_task(svc: Services, task_id: str, user_id: str, *, clock: Clock) -> TaskView:
    with svc.uow() as session:
        task = _task(session, task_id, lock=True)
        _ensure_open(task)
        if task.assignee != user_id:
            raise Forbidden(f"只有签收人可以退回任务 (only the assignee may unclaim); assignee: {task.assignee}")
        if task.mi_index is not None:
            raise Forbidden("合议表决任务指定给本人，不能退回 (a panel member's vote cannot be unclaimed)")
        task.assignee = None
        task.claimed_at = None
        session.add(CaseEventRow(case_id=task.case_id, kind="unclaimed", task_id=task.id, spec_id=task.spec_id,
                                 actor=user_id, at=clock(), detail={}))
        return task_view(session, task, session.get_one(CaseRow, task.case_id))


def assign_task(svc: Services, task_id: str, assignee: str, *, by: str, pin: str | None, clock: Clock,
                reason: str = "") -> TaskView:
    """A head assigns or reassigns a task (sickness, workload); the new assignee must be allowed to act.

    The hand-over is itself a signed record in the case chain (`signatures.records.REASSIGN_SPEC`), so an
    auditor holding only the evidence bundle can tell who held the task when its step was signed.
    """
    now = clock()
    with svc.uow() as session:
        head = _user(session, by)
        if HEAD_ROLE not in {r.role for r in head.roles}:
            raise Forbidden("只有负责人可以分派任务 (only a head may assign tasks)")
        task = _task(session, task_id, lock=True)
        case = session.get(CaseRow, task.case_id, with_for_update=True, populate_existing=True)
        if case is None:
            raise NotFound(f"案件不存在 (no such case): {task.case_id}")
        session.refresh(task)
        _ensure_open(task)
        target = _user(session, assignee)
        previous = task.assignee
        if previous == assignee:
            raise Conflict(f"任务已由 {assignee} 办理 (the task is already held by {assignee})")
        task.assignee = None
        _check_may_act(session, task, target)
        signer = journal.unlock_signer(session, head.id, pin, now)
        task.assignee = assignee
        task.claimed_at = now
        detail = {"task_id": task.id, "task_spec_id": task.spec_id, "assignee": assignee, "previous": previous,
                  "reason": reason.strip()}
        session.add(CaseEventRow(case_id=task.case_id, kind="assigned", task_id=task.id, spec_id=task.spec_id,
                                 actor=by, at=now, detail=detail))
        session.flush()
        # Who holds the task's step now, over every open instance (a panel's votes share one spec id).
        holders = journal.assignments_of(session, list(session.scalars(select(TaskRow).where(
            TaskRow.case_id == case.id, TaskRow.spec_id == task.spec_id, TaskRow.status == "ready"))))
        definition = svc.definition(session, case.definition_id)
        journal.record_step(session, journal.StepFacts(
            case=case, definition_sha256=definition.sha256, task_id=None, task_spec_id=REASSIGN_SPEC,
            task_name="改派任务", role=HEAD_ROLE, actor=head.id, actor_name=head.name, form_data=detail,
            assignments=holders), signer, now)
        return task_view(session, task, case)


def complete_task(cmd: CompleteTask, *, svc: Services, clock: Clock) -> TaskView:
    """Authorise, validate, check the legal gates, advance the workflow, and commit once."""
    from engine.spiff.instance import ProcessInstance

    now = clock()
    with svc.uow() as session:
        task = _task(session, cmd.task_id)
        case = session.get(CaseRow, task.case_id, with_for_update=True, populate_existing=True)
        if case is None:
            raise NotFound(f"案件不存在 (no such case): {task.case_id}")
        session.refresh(task)
        _ensure_open(task)
        user = _user(session, cmd.user_id)
        _check_may_act(session, task, user)
        definition = svc.definition(session, case.definition_id)
        meta = definition.task_meta(task.spec_id)
        data = validate_form(definition.form_schema(task.spec_id), cmd.data, title=task.name)
        if task.mi_index is not None and _already_completed_instance(session, task, user.id):
            raise LegalGateRefused("合议规则：每名合议人员只表决一次", f"{user.id} 已对本案表决，不得重复表决 (already voted)")
        instance = ProcessInstance.restore(definition, case.state, clock=clock, settings=svc.settings,
                                           calendar=svc.calendar)
        # The barred set is re-derived now, not only when the task was offered: data may have changed since.
        if user.id in excluded_users(session, case.id, meta, instance.data):
            raise Forbidden(f"{user.id} 参与了本案调查，不得办理此环节（回避） (separation of duties)")
        gate = instance.evaluate_gates(task.id, data, actor=user.id)
        if gate is not None:
            raise LegalGateRefused(gate.article, gate.message)
        signer = journal.unlock_signer(session, user.id, cmd.pin, now)  # PIN, revocation, expiry: before any write
        before = next((t.data for t in instance.ready_user_tasks() if t.id == task.id), instance.data)
        try:
            instance.complete(task.id, {**data, "_actor": user.id})
        except CasetrailError:
            raise
        except Exception as exc:  # a model error at run time: report it, write nothing
            raise DefinitionInvalid(f"流程执行出错 (the process model failed at {task.spec_id}): {exc}") from exc
        done = session.execute(
            update(TaskRow).where(TaskRow.id == task.id, TaskRow.status == "ready")
            .values(status="completed", completed_by=user.id, completed_at=now, form_data=data,
                    assignee=user.id)
            # Those who saw it offered or held, and the one who completes it: their task pages change.
            .execution_options(synchronize_session=False,
                               **{SCOPES_OPTION: task_scopes(session, task, users=(user.id,))})
        )
        if done.rowcount != 1:
            raise Conflict("任务已被他人完成 (someone else completed this task first)")
        session.expire(task)
        created = sync_tasks(session, case, instance, definition, clock)
        case.state = instance.serialize()
        session.add(CaseEventRow(case_id=case.id, kind="completed", task_id=task.id, spec_id=task.spec_id,
                                 actor=user.id, at=now, detail={"form_data": data}))
        # The step's 文书, rendered and signed by the same key; a failure here rolls the whole step back.
        documents = documents_for_step(session, svc, StepDocumentsInput(
            case_id=case.id, case_number=case.number, task_id=task.id, spec_id=task.spec_id, task_name=task.name,
            document_code=meta.document, actor=user.id, case_data=before, form_data=data,
            case_data_after=instance.data, due=task.due_at, now=now), signer)
        record_publication_step(session, case=case, task_id=task.id, spec_id=task.spec_id, form_data=data, now=now)
        _sign_step(session, cmd, case, definition, meta, user, task_spec=(task.id, task.spec_id, task.name, task.role),
                   data=data, created=created, signer=signer, now=now, documents=documents)
        session.flush()
        return task_view(session, task, case)


def _sign_step(session: Session, cmd: CompleteTask, case: CaseRow, definition: Any, meta: Any, user: UserRow, *,
               task_spec: tuple[str, str, str, str], data: dict[str, Any], created: list[TaskRow],
               signer: Any, now: Any, documents: tuple[ProducedDocument, ...]) -> None:
    """The step's signed record, last in the transaction (it takes the log lock). See engine/journal.py."""
    task_id, spec_id, name, role = task_spec
    record_data = dict(data)
    if not meta.multi_instance:
        votes = journal.signed_votes_before(session, case.id, lambda s: _is_vote(definition, s))
        if votes:
            record_data[journal.VOTES_KEY] = votes
    journal.record_step(session, journal.StepFacts(
        case=case, definition_sha256=definition.sha256, task_id=task_id, task_spec_id=spec_id, task_name=name,
        role=role, actor=user.id, actor_name=user.name, form_data=record_data, documents=(*documents, *cmd.documents),
        assignments=journal.assignments_of(session, created)), signer, now)


def _is_vote(definition: Any, spec_id: str) -> bool:
    meta = definition.metas.get(spec_id)
    return bool(meta is not None and meta.multi_instance)


def _already_completed_instance(session: Session, task: TaskRow, user_id: str) -> bool:
    return session.scalar(select(exists().where(
        TaskRow.case_id == task.case_id, TaskRow.spec_id == task.spec_id, TaskRow.completed_by == user_id,
        TaskRow.status == "completed",
    ))) or False


def list_tasks(
    svc: Services, *, user_id: str | None = None, case: str | int | None = None, include_done: bool = False,
    limit: int = 200, offset: int = 0,
) -> list[TaskView]:
    """My tasks and my groups' tasks, most urgent first; indexed queries on the task table."""
    from engine.usecases.cases import find_case

    with svc.uow.read() as session:
        # A list never needs the workflow state: leave that blob in the database.
        query = (select(TaskRow, CaseRow).join(CaseRow, CaseRow.id == TaskRow.case_id)
                 .options(defer(CaseRow.state)))
        if user_id is not None:
            roles = [r.role for r in _user(session, user_id).roles]
            queue = _queue_ids(user_id, roles, limit + offset).subquery()
            query = query.join(queue, queue.c.id == TaskRow.id)  # the queue holds open tasks only
        elif not include_done:
            query = query.where(TaskRow.status == "ready")
        if case is not None:
            query = query.where(TaskRow.case_id == find_case(session, case, with_state=False).id)
        query = query.order_by(TaskRow.sort_due, TaskRow.created_at, TaskRow.id).limit(limit).offset(offset)
        return [task_view(session, t, c, with_users=False, calendar=svc.calendar) for t, c in session.execute(query)]


def _queue_ids(user_id: str, roles: list[str], depth: int) -> Any:
    """The ids of the first `depth` tasks of a user's queue, as three index-ordered parts.

    One OR over assignee / named candidate / group role defeats every index at 100,000 cases; each part
    alone walks its own index in deadline order and stops after `depth` rows.
    """
    task = aliased(TaskRow)  # its own name: never correlated with the caller's task table
    users = aliased(TaskUserRow)
    excluded = (select(users.task_id).where(users.task_id == task.id, users.user_id == user_id,
                                             users.kind == "excluded").correlate(task).exists())
    order = (task.sort_due, task.created_at, task.id)
    mine = (select(task.id).where(task.status == "ready", task.assignee == user_id, ~excluded)
            .order_by(*order).limit(depth))
    # Driven from the person's own candidate rows (a few thousand at most), not from every open task.
    offered = select(TaskUserRow.task_id).where(TaskUserRow.user_id == user_id, TaskUserRow.kind == "candidate")
    # The other terms are wrapped in coalesce() on purpose: no index can serve them, so the planner (SQLite's
    # especially) starts from the offered ids instead of walking every unassigned open task.
    named = (select(task.id).where(task.id.in_(offered), func.coalesce(task.status, "") == "ready",
                                   func.coalesce(task.assignee, "") == "", task.role.in_(roles), ~excluded)
             .order_by(*order).limit(depth))
    group = (select(task.id).where(task.status == "ready", task.role.in_(roles), task.restricted.is_(False),
                                   task.assignee.is_(None), ~excluded)
             .order_by(*order).limit(depth))
    return union_all(*(select(q.subquery().c.id) for q in (mine, named, group)))


def show_task(svc: Services, task_id: str) -> TaskView:
    with svc.uow.read() as session:
        task = _task(session, task_id)
        case = session.get_one(CaseRow, task.case_id)
        definition = svc.definition(session, case.definition_id)
        view = task_view(session, task, case, calendar=svc.calendar)
        from dataclasses import replace

        return replace(view, form_schema=definition.form_schema(task.spec_id))
