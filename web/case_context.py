"""A case as one viewer may see it: identity redaction and vote sealing applied, in one call.

Every page and API response that shows a case, its events or its steps' data gets it from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from engine.services import Services
from engine.usecases.casefile import case_file
from engine.values import CaseDeadline, CaseEventView, CaseView, DocumentView, TaskView, UserView
from web.redaction import may_download_document, may_see_identity, redact_complaint, redact_identity
from web.sealing import Sealing, seal_events, seal_tasks, sealing_for
from web.zone import local_zone


@dataclass(frozen=True)
class CaseContext:
    case: CaseView
    events: tuple[CaseEventView, ...]
    history: tuple[TaskView, ...]
    intake: dict[str, Any]
    sealing: Sealing
    documents: tuple[DocumentView, ...] = ()
    downloadable: frozenset[int] = frozenset()  # ids of the documents this viewer may download
    dossier_allowed: bool = False
    deadlines: tuple[CaseDeadline, ...] = ()  # when read with a `now`
    form_schemas: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # of completed steps, by spec id

    @property
    def completed(self) -> tuple[TaskView, ...]:
        return tuple(t for t in self.history if t.status == "completed")

    @cached_property
    def task_names(self) -> dict[str, str]:
        """Each task's name by id: the timeline names the step of every event."""
        return {t.id: t.name for t in self.history}

    def may_download(self, document: DocumentView) -> bool:
        return document.case_id == self.case.id and document.id in self.downloadable


def case_context(svc: Services, ref: str | int, viewer: UserView, *, now: dt.datetime | None = None) -> CaseContext:
    """The case as `viewer` may see it, read in one transaction; with `now`, its statutory clocks too."""
    file = case_file(svc, ref, now=now)
    case, history = file.case, file.history
    sealing = sealing_for(history, viewer.id, svc.settings.panel_size)
    roles = viewer.roles
    events = tuple(
        replace(e, detail=redact_complaint(e.detail, roles) if e.kind == "opened" else redact_identity(e.detail, roles))
        for e in seal_events(case.events, sealing)
    )
    tasks = tuple(
        replace(t, form_data=redact_identity(t.form_data, roles)) if t.form_data else t
        for t in seal_tasks(history, sealing)
    )
    opened = next((e for e in case.events if e.kind == "opened"), None)
    intake = redact_complaint(dict(opened.detail.get("form_data") or {}), roles) if opened else {}
    documents = file.documents
    # A 文书 naming the complainant only for those who may see them; a document of a vote still sealed to
    # this viewer not at all (the 合议记录 is produced when a round closes, but a PDF cannot be sealed later).
    downloadable = frozenset(d.id for d in documents
                             if may_download_document(d.kind, roles) and not sealing.hides(d.task_id))
    return CaseContext(case=case, events=events, history=tasks, intake=intake, sealing=sealing, documents=documents,
                       downloadable=downloadable, dossier_allowed=may_see_identity(roles), deadlines=file.deadlines,
                       form_schemas=file.form_schemas)


def days_left(due: dt.datetime | None, now: dt.datetime) -> int | None:
    """Whole days until `due` (negative once overdue), in the agency's dates."""
    if due is None:
        return None
    zone = local_zone()
    return (due.astimezone(zone).date() - now.astimezone(zone).date()).days
