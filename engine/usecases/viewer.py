"""A case, or a task, as one viewer may see it — the read every edge renders (the pages, /api, the CLI).

The view comes back already redacted (the complainant's identity), with the votes of an open round sealed, and
with what the viewer may do computed (`may_act`, `may_claim`, the eligible assignees), all by the rules of
engine/rules/duties.py. The edges add no rule of their own: what a page offers is what the engine accepts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from engine.db.repositories import Cases, Tasks, Users
from engine.db.tables import TaskRow, TaskUserRow, UserRoleRow, UserRow
from engine.enums import CaseStatus
from engine.errors import Forbidden
from engine.rules import duties
from engine.rules.duties import AUDITOR_VIEW, CaseFacts, Person, Refusal, Sealing, TaskFacts
from engine.rules.redaction import redact_complaint, redact_identity
from engine.services import Services
from engine.usecases.access import (
    case_facts,
    facts_of,
    named_people,
    people_at,
    person_of,
    signer_at,
    task_facts,
)
from engine.usecases.casefile import read_case_file
from engine.usecases.evidence import evidence_spec, refusal_to_add, refused_evidence
from engine.values import CaseDeadline, CaseEventView, CaseView, DocumentView, TaskView, UserView
from engine.views import task_view


@dataclass(frozen=True)
class CaseForViewer:
    """The case as one viewer may see it: events, steps and intake redacted, sealed votes left out."""

    case: CaseView  # its open tasks and events as this viewer may see them
    viewer: Person
    facts: CaseFacts  # who takes part in the case, as far as it concerns the viewer
    history: tuple[TaskView, ...]  # every step, as `case_file` orders them
    intake: dict[str, Any]  # the registered complaint
    sealing: Sealing
    identity_shown: bool  # whether the complainant's identity is shown to this viewer
    documents: tuple[DocumentView, ...] = ()
    downloadable: frozenset[int] = frozenset()  # ids of the documents this viewer may download
    dossier_allowed: bool = False
    deadlines: tuple[CaseDeadline, ...] = ()  # when read with a `now`
    form_schemas: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # of completed steps, by spec id
    owed_vote: str | None = None  # the id of the 合议 vote this viewer still owes, if any
    # Why the viewer may not add evidence files to the case's files (None: they may), as staging would refuse.
    evidence_refusal: Refusal | None = None

    @property
    def may_add_evidence(self) -> bool:
        return self.evidence_refusal is None

    def check_may_add_evidence(self) -> None:
        """EvidenceRefused (403, 409 a closed case) unless the viewer may add files to the case's files."""
        if self.evidence_refusal is not None:
            raise refused_evidence(self.evidence_refusal)

    @property
    def events(self) -> tuple[CaseEventView, ...]:
        return self.case.events

    @property
    def completed(self) -> tuple[TaskView, ...]:
        return tuple(t for t in self.history if t.status == "completed")

    @cached_property
    def task_names(self) -> dict[str, str]:
        """Each task's name by id: the timeline names the step of every event."""
        return {t.id: t.name for t in self.history}

    def may_download(self, document: DocumentView) -> bool:
        return document.case_id == self.case.id and document.id in self.downloadable

    def to_json(self) -> dict[str, Any]:
        """The case as /api/cases and `casetrail case show --json` give it."""
        out = replace(self.case, data=self.intake).to_json(detail=True)
        out["open_tasks"] = [replace(t, form_data=None).to_json() for t in self.case.open_tasks]
        out["steps"] = [t.to_json() for t in self.history]
        out["deadlines"] = [d.to_json() for d in self.deadlines]
        out["documents"] = [d.to_json() | {"downloadable": self.may_download(d)} for d in self.documents]
        out["identity_shown"] = self.identity_shown
        out["may_add_evidence"] = self.may_add_evidence
        return out


