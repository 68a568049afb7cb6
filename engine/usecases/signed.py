"""What was signed, as the pages show it: a case's step records read back, and the views built from them.

Every completed step writes its signed record and, in the same transaction, copies of what it says: the
event's `detail` (case_events), the task row's `form_data` and `completed_by` (tasks), the list fields of
the case row, the publication (publications). A copy can be edited in the database and no signature
notices. So the case page, the case API and `casetrail case show` take each signed step's data, actor and
time from its record (step_records.canonical, the RFC 8785 bytes that were signed, parsed here but not
re-verified: that is `casetrail verify`'s work, which also checks every copy against the records — see
engine/usecases/projections.py). What no record says — claims, hand-backs, timers, cancellations — still
comes from case_events, marked as unsigned journal entries (`CaseEventView.seq` is None).

A version-2 record signs only a salted digest of each confidential field (the complainant's identity, a vote);
the values are stored beside it (sealed_values) and put back here when they give the signed digests — a value
edited in the database is not shown, and `casetrail verify` names it (docs/evidence-bundle.md §1a).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from engine.db.sealed_tables import SealedValueRow
from engine.db.tables import CaseEventRow, StepRecordRow
from engine.enums import CaseEventKind, TaskStatus
from engine.journal import ANSWERED_KEY, EVIDENCE_KEY, HAND_OVER_KEY, SETTINGS_KEY, VOTES_KEY
from engine.values import CaseEventView, TaskView
from signatures.errors import SignatureError
from signatures.records import REASSIGN_SPEC, URGE_SPEC, StepRecord, is_model_step, parse_utc
from signatures.sealing import Disclosure, open_form

# {seq: {JSON Pointer: (class, value and salt)}}: a case's stored sealed values.
StoredSeals = Mapping[int, Mapping[str, tuple[str, Disclosure]]]

# Events that copy a signed record; every other kind of case_events is the unsigned journal.
OPENED, COMPLETED, ASSIGNED = CaseEventKind.OPENED, CaseEventKind.COMPLETED, CaseEventKind.ASSIGNED
URGED = CaseEventKind.URGED
SIGNED_KINDS = frozenset({OPENED, COMPLETED, ASSIGNED, URGED})
# Records about one task that is not their own step — a hand-over, a 督办: the task is named in what they sign,
# and their event copies that whole statement.
ABOUT_A_TASK = {REASSIGN_SPEC: ASSIGNED, URGE_SPEC: URGED}
OTHER_SIGNED = "signed"  # a record of the engine's own that is none of the above
# What the engine adds to a record's form data besides what the person entered: the votes a step acts on, the
# evidence files it takes (listed on the case page from the files themselves), the settings an intake runs with.
ENGINE_KEYS = frozenset({VOTES_KEY, EVIDENCE_KEY, HAND_OVER_KEY, ANSWERED_KEY, SETTINGS_KEY})


class SignedStep:
    """One step record of a case: its position, the task row it is stored against, and what it says.

    A plain class with slots: `verify --all` makes one per record audited."""

    __slots__ = ("seq", "task_id", "record", "kind", "form_data", "files", "_at")

    def __init__(self, seq: int, task_id: str | None, record: StepRecord,
                 disclosures: Mapping[str, Disclosure] | None = None) -> None:
        self.seq = seq
        self.task_id = task_id  # step_records.task_id: the link to the task row, stored beside the record (not signed)
        self.record = record
        # The event this record is: the intake (seq 1), a step of the model, a hand-over, or another of the engine's.
        spec = record.task_spec_id
        self.kind = (OPENED if seq == 1 else COMPLETED if is_model_step(spec)
                     else ABOUT_A_TASK.get(spec, OTHER_SIGNED))
        # The data the person entered, as signed: without the votes and files the engine lists. (The
        # record's own dict otherwise: nothing changes it.)
        data = record.form_data
        if record.sealed:  # only the stored values that give the signed digests
            data = open_form(data, record.sealed, disclosures or {})[0]
        self.form_data: Mapping[str, Any] = ({k: v for k, v in data.items() if k not in ENGINE_KEYS}
                                             if ENGINE_KEYS.intersection(data) else data)
        self.files: Any = data.get(EVIDENCE_KEY) or ()  # the evidence files it lists, names opened where sealed
        self._at: dt.datetime | None | bool = False  # not parsed yet

    @property
    def at(self) -> dt.datetime | None:
        """The signing time the record states; None if it is malformed (`verify` fails its time check)."""
        if self._at is False:
            try:
                self._at = parse_utc(self.record.time_utc)
            except SignatureError:
                self._at = None
        return self._at  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"SignedStep({self.seq}, {self.kind}, {self.record.task_spec_id})"

    @property
    def event_task_id(self) -> str | None:
        """The task the step's event names: its own, or for a hand-over the task handed over (signed)."""
        if self.kind in ABOUT_A_TASK.values():
            task = self.record.form_data.get("task_id")
            return task if isinstance(task, str) else None
        return self.task_id

    @property
    def event_spec_id(self) -> str | None:
        if self.kind in ABOUT_A_TASK.values():
            spec = self.record.form_data.get("task_spec_id")
            return spec if isinstance(spec, str) else None
        return self.record.task_spec_id

    @property
    def event_detail(self) -> dict[str, Any]:
        """The event's detail as the record states it (what case_events.detail copies)."""
        return dict(self.record.form_data) if self.kind in ABOUT_A_TASK.values() else {"form_data": self.form_data}

    def event_view(self) -> CaseEventView:
        return CaseEventView(kind=self.kind, at=self.at, actor=self.record.actor, task_id=self.event_task_id,
                             spec_id=self.event_spec_id, detail=self.event_detail, seq=self.seq)


