"""Working-day overrides (工作日调整) stored in the database, journalled, and seen by every process.

行政处罚法 第八十五条 counts most short periods in working days, so a day the agency declares a working day
or a day off moves deadlines. The official calendar (chinesecalendar) and `working_day_overrides` in
workflows/settings.json are the base; what an administrator stores here overrides both, and every
`Services` on the same database — another gunicorn worker, the timer worker — picks it up on its next
deadline computation (engine/stored_calendar.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.admin_tables import AdminEventRow, WorkingDayOverrideRow
from engine.errors import Conflict, ValidationError
from engine.stored_calendar import CALENDAR_EVENT
from engine.usecases.access import require_platform_admin
from engine.values import Clock, SetWorkingDayOverride

if TYPE_CHECKING:
    from engine.services import Services

MAX_REASON = 500


@dataclass(frozen=True)
class WorkingDayOverride:
    day: dt.date
    is_workday: bool
    reason: str
    set_by: str  # "settings.json" for the base overrides of the province settings
    set_at: dt.datetime | None
    stored: bool


@dataclass(frozen=True)
class WorkingDayChange:
    """One entry of the journal: `is_workday` None means the stored override was removed."""

    day: dt.date
    is_workday: bool | None
    previous: bool | None
    reason: str
    actor: str
    at: dt.datetime


def set_working_day_override(cmd: SetWorkingDayOverride, *, svc: Services, clock: Clock) -> None:
    """Declare `day` a working day (True) or a day off (False), or remove the stored override (None).

    The change and its journal entry commit together; the reason is required because a moved deadline
    must be explainable to the party and to the court.
    """
    reason = checked_reason(cmd.reason, "reason")
    now = clock()
    with svc.uow() as work:
        require_platform_admin(work.session, cmd.user_id, ADMIN_ONLY)
        store_day(work.session, cmd.day, cmd.workday, reason=reason, user_id=cmd.user_id, now=now)
        work.commit()
    svc.calendar_store.invalidate()


ADMIN_ONLY = "只有系统管理员可以调整工作日 (only an administrator may change working days)"


def checked_reason(reason: str, field: str) -> str:
    """The reason stripped; refused when empty or too long (it is shown to the party and the court)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError("请填写调整理由 (a reason is required)", {field: "请填写调整理由 (required)"})
    if len(reason) > MAX_REASON:
        raise ValidationError("调整理由过长 (reason too long)", {field: f"最多 {MAX_REASON} 字 (max {MAX_REASON})"})
    return reason


def store_day(session: Session, day: dt.date, workday: bool | None, *, reason: str, user_id: str,
              now: dt.datetime) -> None:
    """Store (or remove, None) one day's override with its journal entry, in the caller's transaction."""
    row = session.get(WorkingDayOverrideRow, day, with_for_update=True)
    previous = None if row is None else row.is_workday
    if workday is None:
        if row is None:
            raise Conflict(f"{day.isoformat()} 没有已保存的调整 (no stored override for that day)")
        session.delete(row)
    elif row is None:
        session.add(WorkingDayOverrideRow(day=day, is_workday=workday, reason=reason, set_by=user_id, set_at=now))
    else:
        row.is_workday, row.reason, row.set_by, row.set_at = workday, reason, user_id, now
    session.add(AdminEventRow(kind=CALENDAR_EVENT, subject=day.isoformat(), actor=user_id, at=now,
                              detail={"day": day.isoformat(), "is_workday": workday, "previous": previous,
                                      "reason": reason}))


def working_day_overrides(svc: Services) -> list[WorkingDayOverride]:
    """Every override in force, by day: the stored ones, and those of settings.json they do not replace."""
    with svc.uow.read() as session:
        stored = {r.day: WorkingDayOverride(r.day, r.is_workday, r.reason, r.set_by, r.set_at, True)
                  for r in session.scalars(select(WorkingDayOverrideRow))}
    base = {day: WorkingDayOverride(day, work, "", "settings.json", None, False)
            for day, work in svc.settings.working_day_overrides.items()}
    return [v for _, v in sorted({**base, **stored}.items())]


def working_day_changes(svc: Services, *, limit: int = 50) -> list[WorkingDayChange]:
    """The journal of stored overrides, newest first."""
    with svc.uow.read() as session:
        rows = session.scalars(select(AdminEventRow).where(AdminEventRow.kind == CALENDAR_EVENT)
                               .order_by(AdminEventRow.id.desc()).limit(limit))
        return [WorkingDayChange(dt.date.fromisoformat(r.subject), r.detail.get("is_workday"),
                                 r.detail.get("previous"), str(r.detail.get("reason", "")), r.actor, r.at)
                for r in rows]