@dataclass(frozen=True)
class TaskForViewer:
    """A task as one viewer may see it, with what they may do with it."""

    task: TaskView  # with its form's schema; its data sealed or redacted for this viewer
    case: CaseForViewer
    refusal: Refusal | None  # why the viewer may not complete it (None: they may)
    may_claim: bool
    may_unclaim: bool
    assignees: tuple[UserView, ...] = ()  # whom this viewer (a head) may hand it to; empty for everyone else
    # Offered by name, and none of those named can take it (inactive, no valid signing certificate): who and
    # why. The head is told and may hand it to anyone of its lane (engine.rules.duties.stranded_names).
    stranded: tuple[Person, ...] = ()
    # Why the viewer may not add evidence files to this step (None: they may; the step's form takes them).
    evidence_refusal: Refusal | None = None

    @property
    def may_act(self) -> bool:
        return self.refusal is None

    @property
    def may_add_evidence(self) -> bool:
        return self.evidence_refusal is None

    def check_may_add_evidence(self) -> None:
        """EvidenceRefused (403; 409 a closed step or case; 422 a step that takes no files) unless the viewer
        may add files to this step — what staging the file would refuse, said when the upload starts."""
        if self.evidence_refusal is not None:
            raise refused_evidence(self.evidence_refusal)

    @property
    def stranded_notice(self) -> str | None:
        """What the page says of a stranded task (the engine's words), or None."""
        return duties.stranded_message(self.stranded) if self.stranded else None

    @property
    def sealed(self) -> bool:
        return self.case.sealing.hides(self.task.id)

    def shown(self, values: dict[str, Any] | None) -> dict[str, Any]:
        """Values of this task's form as this viewer may be shown them: typed back to the person acting on it
        as typed; to anyone else sealed or redacted as its stored data is."""
        if self.sealed:
            return {}
        if self.may_act:
            return dict(values or {})
        return redact_identity(dict(values or {}), identity_shown=self.case.identity_shown)

    def to_json(self) -> dict[str, Any]:
        """The task as /api/tasks/<id> and `casetrail task show --json` give it."""
        return self.task.to_json() | {
            "may_act": self.may_act, "may_claim": self.may_claim, "may_unclaim": self.may_unclaim,
            "refusal": self.refusal.message if self.refusal else None,
            "eligible_assignees": [u.id for u in self.assignees],
            "stranded": self.stranded_notice, "may_add_evidence": self.may_add_evidence,
        }


def case_for_viewer(svc: Services, ref: str | int, viewer_id: str | None, *,
                    now: dt.datetime | None = None) -> CaseForViewer:
    """Case `ref` as user `viewer_id` may see it (None: as an auditor — the CLI's reader without a user), in
    one read transaction; with `now`, its statutory clocks too. Forbidden if the viewer may not see the case."""
    with svc.uow.read() as session:
        return _case_for(svc, session, ref, _viewer(session, viewer_id), now=now)


def task_for_viewer(svc: Services, task_id: str, viewer_id: str | None, *,
                    now: dt.datetime | None = None, at: dt.datetime | None = None) -> TaskForViewer:
    """Task `task_id` as user `viewer_id` may see it (None: as an auditor), its case with it, in one read
    transaction. Forbidden if the viewer may not read the task (who may see its case, of its lane; heads and
    auditors). Signing certificates — the viewer's, the assignees' — are judged at `at` (else `now`, else the
    system clock: a read, the signing itself judges again)."""
    moment = at or now or dt.datetime.now(dt.UTC)
    with svc.uow.read() as session:
        viewer = (AUDITOR_VIEW if viewer_id is None
                  else signer_at(session, Users(session).active(viewer_id), moment))
        row = Tasks(session).get(task_id)
        case_row = Cases(session).get(row.case_id)
        facts = task_facts(session, row)
        case = _case_for(svc, session, case_row.id, viewer, now=now)
        if (refused := duties.refusal_to_see_task(viewer, facts, case.facts)) is not None:
            raise Forbidden(refused.message)
        definition = svc.definition(session, case_row.definition_id)
        task = replace(task_view(session, row, case_row, calendar=svc.calendar),
                       form_schema=definition.form_schema(row.spec_id))
        refusal = duties.refusal_to_act(viewer, facts)
        if refusal is None and facts.vote:
            voted = any(t.spec_id == row.spec_id and t.status == "completed" and t.completed_by == viewer.id
                        for t in case.history)
            refusal = duties.refusal_to_vote(viewer, facts, voted=voted)
        stranded = duties.stranded_names(facts, named_people(session, row, moment)) if facts.restricted else ()
        assignees: tuple[UserView, ...] = ()
        if duties.refusal_to_assign(viewer, facts.agency) is None and facts.status == "ready":
            assignees = _eligible(session, facts, moment, stranded=bool(stranded))
        stored = None if case.sealing.hides(row.id) or task.form_data is None else \
            redact_identity(task.form_data, identity_shown=case.identity_shown)
        # As staging judges it: the signing certificate is asked when the step is signed, not for its files.
        evidence_refusal = refusal_to_add(replace(viewer, cannot_sign=None), case.facts,
                                          case_open=case_row.status == CaseStatus.OPEN,
                                          task=(facts, row.name, evidence_spec(task.form_schema)))
        return TaskForViewer(task=replace(task, form_data=stored), case=case, refusal=refusal,
                             may_claim=duties.may_claim(viewer, facts), may_unclaim=duties.may_unclaim(viewer, facts),
                             assignees=assignees, stranded=stranded, evidence_refusal=evidence_refusal)