def parse_steps(rows: Iterable[Any], seals: StoredSeals | None = None) -> list[SignedStep]:
    """(seq, task_id, canonical) rows in seq order as steps, opened with the case's stored sealed values; a record
    that cannot be parsed is left out (the page shows what was signed; `verify` names the broken record)."""
    steps = []
    seals = seals or {}
    for seq, task_id, canonical in rows:
        try:
            stored = seals.get(seq)
            step = SignedStep(seq, task_id, StepRecord.from_canonical(canonical),
                              {p: d for p, (_, d) in stored.items()} if stored else None)
        except SignatureError:
            continue
        if step.at is not None:
            steps.append(step)
    return steps


def signed_steps(session: Session, case_id: int) -> list[SignedStep]:
    """A case's step records in seq order, opened with its stored sealed values (two queries)."""
    return parse_steps(session.execute(
        select(StepRecordRow.seq, StepRecordRow.task_id, StepRecordRow.canonical)
        .where(StepRecordRow.case_id == case_id).order_by(StepRecordRow.seq)),
        stored_seals(session.connection().execute, [case_id])[case_id])


def stored_seals(run: Any, case_ids: Sequence[int]) -> dict[int, dict[int, dict[str, tuple[str, Disclosure]]]]:
    """{case id: {seq: {pointer: (class, disclosure)}}} of these cases' stored sealed values (one query; `run`
    executes a Core statement). A stored value that is not JSON is kept as its text: it opens nothing."""
    out: dict[int, dict[int, dict[str, tuple[str, Disclosure]]]] = {i: {} for i in case_ids}
    for case_id, seq, pointer, kind, salt, text in run(
            select(SealedValueRow.case_id, SealedValueRow.seq, SealedValueRow.field, SealedValueRow.kind,
                   SealedValueRow.salt, SealedValueRow.value).where(SealedValueRow.case_id.in_(list(case_ids)))).all():
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        out[case_id].setdefault(seq, {})[pointer] = (kind, Disclosure(salt, value))
    return out


# --- the case row's list fields: what the intake says ------------------------------------------------------
@dataclass(frozen=True)
class ListFields:
    """What the case lists show of a case, as the intake (投诉举报登记) gives it."""

    respondent: str
    violation: str
    channel: str


def list_fields(intake: dict[str, Any]) -> ListFields:
    """The party's name (a person or an organisation), the kind of violation and the channel of an intake."""
    respondent = intake.get("respondent")
    name = str(respondent.get("name", "")) if isinstance(respondent, dict) else str(respondent or "")
    return ListFields(respondent=name[:200], violation=str(intake.get("violation_type", "") or ""),
                      channel=str(intake.get("channel", "") or ""))


def intake_of(steps: Sequence[SignedStep]) -> SignedStep | None:
    return steps[0] if steps and steps[0].kind == OPENED else None


# --- matching the journal's copies to the records ----------------------------------------------------------
class EventLike(Protocol):
    kind: str
    task_id: str | None


class JournalEvent(NamedTuple):
    """A case_events row as read for the timeline: the detail as text, decoded only for the entries no record
    states (the others are shown from their records). A tuple: read by the dozen per page."""

    kind: str
    task_id: str | None
    spec_id: str | None
    actor: str | None
    at: dt.datetime
    detail_text: str | None

    def view(self) -> CaseEventView:
        detail = json.loads(self.detail_text) if self.detail_text else {}
        return CaseEventView(kind=self.kind, at=self.at, actor=self.actor, task_id=self.task_id, spec_id=self.spec_id,
                             detail=detail if isinstance(detail, dict) else {})


def journal_events(session: Session, case_id: int) -> list[JournalEvent]:
    """A case's events in the order they were written (one query)."""
    return [JournalEvent(*row) for row in session.execute(
        select(CaseEventRow.kind, CaseEventRow.task_id, CaseEventRow.spec_id, CaseEventRow.actor, CaseEventRow.at,
               cast(CaseEventRow.detail, Text)).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.id))]


