"""Task lists, claiming and assignment. Completing a task (the hot path) is engine/usecases/completion.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session, aliased, defer

from engine import journal
from engine.db.repositories import Cases, Tasks, Users, role_names
from engine.db.session import Work
from engine.db.tables import CaseEventRow, CaseRow, TaskRow, TaskUserRow, UserRow
from engine.enums import CaseEventKind, NoticeKind, TaskStatus
from engine.errors import Conflict, Forbidden
from engine.rules import duties
from engine.rules.duties import HEAD_ROLE
from engine.services import Services
from engine.usecases.access import check_may_be_assigned, check_may_claim, ensure_open, facts_of, person_of
from engine.usecases.completion import complete_task
from engine.usecases.drafts import drop_task_drafts
from engine.usecases.notifications import notify
from engine.values import AssignTask, ClaimTask, Clock, TaskView, UnclaimTask
from engine.views import task_view
from signatures.keys import KeySigner
from signatures.records import REASSIGN_SPEC


def claim_task(cmd: ClaimTask, *, svc: Services, clock: Clock) -> TaskView:
    task_id, user_id = cmd.task_id, cmd.user_id
    with svc.uow() as work:
        task = work.tasks.get(task_id, lock=True)
        ensure_open(task)
        user = work.users.active(user_id)
        # Without a usable certificate there is nothing to sign with: refused at the claim already.
        check_may_claim(work.session, task, user, now=clock())
        if task.assignee != user_id:
            task.assignee = user_id
            task.claimed_at = clock()
            work.session.add(CaseEventRow(case_id=task.case_id, kind=CaseEventKind.CLAIMED, task_id=task.id,
                                          spec_id=task.spec_id, actor=user_id, at=clock(), detail={}))
        view = task_view(work.session, task, work.cases.get(task.case_id))
        work.commit()
        return view


def unclaim_task(cmd: UnclaimTask, *, svc: Services, clock: Clock) -> TaskView:
    task_id, user_id = cmd.task_id, cmd.user_id
    with svc.uow() as work:
        task = work.tasks.get(task_id, lock=True)
        ensure_open(task)
        if task.assignee != user_id:
            raise Forbidden(f"只有签收人可以退回任务 (only the assignee may unclaim); assignee: {task.assignee}")
        if not duties.may_unclaim(duties.Person.of(user_id, ()), facts_of(task)):
            raise Forbidden("合议表决任务指定给本人，不能退回 (a panel member's vote cannot be unclaimed)")
        task.assignee = None
        task.claimed_at = None
        work.session.add(CaseEventRow(case_id=task.case_id, kind=CaseEventKind.UNCLAIMED, task_id=task.id,
                                      spec_id=task.spec_id, actor=user_id, at=clock(), detail={}))
        view = task_view(work.session, task, work.cases.get(task.case_id))
        work.commit()
        return view


def assign_task(cmd: AssignTask, *, svc: Services, clock: Clock) -> TaskView:
    """A head assigns or reassigns a task (sickness, workload, a revoked certificate); the new assignee must be
    allowed to act and hold a usable signing certificate. A task offered by name goes to one of those named —
    or, when none of them can take it any more (stranded: engine.rules.duties.stranded_names), to anyone of
    its lane who could act on it.

    The hand-over is itself a signed record in the case chain (`signatures.records.REASSIGN_SPEC`), so an
    auditor holding only the evidence bundle can tell who held the task when its step was signed.
    """
    now = clock()
    with svc.uow.read() as session:  # the PIN's scrypt outside the write lock
        head_of(session, cmd.by)
        signer = journal.unlock_signer(svc, session, cmd.by, cmd.pin, now)
    with svc.uow() as work:
        head = head_of(work.session, cmd.by)
        journal.check_key_still_valid(work.session, signer.fingerprint, now)
        task, case, _, _ = hand_over(work, svc, head=head, signer=signer, task_id=cmd.task_id,
                                     assignee=cmd.assignee, reason=cmd.reason, now=now)
        view = task_view(work.session, task, case)
        work.commit()
        return view


def hand_over(work: Work, svc: Services, *, head: UserRow, signer: KeySigner, task_id: str, assignee: str,
              reason: str, now: dt.datetime) -> tuple[TaskRow, CaseRow, str | None, journal.SignedStep]:
    """One hand-over inside the caller's transaction: lock the task and its case, check the new holder, write
    the `assigned` event and the signed record. Returns the task, its case, the previous holder and the record.
    Shared by `assign_task` and a batch (engine/usecases/team.py), so both follow the same rules."""
    session = work.session
    task = work.tasks.get(task_id, lock=True)
    case = work.cases.get(task.case_id, lock=True)
    session.refresh(task)
    if (refused := duties.refusal_to_assign(person_of(head), case.agency_code)) is not None:
        raise Forbidden(refused.message)  # a head of another agency: its heads hand out its work
    ensure_open(task)
    target = work.users.active(assignee)
    previous = task.assignee
    if previous == assignee:
        raise Conflict(f"任务已由 {assignee} 办理 (the task is already held by {assignee})")
    check_may_be_assigned(session, task, target, now=now)
    task.assignee = assignee
    task.claimed_at = now
    # Handed to someone else: the others' half-typed drafts are neither theirs to finish nor the new holder's.
    drop_task_drafts(session, [task.id], keep_user=assignee)
    detail = {"task_id": task.id, "task_spec_id": task.spec_id, "assignee": assignee, "previous": previous,
              "reason": reason.strip()}
    session.add(CaseEventRow(case_id=task.case_id, kind=CaseEventKind.ASSIGNED, task_id=task.id, spec_id=task.spec_id,
                             actor=head.id, at=now, detail=detail))
    # The reason is the head's word on the hand-over (workload, sickness), shown in the inbox, never mailed.
    notify(session, recipients=[assignee], kind=NoticeKind.ASSIGNED, case_id=task.case_id, task_id=task.id,
           by=head.id, note=detail["reason"], clock=lambda: now)
    session.flush()
    # Who holds the task's step now, over every open instance (a panel's votes share one spec id).
    holders = journal.assignments_of(session, list(session.scalars(select(TaskRow).where(
        TaskRow.case_id == case.id, TaskRow.spec_id == task.spec_id, TaskRow.status == TaskStatus.READY))))
    definition = svc.definition(session, case.definition_id)
    record = journal.record_step(session, journal.StepFacts(
        case=case, definition_sha256=definition.sha256, task_id=None, task_spec_id=REASSIGN_SPEC,
        task_name="改派任务", role=HEAD_ROLE, actor=head.id, actor_name=head.name, form_data=detail,
        assignments=holders), signer, now)
    return task, case, previous, record


def head_of(session: Session, user_id: str) -> UserRow:
    """The active head `user_id`, or Forbidden: only a head hands out work."""
    head = Users(session).active(user_id)
    if (refused := duties.refusal_to_assign(person_of(head))) is not None:
        raise Forbidden(refused.message)
    return head


def list_tasks(
    svc: Services, *, user_id: str | None = None, case: str | int | None = None, include_done: bool = False,
    limit: int = 200, offset: int = 0,
) -> list[TaskView]:
    """My tasks and my groups' tasks, most urgent first; indexed queries on the task table."""
    with svc.uow.read() as session:
        # A list never needs the workflow state: leave that blob in the database.
        query = (select(TaskRow, CaseRow).join(CaseRow, CaseRow.id == TaskRow.case_id)
                 .options(defer(CaseRow.state)))
        if user_id is not None:
            user = Users(session).active(user_id)
            queue = _queue_ids(user_id, user.agency_code, sorted(role_names(user)), limit + offset).subquery()
            query = query.join(queue, queue.c.id == TaskRow.id)  # the queue holds open tasks only
        elif not include_done:
            query = query.where(TaskRow.status == TaskStatus.READY)
        if case is not None:
            query = query.where(TaskRow.case_id == Cases(session).find(case, with_state=False).id)
        query = query.order_by(TaskRow.sort_due, TaskRow.created_at, TaskRow.id).limit(limit).offset(offset)
        return [task_view(session, t, c, with_users=False, calendar=svc.calendar) for t, c in session.execute(query)]


