"""What the pages show of a case's clocks. The case itself, as one viewer may see it, is the engine's read
(engine/usecases/viewer.py: `case_for_viewer`, `task_for_viewer`): redacted and sealed there, not here."""

from __future__ import annotations

import datetime as dt


def days_left(due: dt.datetime | None, now: dt.datetime) -> int | None:
    """Whole days until `due` (negative once overdue), in Beijing dates."""
    if due is None:
        return None
    from web.i18n import SHANGHAI

    return (due.astimezone(SHANGHAI).date() - now.astimezone(SHANGHAI).date()).days
