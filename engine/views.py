"""Row → view conversions shared by the use cases."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import CaseRow, TaskRow, TaskUserRow, UserRow
from engine.enums import TaskStatus
from engine.rules.duties import TaskFacts
from engine.rules.workdays import WorkingCalendar
from engine.values import TaskPage, TaskView, UserView


def user_view(row: UserRow) -> UserView:
    return UserView(id=row.id, name=row.name, roles=tuple(sorted(r.role for r in row.roles)), unit=row.unit,
                    active=row.active, cert_no=row.cert_no, cert_valid_until=row.cert_valid_until,
                    agency_code=row.agency_code)


def uncovered_years(calendar: WorkingCalendar, start: dt.datetime | None, due: dt.datetime | None) -> tuple[int, ...]:
    """The years without a known holiday schedule from `start` (when the deadline began to run, or was
    computed) to `due`, in the agency's dates: a deadline counted across them is provisional."""
    if due is None:
        return ()
    end = calendar.local_date(due)
    return calendar.uncovered_years(calendar.local_date(start) if start else end, end)


def marked(view: TaskView, calendar: WorkingCalendar) -> TaskView:
    """The view with its deadline's uncovered years, for an open step (a finished one's deadline is moot)."""
    years = uncovered_years(calendar, view.created_at, view.due_at) if view.status == TaskStatus.READY else ()
    return view if years == view.uncovered_years else replace(view, uncovered_years=years)


def marked_page(page: TaskPage, calendar: WorkingCalendar) -> TaskPage:
    """A task page (kept per process while exact, engine/usecases/readcache.py) marked as the calendar is
    now: coverage is not part of what the page cache is kept under, so it is applied on the way out."""
    items = tuple(replace(i, task=marked(i.task, calendar)) for i in page.items)
    return replace(page, items=items)


def task_view(session: Session, task: TaskRow, case: CaseRow, *, with_users: bool = True,
              calendar: WorkingCalendar | None = None, marks: TaskFacts | None = None) -> TaskView:
    """The task as users see it; with `calendar`, its deadline marked provisional where it reaches into a year
    without a known holiday schedule. `marks`: its candidates and barred people, already read (task_facts)."""
    candidates: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    if marks is not None:
        candidates, excluded = tuple(sorted(marks.candidates)), tuple(sorted(marks.excluded))
    elif with_users:
        users = session.execute(select(TaskUserRow.user_id, TaskUserRow.kind).where(TaskUserRow.task_id == task.id)).all()
        candidates = tuple(sorted(u for u, k in users if k == "candidate"))
        excluded = tuple(sorted(u for u, k in users if k == "excluded"))
    return TaskView(
        id=task.id, case_id=case.id, case_number=case.number, spec_id=task.spec_id, name=task.name,
        role=task.role, stage=task.stage, status=task.status, assignee=task.assignee, due_at=task.due_at,
        created_at=task.created_at, supervision=task.supervision, respondent=case.respondent,
        document=task.document, completed_by=task.completed_by, completed_at=task.completed_at,
        candidates=candidates, excluded=excluded, form_data=task.form_data,
        uncovered_years=uncovered_years(calendar, task.created_at, task.due_at)
        if calendar is not None and task.status == TaskStatus.READY else (),
    )
