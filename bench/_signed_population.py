"""A database of many signed cases for `verify --all` benchmarks, built without driving each one through the engine.

Driving 10,000 cases through `complete_task` would take hours (every step renders and signs its 文书). Instead:

1. a handful of cases per demo scenario are really played through the engine (`engine.demo.play`: authorisation,
   gates, workflow, task table, documents, signed records) — every outcome and way through the model;
2. each played case is replicated at the database level under a NEW case id and number: its task rows (new task
   ids), named candidates, events, publication and document rows (the same PDF bytes, copied inside the database,
   so their sha256 still match) — and its step records are RE-SIGNED, in seq order, by the same officer's real key (unlocked with the PIN
   by `journal.unlock_signer`), at the original signing time: built as `journal.record_step` builds them (a new
   `StepRecord` of the replica's own case id and number, chained to the replica's previous record), signed, and
   appended to the Merkle log with `journal.frontier_append` under the log-state lock — in bulk, one statement per
   table and transaction, because `record_step`'s per-row round trips would take an hour for 10,000 cases. The
   votes a record lists under `_signed_votes` name the replica's own vote records.

So every replica record has a distinct valid signature, chain and log leaf, and lists exactly the documents its
case holds. What a replica shares with its original is the form data: the BPMN replay of a replica follows the same
path with the same routing data as its original (the audit's replay memo sees that; bench/signatures.py reports how
many distinct paths were actually replayed).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from engine import journal
from engine.db.document_tables import DocumentRow
from engine.db.publication_tables import PublicationRow
from engine.db.tables import (
    CaseEventRow,
    CaseRow,
    LogLeafRow,
    LogStateRow,
    StepRecordRow,
    TaskRow,
    TaskUserRow,
)
from engine.demo import SCENARIOS, play
from engine.demo_users import DEMO_PASSWORD, DEMO_PIN, DEMO_USERS, demo_certificate
from engine.numbering import next_number
from engine.services import Services
from engine.usecases.definitions import store_default_definition
from engine.usecases.users import add_user
from engine.values import AddUser, fixed_clock
from signatures.keys import KeySigner
from signatures.merkle import leaf_hash
from signatures.records import GENESIS_HASH, REASSIGN_SPEC, SignedRecord, StepRecord, parse_utc, sign_record

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # fixed: the benchmark measures durations only
REPLICAS_PER_TRANSACTION = 100


@dataclass(frozen=True)
class Population:
    played: int
    replicated: int
    records: int
    documents: int
    document_bytes: int
    play_s: float
    replicate_s: float


def prepare(svc: Services) -> None:
    """The default model and the demo users with signing keys (all with the demo PIN)."""
    clock = fixed_clock(T0)
    store_default_definition(svc=svc, clock=clock)
    for user_id, name, roles, unit in DEMO_USERS:
        add_user(AddUser(user_id=user_id, name=name, password=DEMO_PASSWORD, roles=list(roles), unit=unit,
                         pin=DEMO_PIN, **demo_certificate(user_id)), svc=svc, clock=clock)


def play_scenarios(svc: Services, per_scenario: int) -> list[int]:
    """Play every demo scenario `per_scenario` times through the engine; the case ids, in order."""
    ids = []
    for round_ in range(per_scenario):
        for index, name in enumerate(SCENARIOS):
            start = T0 + dt.timedelta(days=7 + round_ * len(SCENARIOS) + index, hours=round_)
            ids.append(play(svc, SCENARIOS[name], start=start).case.id)
    return ids


@dataclass
class _Original:
    case: CaseRow
    records: list[tuple[StepRecordRow, SignedRecord]]
    tasks: list[TaskRow]
    candidates: list[tuple[str, str, str]]
    documents: list[Any]  # (id, task_id, sha256) rows: the PDF bytes are copied inside the database
    events: list[dict[str, Any]]  # the case's journal (case_events), as stored
    publication: dict[str, Any] | None


def _load_original(session: Session, case_id: int) -> _Original:
    case = session.get_one(CaseRow, case_id)
    rows = list(session.scalars(select(StepRecordRow).where(StepRecordRow.case_id == case_id)
                                .order_by(StepRecordRow.seq)))
    tasks = list(session.scalars(select(TaskRow).where(TaskRow.case_id == case_id)))
    candidates = [tuple(r) for r in session.execute(
        select(TaskUserRow.task_id, TaskUserRow.user_id, TaskUserRow.kind)
        .where(TaskUserRow.task_id.in_([t.id for t in tasks])))]
    documents = list(session.execute(select(DocumentRow.id, DocumentRow.task_id, DocumentRow.sha256)
                                     .where(DocumentRow.case_id == case_id).order_by(DocumentRow.id)))
    records = [(r, SignedRecord.from_parts(r.canonical, r.signature)) for r in rows]
    events = [dict(e) for e in session.execute(select(CaseEventRow.__table__).where(CaseEventRow.case_id == case_id)
                                                .order_by(CaseEventRow.id)).mappings()]
    publication = session.execute(select(PublicationRow.__table__).where(PublicationRow.case_id == case_id)
                                  ).mappings().first()
    held = {d.sha256 for d in documents}
    if any(ref.sha256 not in held for _, signed in records for ref in signed.record.documents):
        raise RuntimeError(f"case {case.number}: a record lists a document the case does not hold")
    return _Original(case, records, tasks, candidates, documents, events,  # type: ignore[arg-type]
                     None if publication is None else dict(publication))


_CASE_COLUMNS = ("definition_id", "status", "stage", "outcome", "respondent", "violation", "channel", "state",
                 "next_timer_at", "opened_by", "created_at", "updated_at", "closed_at", "agency_code")
_TASK_COLUMNS = ("spec_id", "name", "role", "stage", "document", "status", "assignee", "restricted", "supervision",
                 "mi_index", "due_at", "sort_due", "created_at", "claimed_at", "completed_at", "completed_by",
                 "form_data", "agency_code")
_DOCUMENT_COLUMNS = ("spec_id", "kind", "title", "doc_number", "file_name", "sha256", "verification_code",
                     "page_count", "signed_by", "created_at")
_COPY_DOCUMENT = text(  # the PDF bytes are copied inside the database: they never pass through Python here
    f"INSERT INTO documents (case_id, task_id, {', '.join(_DOCUMENT_COLUMNS)}, pdf) "  # noqa: S608 (fixed names)
    f"SELECT :case_id, :task_id, {', '.join(_DOCUMENT_COLUMNS)}, pdf FROM documents WHERE id = :id")


class _Log:
    """The log append of `journal.append_leaf`, for many records in one transaction: the log-state row is
    locked once, leaves go through `journal.frontier_append` and are inserted in one statement at the end."""

    def __init__(self, session: Session) -> None:
        state = session.get(LogStateRow, journal.LOG_STATE_ID, with_for_update=True, populate_existing=True)
        if state is None:
            raise RuntimeError("log_state row missing: run the migrations")
        self.state = state
        self.size = state.size
        self.frontier = [state.frontier[i:i + 32] for i in range(0, len(state.frontier), 32)]
        self.leaves: list[dict[str, Any]] = []

    def append(self, leaf: bytes, case_id: int, seq: int) -> int:
        index = self.size
        self.frontier = journal.frontier_append(self.frontier, leaf, index)
        self.size += 1
        self.leaves.append({"index": index, "leaf_hash": leaf, "case_id": case_id, "seq": seq})
        return index

    def write(self, session: Session) -> None:
        if self.leaves:
            session.execute(insert(LogLeafRow), self.leaves)
        self.state.size = self.size
        self.state.frontier = b"".join(self.frontier)


def _resign(original: _Original, case_id: int, number: str, task_ids: dict[str, str],
            signers: dict[str, KeySigner], log: _Log) -> list[dict[str, Any]]:
    """The replica's step records: built and signed as `journal.record_step` does, chained, appended to the log."""
    rows: list[dict[str, Any]] = []
    hashes: dict[int, str] = {}
    prev_hash = GENESIS_HASH
    for stored, signed in original.records:
        old = signed.record
        form_data: dict[str, Any] = dict(old.form_data)
        if journal.VOTES_KEY in form_data:  # the votes this record rests on are the replica's own
            form_data[journal.VOTES_KEY] = [{**vote, "record_hash": hashes[vote["seq"]]}
                                            for vote in form_data[journal.VOTES_KEY]]
        if old.task_spec_id == REASSIGN_SPEC:  # a hand-over names the task it handed over
            form_data["task_id"] = task_ids[form_data["task_id"]]
        signer = signers[old.actor]
        signed_at = parse_utc(old.time_utc)
        record = StepRecord.create(
            case_id=str(case_id), case_number=number, seq=old.seq, task_spec_id=old.task_spec_id,
            task_name=old.task_name, role=old.role, definition_sha256=old.definition_sha256, signer=signer,
            actor=old.actor, actor_name=old.actor_name, form_data=form_data,
            documents=old.documents,  # the same bytes are copied to the replica (see _load_original)
            prev_hash=prev_hash, signed_at=signed_at, assignments=old.assignments)
        new = sign_record(record, signer)
        index = log.append(leaf_hash(new.record_digest), case_id, old.seq)
        rows.append({"case_id": case_id, "seq": old.seq, "task_id": task_ids[stored.task_id] if stored.task_id else None,
                     "task_spec_id": old.task_spec_id, "actor": old.actor, "canonical": new.canonical,
                     "signature": new.signature, "cert_fingerprint": new.cert_fingerprint,
                     "record_hash": new.record_hash, "prev_hash": prev_hash, "log_index": index,
                     "signed_at": signed_at})
        prev_hash = hashes[old.seq] = new.record_hash
    return rows


