"""The task page: a user's open tasks filtered, counted per facet and paged — all of it in SQL.

Who sees which task is `engine.usecases.tasks.list_tasks`'s rule, here without its depth limit: the
tasks assigned to the user, the unclaimed tasks offered to them by name in a role they hold, and the
unclaimed open-to-the-group tasks of their roles — never one they are excluded from (回避).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, union_all
from sqlalchemy.orm import Session, aliased, defer

from engine.db.queue_tables import read_versions, reader_scopes
from engine.db.repositories import Users
from engine.db.tables import NO_DEADLINE, CaseRow, TaskRow, TaskUserRow, UtcDateTime
from engine.enums import TaskStatus
from engine.errors import ValidationError
from engine.services import Services
from engine.usecases.readcache import Kept
from engine.values import TaskPage, TaskPageItem
from engine.views import marked_page, task_view

DUE_STATES = ("overdue", "soon", "")
FACETS = ("stage", "violation", "due", "mine")
MAX_PER_PAGE = 200


def due_state(due_at: dt.datetime | None, now: dt.datetime, soon: dt.timedelta) -> str:
    """"overdue", "soon" or "" — the same rule as `due_state_sql`. `soon`: settings.json
    `notifications.due_soon_hours` (Settings.due_soon), the horizon the deadline notices use too."""
    if due_at is None:
        return ""
    if due_at < now:
        return "overdue"
    return "soon" if due_at - now <= soon else ""


def due_state_sql(now: dt.datetime, soon: dt.timedelta, sort_due: Any = TaskRow.sort_due) -> ColumnElement[str]:
    """`due_state` in SQL over a task's `sort_due` (the far future when a task has no deadline)."""
    return case((sort_due < now, "overdue"), (sort_due <= now + soon, "soon"), else_="")


