"""The heads' team: every open task of the officers a head leads, filtered, counted and paged; batch hand-overs
(改派) and 督办 of overdue or soon-due tasks — each a signed record in its case's chain.

Whose tasks a head sees is `engine.rules.duties.team_scope` (as SQL: engine.usecases.access `team_tasks`); a
hand-over follows the very rules and records of a single one (engine.usecases.tasks `hand_over`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased, defer

from engine import journal
from engine.db.repositories import Cases, Tasks, Users
from engine.db.tables import CaseEventRow, CaseRow, TaskRow, TaskUserRow, UserRoleRow, UserRow
from engine.enums import CaseEventKind, NoticeKind, TaskStatus
from engine.errors import Conflict, Forbidden, NotFound, ValidationError
from engine.rules import duties
from engine.rules.duties import HEAD_ROLE
from engine.services import Services
from engine.usecases.access import facts_of, person_of, signing_problems, team_tasks
from engine.usecases.notifications import notify
from engine.usecases.taskpage import due_state, due_state_sql
from engine.usecases.tasks import hand_over, head_of
from engine.values import Clock, Handover, Named, ReassignTasks, TeamItem, TeamPage, Urged, UrgeTask
from engine.views import task_view
from signatures.records import URGE_SPEC

# The due filter's words: the task page's due states, with "ontime" for neither overdue nor soon.
TEAM_DUE = {"overdue": "overdue", "soon": "soon", "ontime": ""}
TEAM_SORTS = ("due", "case", "stage", "holder", "created")
NOBODY = "-"  # the holder filter for tasks nobody holds yet
MAX_BATCH = 100  # tasks per hand-over: a page of the team view at most, in one transaction
MAX_TEXT = 500  # a reason or a 督办 note


def _refuse_unless_head(session: Session, user_id: str) -> duties.Person:
    person = person_of(Users(session).active(user_id))
    if (refused := duties.refusal_to_see_team(person)) is not None:
        raise Forbidden(refused.message)
    return person


def team_page(svc: Services, *, head_id: str, holder: str = "", stage: str = "", due: str = "", sort: str = "due",
              descending: bool = False, now: dt.datetime, page: int = 1, per_page: int = 50) -> TeamPage:
    """The open tasks of `head_id`'s team, one page of them, with the counts per holder, stage and due state
    among the tasks matching the other filters. `holder`: a login id, NOBODY, or "" for all; `due`: a key of
    TEAM_DUE or ""; `sort`: one of TEAM_SORTS (ties by deadline, then id)."""
    if due and due not in TEAM_DUE:
        raise ValidationError(f"期限筛选只能是 overdue、soon 或 ontime (due must be overdue, soon or ontime): {due}")
    if sort not in TEAM_SORTS:
        raise ValidationError(f"排序只能是 {'、'.join(TEAM_SORTS)} (sort must be one of {', '.join(TEAM_SORTS)}): {sort}")
    if not 1 <= per_page <= MAX_BATCH:
        raise ValidationError(f"每页条数应在 1 到 {MAX_BATCH} 之间 (per_page out of range): {per_page}")
    if now.tzinfo is None:
        raise ValidationError("now 必须带时区 (now must be timezone-aware)")
    with svc.uow.read() as session:
        head = _refuse_unless_head(session, head_id)
        state = due_state_sql(now, svc.settings.due_soon)
        base = [TaskRow.status == TaskStatus.READY, team_tasks(head)]
        chosen: dict[str, ColumnElement[bool]] = {}
        if holder:
            chosen["holder"] = TaskRow.assignee.is_(None) if holder == NOBODY else TaskRow.assignee == holder
        if stage:
            chosen["stage"] = TaskRow.stage == stage
        if due:
            chosen["due"] = state == TEAM_DUE[due]

        def others(facet: str) -> list[ColumnElement[bool]]:
            return [*base, *(c for f, c in chosen.items() if f != facet)]

        holders = _counts(session, TaskRow.assignee, others("holder"))
        stages = _counts(session, TaskRow.stage, others("stage"))
        due_counts = {word: n for word, n in _counts(session, state, others("due"))}
        where = [*base, *chosen.values()]
        total = session.scalar(select(func.count()).select_from(TaskRow).where(*where)) or 0
        pages = max(1, -(-total // per_page))
        shown = min(max(1, page), pages)
        holder_row = aliased(UserRow)
        key = {"due": TaskRow.sort_due, "case": CaseRow.number, "stage": TaskRow.stage,
               "holder": func.coalesce(holder_row.name, ""), "created": TaskRow.created_at}[sort]
        rows = session.execute(
            select(TaskRow, CaseRow, state).join(CaseRow, CaseRow.id == TaskRow.case_id).options(defer(CaseRow.state))
            .outerjoin(holder_row, holder_row.id == TaskRow.assignee).where(*where)
            .order_by(key.desc() if descending else key, TaskRow.sort_due, TaskRow.id)
            .limit(per_page).offset((shown - 1) * per_page)).all()
        offered = _named_on(session, [t.id for t, _, _ in rows if t.assignee is None and t.restricted])
        names = _names(session, {h for h, _ in holders if h} | {t.assignee for t, _, _ in rows if t.assignee}
                       | {u for ids in offered.values() for u in ids})
        items = [_item(svc, session, head, task, case_row, task_state,
                       [task.assignee] if task.assignee else offered.get(task.id, []), names)[0]
                 for task, case_row, task_state in rows]
        roles = sorted({t.role for t, _, _ in rows})
        return TeamPage(items=tuple(items), total=total, page=shown, pages=pages,
                        holders=tuple((names.get(h) if h else None, n) for h, n in holders),
                        stages=tuple((s, n) for s, n in stages), due=due_counts,
                        assignees=_assignees(session, roles, head.agency, now))


def _counts(session: Session, column: Any, where: list[ColumnElement[bool]]) -> list[tuple[Any, int]]:
    """(value, count) of `column` among the tasks matching `where`, largest count first."""
    values = select(column.label("value")).select_from(TaskRow).where(*where).subquery()
    count = func.count()
    return [(v, n) for v, n in session.execute(
        select(values.c.value, count).group_by(values.c.value).order_by(count.desc(), values.c.value))]


def _named_on(session: Session, task_ids: list[str]) -> dict[str, list[str]]:
    """Those each task is offered to by name (one query)."""
    out: dict[str, list[str]] = {}
    if task_ids:
        for task_id, user_id in session.execute(
                select(TaskUserRow.task_id, TaskUserRow.user_id).where(
                    TaskUserRow.task_id.in_(task_ids), TaskUserRow.kind == "candidate").order_by(TaskUserRow.user_id)):
            out.setdefault(task_id, []).append(user_id)
    return out


def _names(session: Session, ids: Iterable[str]) -> dict[str, Named]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {u: Named(u, name, unit) for u, name, unit in session.execute(
        select(UserRow.id, UserRow.name, UserRow.unit).where(UserRow.id.in_(wanted)))}


def _assignees(session: Session, roles: list[str], agency: str, now: dt.datetime) -> tuple[Named, ...]:
    """Whom a head may pick as the new holder of tasks of these roles: active holders of one of them of the
    head's agency (whose cases the team's are) who can sign now (a hand-over to anyone else is refused per task with its reason anyway), by name. Until the
    `people` picker (engine.usecases.people.eligible) lands, this is the single hand-over's own check, less the
    per-task separation of duties, which the hand-over itself applies."""
    if not roles:
        return ()
    rows = session.execute(select(UserRow.id, UserRow.name, UserRow.unit).where(
        UserRow.active.is_(True), UserRow.agency_code == agency,
        UserRow.id.in_(select(UserRoleRow.user_id).where(UserRoleRow.role.in_(roles))))
        .order_by(UserRow.name, UserRow.id)).all()
    unable = signing_problems(session, [r.id for r in rows], now)
    return tuple(Named(r.id, r.name, r.unit) for r in rows if r.id not in unable)


# --- batch hand-over --------------------------------------------------------------------------------------
def _text(value: str, field: str, required: str) -> str:
    text = value.strip()
    if not text:
        raise ValidationError(required, errors={field: required})
    if len(text) > MAX_TEXT:
        message = f"不能超过 {MAX_TEXT} 字 (at most {MAX_TEXT} characters)"
        raise ValidationError(message, errors={field: message})
    return text


def reassign_tasks(cmd: ReassignTasks, *, svc: Services, clock: Clock) -> tuple[Handover, ...]:
    """A head hands several open tasks to one person for one reason (sickness, workload): each exactly as a
    single hand-over (engine.usecases.tasks `assign_task`: its checks, its `assigned` event, its signed record),
    all in one transaction — a task that may not go to them refuses the whole batch, naming the task and why,
    and nothing is written."""
    reason = _text(cmd.reason, "reason", "改派理由必填 (a reason is required to reassign tasks)")
    ids = tuple(dict.fromkeys(t.strip() for t in cmd.task_ids if t.strip()))
    if not ids:
        raise ValidationError("请选择要改派的任务 (choose the tasks to reassign)", errors={"tasks": "required"})
    if len(ids) > MAX_BATCH:
        raise ValidationError(f"一次最多改派 {MAX_BATCH} 项任务 (at most {MAX_BATCH} tasks at once)")
    now = clock()
    with svc.uow.read() as session:  # the PIN's scrypt outside the write lock
        head_of(session, cmd.by)
        signer = journal.unlock_signer(svc, session, cmd.by, cmd.pin, now)
        cases = dict(session.execute(select(TaskRow.id, TaskRow.case_id).where(TaskRow.id.in_(ids))).all())
    missing = [t for t in ids if t not in cases]
    if missing:
        raise NotFound(f"任务不存在 (no such task): {', '.join(missing)}")
    done: list[Handover] = []
    with svc.uow() as work:
        head = head_of(work.session, cmd.by)
        journal.check_key_still_valid(work.session, signer.fingerprint, now)
        work.users.active(cmd.assignee)  # an unknown or inactive person: refused before any task is named
        # Cases locked in one order by every batch: two heads' batches over the same cases cannot deadlock.
        for task_id in sorted(ids, key=lambda t: (cases[t], t)):
            try:
                task, case, previous, record = hand_over(work, svc, head=head, signer=signer, task_id=task_id,
                                                         assignee=cmd.assignee, reason=reason, now=now)
            except (Forbidden, Conflict) as exc:
                raise type(exc)(_naming(work.session, task_id, exc.message)) from exc
            done.append(Handover(task_id=task.id, case_id=case.id, case_number=case.number, spec_id=task.spec_id,
                                 task_name=task.name, previous=None if previous is None else Named(previous, ""),
                                 assignee=Named(cmd.assignee, ""), seq=record.seq))
        names = _names(work.session, [cmd.assignee, *(h.previous.id for h in done if h.previous)])
        work.commit()
    order = {t: i for i, t in enumerate(ids)}
    return tuple(sorted((_named(h, names) for h in done), key=lambda h: order[h.task_id]))


def _naming(session: Session, task_id: str, message: str) -> str:
    """A refusal in a batch names the task it is about: case number and step."""
    row = session.execute(select(CaseRow.number, TaskRow.name).join(CaseRow, CaseRow.id == TaskRow.case_id)
                          .where(TaskRow.id == task_id)).first()
    what = f"{row.number} {row.name}" if row else task_id
    return f"{what}：{message}；整批未改派 (nothing in the batch was reassigned)"


def _named(h: Handover, names: dict[str, Named]) -> Handover:
    return replace(h, assignee=names.get(h.assignee.id, h.assignee),
                   previous=None if h.previous is None else names.get(h.previous.id, h.previous))


# --- 督办 ------------------------------------------------------------------------------------------------
def urge_preview(svc: Services, *, task_id: str, head_id: str, now: dt.datetime) -> tuple[TeamItem, str | None]:
    """The task as the 督办 page shows it before the head writes the note — who would be pressed, its due
    state — and why it may not be urged now (the duties' words), or None."""
    with svc.uow.read() as session:
        head = _refuse_unless_head(session, head_id)
        task = Tasks(session).get(task_id)
        if not duties.of_agency(head, task.agency_code):  # another agency's task: not even shown
            raise Forbidden(duties.AGENCY_REFUSAL.format(who=head.id))
        case = Cases(session).get(task.case_id)
        pressed = [task.assignee] if task.assignee else _named_on(session, [task.id]).get(task.id, [])
        state = due_state(task.due_at, now, svc.settings.due_soon)
        item, refused = _item(svc, session, head, task, case, state, pressed, _names(session, pressed))
        return item, None if refused is None else refused.message


def _item(svc: Services, session: Session, head: duties.Person, task: TaskRow, case: CaseRow, state: str,
          pressed: list[str], names: dict[str, Named]) -> tuple[TeamItem, duties.Refusal | None]:
    """A task as the team view shows it to `head`; `pressed`: whom a 督办 would reach (its holder, or those it is
    offered to by name)."""
    refused = duties.refusal_to_urge(head, facts_of(task), state, pressed)
    return TeamItem(task=task_view(session, task, case, with_users=False, calendar=svc.calendar),
                    holder=names.get(task.assignee) if task.assignee else None, due_state=state,
                    offered=tuple(names[u] for u in pressed if u in names and not task.assignee),
                    may_urge=refused is None), refused


def urge_task(cmd: UrgeTask, *, svc: Services, clock: Clock) -> Urged:
    """督办: a head presses whoever holds an overdue or soon-due task (its assignee, or those it is offered to
    by name) with a note. Signed into the case's chain (`signatures.records.URGE_SPEC`: 全程留痕 — who pressed
    whom, when, about which deadline) and sent to their inbox, in one transaction. The note is the head's own
    words and goes into notices and e-mails as typed: it must not carry the complainant's identity."""
    note = _text(cmd.note, "note", "督办意见必填 (a note is required to urge a task)")
    now = clock()
    with svc.uow.read() as session:
        head_of(session, cmd.by)
        signer = journal.unlock_signer(svc, session, cmd.by, cmd.pin, now)
    with svc.uow() as work:
        session = work.session
        head = head_of(session, cmd.by)
        journal.check_key_still_valid(session, signer.fingerprint, now)
        task = work.tasks.get(cmd.task_id, lock=True)
        case = work.cases.get(task.case_id, lock=True)
        session.refresh(task)
        holders = [task.assignee] if task.assignee else _named_on(session, [task.id]).get(task.id, [])
        state = due_state(task.due_at, now, svc.settings.due_soon)
        refused = duties.refusal_to_urge(person_of(head), facts_of(task), state, holders)
        if refused is not None:
            raise (Forbidden if refused.kind in ("not_head", "agency") else Conflict)(refused.message)
        detail = {"task_id": task.id, "task_spec_id": task.spec_id, "holders": holders, "due_state": state,
                  "due_at": task.due_at.astimezone(dt.UTC).isoformat()[:19] + "Z" if task.due_at else None,
                  "note": note}
        session.add(CaseEventRow(case_id=case.id, kind=CaseEventKind.URGED, task_id=task.id, spec_id=task.spec_id,
                                 actor=head.id, at=now, detail=detail))
        session.flush()
        definition = svc.definition(session, case.definition_id)
        record = journal.record_step(session, journal.StepFacts(
            case=case, definition_sha256=definition.sha256, task_id=None, task_spec_id=URGE_SPEC,
            task_name="督办", role=HEAD_ROLE, actor=head.id, actor_name=head.name, form_data=detail), signer, now)
        notified = notify(session, recipients=holders, kind=NoticeKind.URGED, case_id=case.id, task_id=task.id,
                          by=head.id, note=note, clock=clock)
        names = _names(session, holders)
        result = Urged(task_id=task.id, case_id=case.id, case_number=case.number, spec_id=task.spec_id,
                       task_name=task.name, holders=tuple(names.get(h, Named(h, h)) for h in holders),
                       notified=notified, seq=record.seq)
        work.commit()
        return result


__all__ = ["MAX_BATCH", "NOBODY", "TEAM_DUE", "TEAM_SORTS", "reassign_tasks", "team_page", "urge_preview",
           "urge_task"]