def _replicate(session: Session, originals: list[_Original], signers: dict[str, KeySigner], prefix: str) -> int:
    """One replica of each original in this transaction: case, tasks, candidates, documents, records re-signed."""
    numbers: list[str] = []
    for original in originals:
        year = int(original.case.number.split("〔", 1)[1][:4])
        numbers.append(next_number(session, prefix, year, width=4))
    case_ids = list(session.scalars(
        insert(CaseRow).returning(CaseRow.id, sort_by_parameter_order=True),
        [{"number": n, "version": 1, **{c: getattr(o.case, c) for c in _CASE_COLUMNS}}
         for o, n in zip(originals, numbers, strict=True)]))
    log = _Log(session)
    tasks, candidates, documents, records, events, publications = [], [], [], [], [], []
    for original, case_id, number in zip(originals, case_ids, numbers, strict=True):
        task_ids = {t.id: str(uuid.uuid4()) for t in original.tasks}
        tasks += [{"id": task_ids[t.id], "case_id": case_id, **{c: getattr(t, c) for c in _TASK_COLUMNS}}
                  for t in original.tasks]
        candidates += [{"task_id": task_ids[t], "user_id": u, "kind": k} for t, u, k in original.candidates]
        documents += [{"case_id": case_id, "task_id": task_ids.get(d.task_id) if d.task_id else None, "id": d.id}
                      for d in original.documents]
        records += _resign(original, case_id, number, task_ids, signers, log)
        events += [_replica_event(e, case_id, task_ids) for e in original.events]
        if original.publication is not None:
            publication = {k: v for k, v in original.publication.items() if k != "id"}
            publications.append({**publication, "case_id": case_id, **{
                k: task_ids[publication[k]] for k in ("release_task_id", "withdraw_task_id") if publication[k]}})
    for statement, rows in ((insert(TaskRow), tasks), (insert(TaskUserRow), candidates), (_COPY_DOCUMENT, documents),
                            (insert(StepRecordRow), records), (insert(CaseEventRow), events),
                            (insert(PublicationRow), publications)):
        if rows:
            session.execute(statement, rows)
    log.write(session)
    return len(records)


