"""`casetrail verify`: the copies the pages and lists read, checked against the signed records.

A step writes its signed record and, in the same transaction, copies of what the record says into the tables
that pages, lists and /public read quickly: case_events (the timeline's `opened`, `completed` and `assigned`
events: actor, step, detail), tasks (a completed task's `completed_by`, `completed_at`, `form_data`, step,
name and role), cases (number, party, violation and channel for the lists — from the signed intake — and
stage, outcome and status — from the workflow, which the BPMN replay recomputes from the signed steps),
publications (what /public shows: engine/rules/redaction.py masks the stored values on the way out, so equal stored
values show equal pages) and evidence_files (an attached file's digest, size, type, name, note, adder and time, which
the case page, the dossier and the bundles list, against the record that took it). Anyone with database access can
edit a copy; no signature covers it. Each difference found here fails `verify`, naming the table, the field, the row
and the step.

Not checked: due dates (tasks.due_at, cases.next_timer_at). They are computed when a task is created, from the
time of that moment and the working-day calendar then in force (an admin may enter a 调休 schedule later,
which legitimately changes what a recomputation gives), and the replay runs on a clock of its own: one replay
shared by every case with the same routing data is what makes `verify --all` fast (the memo,
engine/spiff/replay.py), and the replay would have to run on each case's own signing times instead, once per
case (~2 ms a step). The statutory decision clock the case page shows is computed from the signed steps.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from sqlalchemy import String, Text, cast, select, type_coerce

from engine.db.evidence_tables import ATTACHED, EvidenceFileRow
from engine.db.publication_tables import PublicationRow
from engine.db.tables import CaseEventRow, TaskRow
from engine.enums import CaseStatus, TaskStatus
from engine.spiff.replay import CaseEnd, ReplayMemo, ReplayResult
from engine.usecases.publications import ROW_FIELDS, Published, published_by
from engine.usecases.signed import (
    ABOUT_A_TASK,
    COMPLETED,
    SIGNED_KINDS,
    SignedStep,
    intake_of,
    list_fields,
    pair_events,
)
from signatures.records import format_times
from signatures.report import CaseReport, Check, CheckResult, failed, passed

SAYS = "the signed record says"
REPLAY_SAYS = "the replay of the signed steps gives"
UNSIGNED = "no signed record states it"


class _Missing:
    def __repr__(self) -> str:
        return "missing"


MISSING = _Missing()  # a copy that should exist and does not, or a record a copy should stand on
_ALL_AGREE = passed(Check.PROJECTION, "events, tasks, case row, publication and evidence files agree with the signed records")


@dataclass(frozen=True)
class Difference:
    """A copy that does not say what the record says: which step, table, field and row."""

    seq: int | None  # the record the copy should equal (None: no record behind the row)
    table: str
    field: str
    stored: Any
    signed: Any
    row: str = ""
    source: str = SAYS

    def reason(self) -> str:
        where = f" ({self.row})" if self.row else ""
        said = self.source if self.signed is MISSING else f"{self.source} {_show(self.signed)}"
        return f"{self.table}.{self.field}{where} is {_show(self.stored)} but {said}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "…"


@dataclass(frozen=True)
class CaseCopies:
    """What the pages, lists and /public read of one case, as stored."""

    events: Sequence[Any]  # case_events of the signed kinds, in order: id, kind, task_id, spec_id, actor, detail
    tasks: Mapping[str, Any]  # the case's task rows by id
    publication: Any | None  # its publications row
    files: Sequence[Any] = ()  # its attached evidence_files rows, by id


# The JSON copies are read as text and decoded here: SQLAlchemy's JSON result processing cost ~10 µs a value, and
# an event's detail that is the text of its task's copy (both are `json.dumps` of the same form) needs no decoding.
# For the same reason the completion time comes as stored: SQLite gives the text SQLAlchemy wrote (compared with the
# record's time as text first), PostgreSQL a datetime.
TASK_COLUMNS = (TaskRow.id, TaskRow.case_id, TaskRow.spec_id, TaskRow.name, TaskRow.role, TaskRow.status,
                TaskRow.completed_by, type_coerce(TaskRow.completed_at, String).label("completed_at"),
                cast(TaskRow.form_data, Text).label("form_text"))
_EVENT_COLUMNS = (CaseEventRow.case_id, CaseEventRow.id, CaseEventRow.kind, CaseEventRow.task_id, CaseEventRow.spec_id,
                  CaseEventRow.actor, cast(CaseEventRow.detail, Text).label("detail_text"))
_PUBLICATION_COLUMNS = tuple(getattr(PublicationRow, name) for name in ROW_FIELDS)
# What a record lists of a file (engine/values.py EvidenceFileView.record_entry), as the row holds it.
_FILE_FIELDS = ("sha256", "size", "media_type", "name", "note", "added_by", "added_at")
_FILE_COLUMNS = (EvidenceFileRow.case_id, EvidenceFileRow.id, EvidenceFileRow.seq,
                 *(getattr(EvidenceFileRow, f) for f in _FILE_FIELDS))
_decode = json.JSONDecoder().decode


class _Task(NamedTuple):  # plain tuples: a Row resolves an attribute by name ~10x slower, and each is read often
    id: str
    case_id: int
    spec_id: str
    name: str
    role: str
    status: str
    completed_by: str | None
    completed_at: dt.datetime | str | None
    form_text: str | None


class _Event(NamedTuple):
    case_id: int
    id: int
    kind: str
    task_id: str | None
    spec_id: str | None
    actor: str | None
    detail_text: str | None


def load_copies(run: Callable[[Any], Any], ids: Sequence[int]) -> dict[int, CaseCopies]:
    """The copies of these cases, three queries in all (`run` executes a Core statement)."""
    tasks: dict[int, dict[str, Any]] = {i: {} for i in ids}
    for row in run(select(*TASK_COLUMNS).where(TaskRow.case_id.in_(ids))).all():
        task = _Task(*row)
        tasks[task.case_id][task.id] = task
    events: dict[int, list[Any]] = {i: [] for i in ids}
    for row in run(select(*_EVENT_COLUMNS).where(CaseEventRow.case_id.in_(ids),
                                                 CaseEventRow.kind.in_(sorted(SIGNED_KINDS)))
                   .order_by(CaseEventRow.case_id, CaseEventRow.id)).all():
        events[row[0]].append(_Event(*row))
    publications = {p.case_id: p for p in run(select(PublicationRow.case_id, *_PUBLICATION_COLUMNS)
                                              .where(PublicationRow.case_id.in_(ids))).all()}
    files: dict[int, list[Any]] = {i: [] for i in ids}
    for row in run(select(*_FILE_COLUMNS).where(EvidenceFileRow.case_id.in_(ids), EvidenceFileRow.state == ATTACHED)
                   .order_by(EvidenceFileRow.case_id, EvidenceFileRow.id)).all():
        files[row.case_id].append(row)
    return {i: CaseCopies(events[i], tasks[i], publications.get(i), files[i]) for i in ids}


def differences(case: Any, copies: CaseCopies, steps: Sequence[SignedStep],
                publication_steps: Mapping[str, str], zone: dt.tzinfo,
                taskless_steps: frozenset[str] = frozenset()) -> list[Difference]:
    """Every copy of `case` (its row: id, number, respondent, violation, channel) that differs from `steps`;
    `publication_steps` are the case model's steps of the publication register (`published_by`); `taskless_steps`
    the steps a person takes without a task (the model's message starts: 挂牌督办), copied by their event alone."""
    out: list[Difference] = []
    agreed = _tasks(out, copies.tasks, steps, taskless_steps)
    _events(out, copies.events, steps, agreed)
    _case_row(out, case, steps)
    out += _publication(copies.publication, published_by(steps, publication_steps, zone))
    _files(out, copies.files, steps)
    return out


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return _decode(text)
    except ValueError:
        return text  # not JSON at all (SQLite stores any text): reported as it is


def _fields(out: list[Difference], seq: int | None, table: str, row: str, pairs: Sequence[tuple[str, Any, Any]]) -> None:
    for name, stored, signed in pairs:
        if stored != signed:
            out.append(Difference(seq, table, name, stored, signed, row))


def _data(out: list[Difference], seq: int, table: str, name: str, row: str, stored: Any, signed: dict) -> None:
    """A copied form that differs: each key that differs, by name (the whole value when it is not an object)."""
    if not isinstance(stored, dict):
        out.append(Difference(seq, table, name, stored, signed, row))
        return
    for key in sorted(set(stored) | set(signed), key=str):
        if stored.get(key) != signed.get(key):
            out.append(Difference(seq, table, f"{name}.{key}", stored.get(key), signed.get(key), row))


def _tasks(out: list[Difference], tasks: Mapping[str, Any], steps: Sequence[SignedStep],
           taskless_steps: frozenset[str]) -> dict[str, str]:
    """Each completed task row against its step's record; returns {task id: its form's text} where it agreed."""
    agreed: dict[str, str] = {}
    signed: set[str] = set()
    for step in steps:
        if step.kind != COMPLETED or (step.task_id is None and step.record.task_spec_id in taskless_steps):
            continue
        rec = step.record
        task = tasks.get(step.task_id) if step.task_id is not None else None
        if task is None:
            out.append(Difference(step.seq, "tasks", "id", MISSING, f"a completed {rec.task_spec_id!r} task of this "
                                  f"case (stored against {step.task_id!r})"))
            continue
        signed.add(task.id)
        if ((task.status, task.spec_id, task.name, task.role, task.completed_by)
                != (TaskStatus.COMPLETED, rec.task_spec_id, rec.task_name, rec.role, rec.actor)
                or not _same_second(task.completed_at, rec.time_utc)):
            done_at = _moment(task.completed_at)
            _fields(out, step.seq, "tasks", f"task {task.id}", (
                ("status", task.status, TaskStatus.COMPLETED), ("spec_id", task.spec_id, rec.task_spec_id),
                ("name", task.name, rec.task_name), ("role", task.role, rec.role), ("completed_by", task.completed_by,
                                                                                  rec.actor),
                ("completed_at", done_at and done_at.replace(microsecond=0), step.at)))
        form = _json(task.form_text)
        if form == step.form_data:
            agreed[task.id] = task.form_text
        else:
            _data(out, step.seq, "tasks", "form_data", f"task {task.id}", form, step.form_data)
    for task in tasks.values():
        if task.status == TaskStatus.COMPLETED and task.id not in signed:
            out.append(Difference(None, "tasks", "status", TaskStatus.COMPLETED, MISSING, f"task {task.id}, {task.spec_id}",
                                  UNSIGNED))
    return agreed


def _same_second(stored: dt.datetime | str | None, time_utc: str) -> bool:
    """Whether a stored completion time is the record's `YYYY-MM-DDTHH:MM:SSZ` (records keep whole seconds)."""
    if isinstance(stored, str) and stored[:10] == time_utc[:10] and stored[10:11] in (" ", "T") \
            and stored[11:19] == time_utc[11:19]:
        return True  # the text SQLite holds, read without parsing it
    moment = _moment(stored)
    return moment is not None and format_times(moment)[0] == time_utc


def _moment(stored: dt.datetime | str | None) -> dt.datetime | None:
    if isinstance(stored, str):
        try:
            moment = dt.datetime.fromisoformat(stored)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # UtcDateTime stores UTC without a zone
    return stored


def _events(out: list[Difference], events: Sequence[Any], steps: Sequence[SignedStep], agreed: Mapping[str, str]) -> None:
    pairs = pair_events(steps, events)
    copied: set[int] = set()
    for position, event in enumerate(events):
        step = pairs.get(position)
        if step is None:
            out.append(Difference(None, "case_events", "kind", event.kind, MISSING, f"event {event.id}, {event.kind}",
                                  UNSIGNED))
            continue
        copied.add(step.seq)
        rec = step.record
        if event.actor != rec.actor or event.spec_id != step.event_spec_id:
            _fields(out, step.seq, "case_events", f"event {event.id}, {event.kind}", (
                ("actor", event.actor, rec.actor), ("spec_id", event.spec_id, step.event_spec_id)))
        text = event.detail_text
        task_text = agreed.get(event.task_id) if step.kind == COMPLETED else None
        if task_text is not None and text == '{"form_data": ' + task_text + "}":
            continue  # the very text of the task's copy, which equals the record
        detail = _json(text)
        if step.kind in ABOUT_A_TASK.values():
            if detail != step.event_detail:
                _data(out, step.seq, "case_events", "detail", f"event {event.id}, {event.kind}", detail,
                      step.event_detail)
            continue
        form = detail.get("form_data") if isinstance(detail, dict) else detail
        if form != step.form_data:
            _data(out, step.seq, "case_events", "detail.form_data", f"event {event.id}, {event.kind}", form,
                  step.form_data)
    for step in steps:
        if step.kind in SIGNED_KINDS and step.seq not in copied:
            out.append(Difference(step.seq, "case_events", "kind", MISSING, step.kind))


def _case_row(out: list[Difference], case: Any, steps: Sequence[SignedStep]) -> None:
    intake = intake_of(steps)
    if intake is None:
        return  # no signed intake: `verify` already fails the case on its records
    listed = list_fields(intake.record.form_data)
    _fields(out, intake.seq, "cases", f"case {case.id}", (
        ("id", str(case.id), intake.record.case_id), ("number", case.number, intake.record.case_number),
        ("respondent", case.respondent, listed.respondent), ("violation", case.violation, listed.violation),
        ("channel", case.channel, listed.channel)))


def _files(out: list[Difference], rows: Sequence[Any], steps: Sequence[SignedStep]) -> None:
    """Each attached evidence file row (what the case page, the dossier and the bundles read) against the record
    that took it: the first that lists it (a later step, such as 证据登记, may name it again)."""
    listed: dict[Any, tuple[int, Mapping[str, Any]]] = {}
    for step in steps:
        for entry in step.files:
            if isinstance(entry, Mapping):
                listed.setdefault(entry.get("id"), (step.seq, entry))
    for row in rows:
        where = f"file {row.id}"
        took = listed.pop(row.id, None)
        if took is None:
            out.append(Difference(row.seq, "evidence_files", "id", row.id, MISSING, where, UNSIGNED))
            continue
        seq, entry = took
        stored = {f: getattr(row, f) for f in _FILE_FIELDS}
        stored["added_at"] = _moment(stored["added_at"])
        signed = {**{f: entry.get(f) for f in _FILE_FIELDS}, "added_at": _moment(str(entry.get("added_at", ""))
                                                                                .replace("Z", "+00:00"))}
        if stored["added_at"] is not None:
            stored["added_at"] = stored["added_at"].replace(microsecond=0)
        _fields(out, seq, "evidence_files", where, [("seq", row.seq, seq)]
                + [(f, stored[f] or None, signed[f] or None) for f in _FILE_FIELDS])
    for file_id, (seq, _) in listed.items():
        out.append(Difference(seq, "evidence_files", "id", MISSING, f"file {file_id}, attached to this step"))


def _publication(row: Any | None, expected: Published | None) -> list[Difference]:
    if row is None and expected is None:
        return []
    if expected is None:
        return [Difference(None, "publications", "case_id", row.case_id, MISSING, f"publication of case {row.case_id}",
                           "no signed release publishes it")]
    if row is None:
        return [Difference(expected.release_seq, "publications", "case_id", MISSING, "a published decision")]
    out: list[Difference] = []
    where = f"publication of case {row.case_id}"
    for name in ROW_FIELDS:
        stored, signed = getattr(row, name), getattr(expected, name)
        if _same(stored, signed):
            continue
        seq = expected.withdraw_seq if name.startswith("withdraw") else expected.release_seq
        out.append(Difference(seq, "publications", name, stored, signed, where))
    return out


def _same(stored: Any, signed: Any) -> bool:
    if isinstance(stored, dt.datetime) and isinstance(signed, dt.datetime):
        return stored.replace(microsecond=0) == signed.replace(microsecond=0)  # records keep whole seconds
    if isinstance(stored, float) and isinstance(signed, float):
        return abs(stored - signed) < 0.005  # the row keeps two decimals (Numeric(14, 2))
    return bool(stored == signed)


# --- stage, outcome and status: the BPMN replay of the signed steps ------------------------------------------
MAX_TIMER_HOPS = 10  # timers fired one after the other after the last step, at most (each one replayed: ~2 ms)


def state_differences(case: Any, memo: ReplayMemo, replayed: Sequence[tuple[Any, ReplayResult]]) -> list[Difference]:
    """The case row's stage, outcome and status against where the replay of its signed steps ends.

    After its last signed step only time moves a case: a timer that fired since may have moved it on, so a row
    that equals where the replay ends after firing the timers waiting then, one after the other, agrees too.
    `replayed`: the path check's replay (its steps and result) through `memo`; none ran, or the path was refused
    — the path check fails the case then — and nothing is compared."""
    if not replayed or not replayed[0][1].ok or not replayed[0][1].ends:
        return []
    steps, result = replayed[0]
    stored = CaseEnd(stage=case.stage, outcome=case.outcome, closed=case.status == CaseStatus.CLOSED)
    if stored == result.ends[0] or (result.timers_waiting
                                    and stored in memo.replay(steps, timer_hops=MAX_TIMER_HOPS).ends):
        return []
    end = result.ends[0]
    out: list[Difference] = []
    for name, value, replay in (("stage", case.stage, end.stage), ("outcome", case.outcome, end.outcome),
                                ("status", case.status, CaseStatus.CLOSED if end.closed else CaseStatus.OPEN)):
        if value != replay:
            out.append(Difference(None, "cases", name, value, replay, f"case {case.id}", REPLAY_SAYS))
    return out



# --- into the report -----------------------------------------------------------------------------------------
def with_differences(report: CaseReport, found: Sequence[Difference]) -> CaseReport:
    """`report` with a `projection` check: failed on each step a copy of which differs (and on the case for copies
    with no step behind them), else one passed check on the case."""
    if not report.steps:
        return report
    by_seq: dict[int | None, list[CheckResult]] = defaultdict(list)
    seqs = {s.seq for s in report.steps}
    for difference in found:
        by_seq[difference.seq if difference.seq in seqs else None].append(failed(Check.PROJECTION, difference.reason()))
    case_level = by_seq.pop(None, [])
    case_checks = (*report.case_checks, *(case_level if case_level or by_seq else [_ALL_AGREE]))
    steps = tuple(replace(s, checks=(*s.checks, *by_seq[s.seq])) if s.seq in by_seq else s for s in report.steps)
    return replace(report, case_checks=case_checks, steps=steps)


__all__ = ["CaseCopies", "Difference", "TASK_COLUMNS", "differences", "load_copies", "state_differences",
           "with_differences"]