def _viewer(session: Session, viewer_id: str | None) -> Person:
    return AUDITOR_VIEW if viewer_id is None else person_of(Users(session).active(viewer_id))


def _eligible(session: Session, task: TaskFacts, now: dt.datetime, *, stranded: bool) -> tuple[UserView, ...]:
    """The active holders of the task's role of its case's agency whom the duties let a head hand it to, their
    signing certificates judged at `now` (three queries)."""
    rows = list(session.scalars(select(UserRow).where(UserRow.active.is_(True), UserRow.agency_code == task.agency,
                                                      UserRow.id.in_(select(UserRoleRow.user_id).where(
                                                          UserRoleRow.role == task.role)))
                                .options(joinedload(UserRow.roles))
        .order_by(UserRow.id)).unique())
    people = {u.id: u for u in rows}
    chosen = duties.eligible_assignees(task, people_at(session, rows, now), stranded=stranded)
    return tuple(UserView(id=p.id, name=people[p.id].name, roles=tuple(sorted(p.roles)), unit=people[p.id].unit,
                          active=p.active) for p in chosen)


def _case_for(svc: Services, session: Session, ref: str | int, viewer: Person, *,
              now: dt.datetime | None) -> CaseForViewer:
    file, case_row, rows = read_case_file(svc, session, ref, now=now)
    seen = case_facts(session, case_row, rows, viewer.id)
    if (refused := duties.refusal_to_see_case(viewer, seen)) is not None:
        raise Forbidden(refused.message)
    sealing = duties.sealing_for(file.history, viewer.id, svc.settings.panel_size)
    shown = duties.may_see_identity(viewer, seen)

    def data(value: dict[str, Any] | None, task_id: str | None) -> dict[str, Any] | None:
        if value is None or sealing.hides(task_id):
            return None
        return redact_identity(value, identity_shown=shown)

    events = []
    for e in file.case.events:
        detail = dict(e.detail)
        if sealing.hides(e.task_id):
            detail.pop("form_data", None)
        detail = redact_complaint(detail, identity_shown=shown) if e.kind == "opened" else \
            redact_identity(detail, identity_shown=shown)
        events.append(replace(e, detail=detail))
    history = tuple(replace(t, form_data=data(t.form_data, t.id)) if t.form_data else t for t in file.history)
    open_tasks = tuple(replace(t, form_data=data(t.form_data, t.id)) if t.form_data else t
                       for t in file.case.open_tasks)
    opened = next((e for e in file.case.events if e.kind == "opened"), None)
    intake = redact_complaint(dict(opened.detail.get("form_data") or {}), identity_shown=shown) if opened else {}
    # A 文书 naming the complainant only for those who may see them; a document of a vote still sealed to this
    # viewer not at all (the 合议记录 is produced when a round closes, but a PDF cannot be sealed later).
    downloadable = frozenset(d.id for d in file.documents
                             if duties.may_download(viewer, d.kind, seen) and not sealing.hides(d.task_id))
    return CaseForViewer(
        case=replace(file.case, events=tuple(events), open_tasks=open_tasks), viewer=viewer, facts=seen,
        history=history,
        intake=intake, sealing=sealing, identity_shown=shown, documents=file.documents, downloadable=downloadable,
        dossier_allowed=duties.may_download_dossier(viewer, seen), deadlines=file.deadlines,
        form_schemas=file.form_schemas, owed_vote=_owed_vote(session, viewer, rows, sealing),
        evidence_refusal=refusal_to_add(viewer, seen, case_open=case_row.status == CaseStatus.OPEN))


def _owed_vote(session: Session, viewer: Person, rows: list[TaskRow], sealing: Sealing) -> str | None:
    """The vote the viewer still owes in a round still open (the viewer's marks on its open tasks: one query,
    only while a round is open)."""
    rounds = [r for r in rows if r.spec_id in sealing.open_specs]
    open_ids = [r.id for r in rounds if r.status == "ready"]
    if not open_ids:
        return None
    marks = {(t, k) for t, k in session.execute(select(TaskUserRow.task_id, TaskUserRow.kind).where(
        TaskUserRow.task_id.in_(open_ids), TaskUserRow.user_id == viewer.id))}
    mine = frozenset({viewer.id})
    for spec in dict.fromkeys(r.spec_id for r in rounds):
        ballots = [(r.id, facts_of(r, candidates=mine if (r.id, "candidate") in marks else frozenset(),
                                   excluded=mine if (r.id, "excluded") in marks else frozenset()))
                   for r in rounds if r.spec_id == spec]
        if (owed := duties.owed_vote(viewer, ballots)) is not None:
            return owed
    return None


__all__ = ["CaseForViewer", "TaskForViewer", "case_for_viewer", "task_for_viewer"]