def _replica_event(event: dict[str, Any], case_id: int, task_ids: dict[str, str]) -> dict[str, Any]:
    out = {k: v for k, v in event.items() if k != "id"}
    out.update(case_id=case_id, task_id=task_ids.get(event["task_id"], event["task_id"]))
    if event["kind"] == "assigned":  # the hand-over's detail is its signed record's form data
        out["detail"] = {**event["detail"], "task_id": task_ids[event["detail"]["task_id"]]}
    return out


def _signers(svc: Services, session: Session, originals: list[_Original]) -> dict[str, KeySigner]:
    """Each officer's real key, unlocked once with the PIN (valid at the earliest time they signed)."""
    first: dict[str, dt.datetime] = {}
    for original in originals:
        for _, signed in original.records:
            moment = parse_utc(signed.record.time_utc)
            first[signed.record.actor] = min(first.get(signed.record.actor, moment), moment)
    return {actor: journal.unlock_signer(svc, session, actor, DEMO_PIN, moment) for actor, moment in first.items()}


def replicate(svc: Services, played: list[int], total: int,
              progress: Callable[[int], None] | None = None) -> int:
    """Add replicas of the played cases (round robin) until the database holds `total` cases; returns records."""
    with svc.uow.read() as session:
        originals = [_load_original(session, case_id) for case_id in played]
        signers = _signers(svc, session, originals)
    prefix = svc.settings.agency.case_number_prefix
    written, made, needed = 0, 0, max(0, total - len(played))
    while made < needed:
        count = min(REPLICAS_PER_TRANSACTION, needed - made)
        with svc.uow() as work:
            batch = [originals[(made + i) % len(originals)] for i in range(count)]
            written += _replicate(work.session, batch, signers,
                                  prefix)
            work.commit()
        made += count
        if progress is not None:
            progress(made)
    return written