def _queue_ids(user_id: str, agency: str, roles: list[str], depth: int) -> Any:
    """The ids of the first `depth` tasks of a user's queue, as three index-ordered parts.

    One OR over assignee / named candidate / group role defeats every index at 100,000 cases; each part
    alone walks its own index in deadline order and stops after `depth` rows. Tasks offered to the lane: of the
    person's own agency only (engine.rules.duties `refusal_to_act`), through ix_tasks_agency_queue — one
    agency's open tasks, not the platform's. Tasks held by or named to them: of any agency (a 合议 member
    invited from another agency acts on the vote named to them).
    """
    task = aliased(TaskRow)  # its own name: never correlated with the caller's task table
    users = aliased(TaskUserRow)
    excluded = (select(users.task_id).where(users.task_id == task.id, users.user_id == user_id,
                                             users.kind == "excluded").correlate(task).exists())
    order = (task.sort_due, task.created_at, task.id)
    mine = (select(task.id).where(task.status == TaskStatus.READY, task.assignee == user_id, ~excluded)
            .order_by(*order).limit(depth))
    # Driven from the person's own candidate rows (a few thousand at most), not from every open task.
    offered = select(TaskUserRow.task_id).where(TaskUserRow.user_id == user_id, TaskUserRow.kind == "candidate")
    # The other terms are wrapped in coalesce() on purpose: no index can serve them, so the planner (SQLite's
    # especially) starts from the offered ids instead of walking every unassigned open task.
    named = (select(task.id).where(task.id.in_(offered), func.coalesce(task.status, "") == TaskStatus.READY,
                                   func.coalesce(task.assignee, "") == "", task.role.in_(roles), ~excluded)
             .order_by(*order).limit(depth))
    group = (select(task.id).where(task.status == TaskStatus.READY, task.agency_code == agency, task.role.in_(roles),
                                   task.restricted.is_(False), task.assignee.is_(None), ~excluded)
             .order_by(*order).limit(depth))
    return union_all(*(select(q.subquery().c.id) for q in (mine, named, group)))


def show_task(svc: Services, task_id: str) -> TaskView:
    with svc.uow.read() as session:
        task = Tasks(session).get(task_id)
        case = Cases(session).get(task.case_id)
        definition = svc.definition(session, case.definition_id)
        view = task_view(session, task, case, calendar=svc.calendar)
        from dataclasses import replace

        return replace(view, form_schema=definition.form_schema(task.spec_id))


__all__ = ["HEAD_ROLE", "assign_task", "claim_task", "complete_task", "list_tasks", "show_task", "unclaim_task"]
