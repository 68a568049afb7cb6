"""Sealed votes (合议): a panel member's opinion and vote stay hidden from the others until all have voted.

The one place that decides it: every page and API response that shows task data or case events passes
through `seal`, so a vote cannot leak through the timeline, the task history or JSON.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from engine.values import CaseEventView, TaskView

PANEL_ROLE = "panel"


@dataclass(frozen=True)
class Sealing:
    sealed_task_ids: frozenset[str]
    open_specs: frozenset[str]  # panel specs still waiting for votes

    def hides(self, task_id: str | None) -> bool:
        return task_id is not None and task_id in self.sealed_task_ids


def sealing_for(history: Sequence[TaskView], viewer_id: str | None, panel_size: int) -> Sealing:
    """Which completed panel tasks the viewer may not read yet: all but their own, while the round is open.

    A round (one spec of the panel lane) is closed when no instance is still open and at least
    `panel_size` members have voted.
    """
    by_spec: dict[str, list[TaskView]] = defaultdict(list)
    for task in history:
        if task.role == PANEL_ROLE:
            by_spec[task.spec_id].append(task)
    sealed: set[str] = set()
    open_specs: set[str] = set()
    for spec, tasks in by_spec.items():
        done = [t for t in tasks if t.status == "completed"]
        still_open = any(t.status == "ready" for t in tasks)
        if still_open or len(done) < panel_size:
            open_specs.add(spec)
            sealed.update(t.id for t in done if t.completed_by != viewer_id)
    return Sealing(frozenset(sealed), frozenset(open_specs))


def seal_tasks(tasks: Iterable[TaskView], sealing: Sealing) -> list[TaskView]:
    return [replace(t, form_data=None) if sealing.hides(t.id) else t for t in tasks]


def seal_events(events: Iterable[CaseEventView], sealing: Sealing) -> list[CaseEventView]:
    out = []
    for event in events:
        if sealing.hides(event.task_id) and event.detail:
            event = replace(event, detail={k: v for k, v in event.detail.items() if k != "form_data"})
        out.append(event)
    return out