def pair_events(steps: Sequence[SignedStep], events: Sequence[EventLike]) -> dict[int, SignedStep]:
    """{position in `events`: the record it copies}, for the events of the signed kinds: the first `opened`
    event is the intake's; a `completed` event is the record stored against its task; an `assigned` event
    the hand-over of its task (in order, for a task handed over more than once)."""
    completed: dict[str | None, SignedStep] = {}
    others: dict[tuple[str, str | None], list[SignedStep]] = defaultdict(list)
    for step in steps:
        kind = step.kind
        if kind == COMPLETED and step.task_id not in completed:  # a task completes once: the common case
            completed[step.task_id] = step
        elif kind in SIGNED_KINDS:
            others[(kind, None if kind == OPENED else step.event_task_id)].append(step)
    pairs: dict[int, SignedStep] = {}
    for position, event in enumerate(events):
        kind = event.kind
        if kind == COMPLETED:
            step = completed.pop(event.task_id, None)
            if step is not None:
                pairs[position] = step
                continue
        if kind in SIGNED_KINDS:
            waiting = others.get((kind, None if kind == OPENED else event.task_id))
            if waiting:
                pairs[position] = waiting.pop(0)
    return pairs


def signed_timeline(steps: Sequence[SignedStep], events: Sequence[JournalEvent]) -> tuple[CaseEventView, ...]:
    """The case's timeline: every record as the event it is, and between them the unsigned journal entries in
    the order they were written. An event of a signed kind with no record behind it is not shown."""
    pairs = pair_events(steps, events)
    after: dict[int, list[CaseEventView]] = defaultdict(list)  # journal entries after the record of this seq
    anchor = 0
    for position, event in enumerate(events):
        step = pairs.get(position)
        if step is not None:
            anchor = step.seq
        elif event.kind not in SIGNED_KINDS:
            after[anchor].append(event.view())
    out = list(after[0])
    for step in steps:
        out.append(step.event_view())
        out.extend(after[step.seq])
    return tuple(out)


# --- the steps done ----------------------------------------------------------------------------------------
def signed_history(steps: Sequence[SignedStep], history: Sequence[TaskView], *, case_id: int,
                   respondent: str) -> tuple[TaskView, ...]:
    """`history` (a case's tasks in `case_history` order) with every completed step as its record says it:
    actor, time, name, role and data signed. A task row marked completed with no record is left out; a record
    with no task row is shown from the record alone."""
    done = {s.task_id: s for s in steps if s.kind == COMPLETED and s.task_id is not None}
    shown: set[int] = set()
    keyed: list[tuple[dt.datetime, float, TaskView]] = []
    for index, task in enumerate(history):
        if task.status != TaskStatus.COMPLETED:
            keyed.append((_second(task.completed_at or task.created_at), index, task))
            continue
        step = done.get(task.id)
        if step is not None:
            shown.add(step.seq)
            keyed.append((_second(step.at), index, _as_signed(task, step)))
    for step in steps:
        if step.kind == COMPLETED and step.seq not in shown:
            keyed.append((step.at, len(history) + step.seq, _from_record(step, case_id, respondent)))
    # Records keep whole seconds: ties within a second keep the task table's order (which has the microseconds).
    keyed.sort(key=lambda item: (item[0], item[1]))
    return tuple(task for _, _, task in keyed)


def _second(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=0)


def _as_signed(task: TaskView, step: SignedStep) -> TaskView:
    rec = step.record
    return replace(task, spec_id=rec.task_spec_id, name=rec.task_name, role=rec.role, completed_by=rec.actor,
                   completed_at=step.at, form_data=step.form_data, record_seq=step.seq)


def _from_record(step: SignedStep, case_id: int, respondent: str) -> TaskView:
    rec = step.record
    return TaskView(
        id=step.task_id or f"record-{step.seq}", case_id=case_id, case_number=rec.case_number,
        spec_id=rec.task_spec_id, name=rec.task_name, role=rec.role, stage="", status=TaskStatus.COMPLETED,
        assignee=rec.actor, due_at=None, created_at=step.at, supervision=False, respondent=respondent,
        completed_by=rec.actor, completed_at=step.at, form_data=step.form_data, record_seq=step.seq)


__all__ = ["ABOUT_A_TASK", "ASSIGNED", "COMPLETED", "OPENED", "SIGNED_KINDS", "JournalEvent", "ListFields", "SignedStep", "URGED", "intake_of",
           "journal_events", "list_fields", "pair_events", "parse_steps", "signed_history", "signed_steps", "stored_seals",
           "signed_timeline"]
