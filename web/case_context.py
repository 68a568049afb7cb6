"""What the pages show of a case's clocks. The case itself, as one viewer may see it, is the engine's read
(engine/usecases/viewer.py: `case_for_viewer`, `task_for_viewer`): redacted and sealed there, not here."""

from __future__ import annotations

import datetime as dt

from web.zone import local_zone


def days_left(due: dt.datetime | None, now: dt.datetime) -> int | None:
    """Whole days until `due` (negative once overdue), in the agency's dates."""
    if due is None:
        return None
    zone = local_zone()
    return (due.astimezone(zone).date() - now.astimezone(zone).date()).days