def build(svc: Services, *, cases: int, per_scenario: int,
          progress: Callable[[str], None] | None = None) -> Population:
    """Prepare, play and replicate into an empty database (see module docstring)."""
    say = progress or (lambda _: None)
    prepare(svc)
    start = time.perf_counter()
    played = play_scenarios(svc, per_scenario)
    play_s = time.perf_counter() - start
    say(f"played {len(played)} cases in {play_s:.0f} s")
    start = time.perf_counter()
    replicate(svc, played, cases, lambda n: say(f"replicated {n}") if n % 1000 < REPLICAS_PER_TRANSACTION else None)
    replicate_s = time.perf_counter() - start
    with svc.uow.read() as session:
        records = session.scalar(select(func.count()).select_from(StepRecordRow)) or 0
        documents, size = session.execute(select(func.count(), func.coalesce(func.sum(func.length(DocumentRow.pdf)), 0))
                                          ).one()
        total = session.scalar(select(func.count()).select_from(CaseRow)) or 0
    return Population(played=len(played), replicated=total - len(played), records=records, documents=documents,
                      document_bytes=int(size), play_s=round(play_s, 1), replicate_s=round(replicate_s, 1))


@dataclass(frozen=True)
class VerifyRun:
    """One `verify_cases(all)` run: wall and CPU time, and what the replay memo did."""

    cases: int
    records: int
    wall_s: float
    cpu_s: float
    replays: int  # paths replayed through the BPMN definition
    memo_hits: int  # cases whose path was already replayed with the same readable data
    all_valid: bool
    first_failures: list[str]

    @property
    def records_per_s(self) -> float:
        return self.records / self.wall_s

    @property
    def records_per_cpu_s(self) -> float:
        return self.records / self.cpu_s


def measure_verify(svc: Services, refs: list[str] | None, *, clock: Callable[[], dt.datetime]) -> VerifyRun:
    """Time `verify_cases` as `casetrail verify --all` runs it (refs None), in this process.

    A one-case run first parses the definition and signs the tree head, as any earlier command of the
    process would have; the timed run then signs nothing new and loads everything else itself."""
    import gc

    from engine.spiff.replay import ReplayMemo
    from engine.usecases.audit import verify_cases

    with svc.uow.read() as session:
        first = session.scalar(select(CaseRow.number).order_by(CaseRow.id).limit(1))
    verify_cases(svc, [first] if refs is None else refs[:1], clock=clock)
    memos: dict[int, ReplayMemo] = {}
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    reports = verify_cases(svc, refs, clock=clock, replay_memos=memos)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return VerifyRun(cases=len(reports), records=sum(len(r.steps) for r in reports), wall_s=wall, cpu_s=cpu,
                     replays=sum(m.replays for m in memos.values()), memo_hits=sum(m.hits for m in memos.values()),
                     all_valid=all(r.ok for r in reports),
                     first_failures=[f"{r.case_number}: {r.first_failure}" for r in reports if not r.ok][:3])