def task_page(
    svc: Services, *, user_id: str, stage: str | None = None, violation: str | None = None,
    due: str | None = None, case_number: str | None = None, party: str | None = None, mine: bool = False,
    now: dt.datetime, page: int = 1, per_page: int = 20,
) -> TaskPage:
    """The user's and their groups' open tasks, deadline first (none last), one page of them.

    Two queries over the visible tasks: one GROUP BY over every facet at once (the facet counts and the
    total are sums over its few hundred groups at most), then the page's ids in order, joined back to
    their rows. Both are kept per process while they are exact (engine/usecases/readcache.py); a page
    with a case-number or party search is always read afresh.
    """
    if due not in (None, *DUE_STATES):
        raise ValidationError(f"期限筛选只能是 overdue 或 soon (due must be overdue or soon): {due}")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValidationError(f"每页条数应在 1 到 {MAX_PER_PAGE} 之间 (per_page out of range): {per_page}")
    if now.tzinfo is None:
        raise ValidationError("now 必须带时区 (now must be timezone-aware)")
    chosen = {"stage": stage or "", "violation": violation or "", "due": due or "", "mine": "mine" if mine else ""}
    text_filters = _text_filters(case_number, party)
    soon = svc.settings.due_soon
    cache = svc.reads
    with svc.uow.read() as session:
        user = Users(session).active(user_id)
        roles = tuple(sorted(r.role for r in user.roles))
        agency = user.agency_code
        # The versions first: what is read after them is at least as new as the versions it is kept under.
        version = read_versions(session, reader_scopes(user_id, roles))
        keep = not text_filters
        page_key = ("page", user_id, agency, roles, *chosen.values(), page, per_page)
        if keep and (kept := cache.get(page_key, version=version, now=now)) is not None:
            return marked_page(kept.value, svc.calendar)
        counts_key = ("counts", user_id, agency, roles)
        counted = cache.get(counts_key, version=version, now=now) if keep else None
        visible = _visible(user_id, agency, list(roles)).subquery("visible")
        if counted is None:
            counted = _facet_groups(session, visible, text_filters, user_id, now, soon)
            if keep:
                cache.put(counts_key, replace(counted, version=version))
        groups = counted.value
        counts = {facet: _count_by(groups, facet, chosen) for facet in FACETS}
        total = sum(n for values, n in groups if _matches(values, chosen))
        pages = max(1, -(-total // per_page))
        shown = min(max(1, page), pages)
        order = (visible.c.sort_due, visible.c.supervision.desc(), visible.c.created_at, visible.c.id)
        ids = (select(visible.c.id, visible.c.sort_due, visible.c.supervision, visible.c.created_at)
               .where(*_facet_filters(visible, chosen, user_id, now, soon)))
        if violation:
            ids = ids.where(_violation_of(visible) == violation)
        if text_filters:
            ids = ids.join(CaseRow, CaseRow.id == visible.c.case_id).where(*text_filters)
        chosen_ids = ids.order_by(*order).limit(per_page).offset((shown - 1) * per_page).subquery("chosen")
        rows = (
            select(TaskRow, CaseRow, due_state_sql(now, soon)).join(chosen_ids, chosen_ids.c.id == TaskRow.id)
            .join(CaseRow, CaseRow.id == TaskRow.case_id).options(defer(CaseRow.state))
            .order_by(chosen_ids.c.sort_due, chosen_ids.c.supervision.desc(), chosen_ids.c.created_at, TaskRow.id))
        items = tuple(TaskPageItem(task_view(session, t, c, with_users=False), c.violation, state)
                      for t, c, state in (session.execute(rows) if total else ()))
    result = TaskPage(items=items, total=total, page=shown, pages=pages, counts=counts)
    if keep:
        cache.put(page_key, Kept(version, counted.valid_until, result))
    return marked_page(result, svc.calendar)


def _violation_of(visible: Any) -> Any:
    """The violation type of a visible task's case, looked up per task in the (id, violation) index.

    A scalar subquery rather than a join on purpose: given a join, PostgreSQL misjudges how many tasks are
    visible and hashes the whole case table instead of looking up a few thousand cases."""
    case_row = aliased(CaseRow)  # its own name: never correlated with a join on the case table outside
    return select(case_row.violation).where(case_row.id == visible.c.case_id).correlate_except(case_row) \
        .scalar_subquery()


def _facet_filters(visible: Any, chosen: dict[str, str], user_id: str, now: dt.datetime,
                   soon: dt.timedelta) -> list[Any]:
    """The chosen task-side facets as conditions on the visible tasks (violation is the case's)."""
    out: list[Any] = []
    if chosen["stage"]:
        out.append(visible.c.stage == chosen["stage"])
    if chosen["due"]:
        out.append(due_state_sql(now, soon, visible.c.sort_due) == chosen["due"])
    if chosen["mine"]:
        out.append(visible.c.assignee == user_id)
    return out


def _visible(user_id: str, agency: str, roles: list[str]) -> Any:
    """Every open task the user may see, as three index-driven parts (see tasks._queue_ids) with the
    columns the page sorts, filters and counts by: those offered by name or to the lane of their own agency
    only (engine.rules.duties `refusal_to_act`).

    The parts cannot overlap — assigned to the user; unassigned and offered by name (restricted);
    unassigned and open to the group (not restricted) — so UNION ALL counts each task once.
    """
    task = aliased(TaskRow)
    users = aliased(TaskUserRow)
    excluded = (select(users.task_id).where(users.task_id == task.id, users.user_id == user_id,
                                             users.kind == "excluded").correlate(task).exists())
    columns = (task.id, task.case_id, task.stage, task.assignee, task.sort_due, task.supervision, task.created_at)
    mine = select(*columns).where(task.status == TaskStatus.READY, task.assignee == user_id, ~excluded)
    offered = select(TaskUserRow.task_id).where(TaskUserRow.user_id == user_id, TaskUserRow.kind == "candidate")
    # coalesce() keeps the planner from these terms' indexes: it starts from the person's candidate rows.
    named = select(*columns).where(task.id.in_(offered), func.coalesce(task.status, "") == TaskStatus.READY,
                                   func.coalesce(task.assignee, "") == "", task.restricted.is_(True),
                                   task.role.in_(roles), func.coalesce(task.agency_code, "") == agency, ~excluded)
    group = select(*columns).where(task.status == TaskStatus.READY, task.agency_code == agency, task.role.in_(roles),
                                   task.restricted.is_(False), task.assignee.is_(None), ~excluded)
    return union_all(mine, named, group)


def _text_filters(case_number: str | None, party: str | None) -> list[ColumnElement[bool]]:
    """Case number and party are free text: they narrow every count, they are not facets."""
    out: list[ColumnElement[bool]] = []
    if case_number and case_number.strip():
        out.append(CaseRow.number.contains(case_number.strip(), autoescape=True))
    if party and party.strip():
        out.append(func.lower(CaseRow.respondent).contains(party.strip().lower(), autoescape=True))
    return out


Group = tuple[dict[str, str], int]


def _facet_groups(session: Session, visible: Any, text_filters: list[ColumnElement[bool]], user_id: str,
                  now: dt.datetime, soon: dt.timedelta) -> Kept:
    """Visible tasks counted per (stage, violation, due state, mine) — a small cross table — and the
    first moment a task in it changes due state (until then the table holds, were nothing written).

    The per-row values are computed in an inner query and grouped by its columns outside: PostgreSQL
    does not recognise an expression with bound parameters in GROUP BY as the one in the select list.
    """
    rows = (
        select(visible.c.stage.label("stage"), _violation_of(visible).label("violation"),
               due_state_sql(now, soon, visible.c.sort_due).label("due"),
               case((visible.c.assignee == user_id, "mine"), else_="others").label("mine"),
               visible.c.sort_due.label("sort_due"))
        .select_from(visible)
    )
    if text_filters:
        rows = rows.join(CaseRow, CaseRow.id == visible.c.case_id).where(*text_filters)
    rows = rows.subquery()
    grouped = select(rows.c.stage, rows.c.violation, rows.c.due, rows.c.mine, func.count(),
                     func.min(rows.c.sort_due, type_=UtcDateTime())).group_by(
        rows.c.stage, rows.c.violation, rows.c.due, rows.c.mine)
    groups: list[Group] = []
    valid_until = NO_DEADLINE
    for s, v, d, m, n, first_due in session.execute(grouped):
        groups.append(({"stage": s, "violation": v, "due": d, "mine": m}, n))
        if d == "soon":  # overdue once its deadline has passed
            valid_until = min(valid_until, first_due)
        elif d == "" and first_due < NO_DEADLINE:  # due soon once its deadline is `soon` away
            valid_until = min(valid_until, first_due - soon)
    return Kept(version=0, valid_until=valid_until, value=groups)


def _matches(values: dict[str, str], chosen: dict[str, str], skip: str = "") -> bool:
    return all(not want or values[facet] == want for facet, want in chosen.items() if facet != skip)


def _count_by(groups: list[Group], facet: str, chosen: dict[str, str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for values, n in groups:
        if _matches(values, chosen, skip=facet):
            counts[values[facet]] = counts.get(values[facet], 0) + n
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
