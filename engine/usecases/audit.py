"""The auditor's use cases: verify cases from the database, export evidence bundles, verify a bundle offline.

Online (`verify_cases`) the engine supplies what only it knows: who held each task (the task table, as
`expected_actor`) and the BPMN replay of the recorded path (`path_check`, through the definition whose
sha256 the records name). Offline (`verify_bundle_file`) the same replay runs on the definition files
inside the bundle — no database, no server. Both return `signatures.report.CaseReport`s; the CLI renders.

Sealed fields (docs/evidence-bundle.md §1a): online the stored values open every version-2 record (an edited value
or salt fails `disclosure`); an export for an auditor carries the digests only — the complainant's identity and
the votes no later record has acted on are withheld, with the 文书 that print them — and an export for a user
entitled to the complainant's identity (`disclose_to`) carries those values too.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import journal
from engine.agencies import case_settings, subtree_codes
from engine.agency_seals import seal_for
from engine.db.repositories import Cases, Users
from engine.db.tables import AgencyRow, CaseRow, DefinitionRow, StepRecordRow, TaskRow
from engine.errors import ConfigurationError, EvidenceDamaged, NotFound
from engine.services import Services
from engine.usecases import disclosure
from engine.usecases.access import person_of, visible_cases
from engine.usecases.handover_links import link_checks
from engine.usecases.projections import (
    CaseCopies,
    differences,
    load_copies,
    state_differences,
    with_differences,
)
from engine.usecases.seal_check import document_sealers, seal_check
from engine.usecases.signed import SignedStep, stored_seals
from engine.values import Clock
from signatures.bundle import BundledFile, BundleSource, read_bundle, verify_bundle, write_bundle_to
from signatures.chain import TrustStore
from signatures.errors import BundleError, SignatureError
from signatures.evidence import EvidenceFile, EvidenceLookup, Found, hash_stream, listed_files
from signatures.merkle import InclusionProof, LeafTable, MerkleLog
from signatures.pki import fingerprint, load_certificate
from signatures.records import SignedRecord, StepRecord, is_model_step
from signatures.report import CaseReport, Check, failed
from signatures.sealing import Disclosure, open_form, parent_of, parse_pointer
from signatures.treehead import SignedTreeHead, verify_extends, verify_tree_head
from signatures.verify import PathCheck, PathResult, verify_case

if TYPE_CHECKING:
    from engine.rules.settings import Settings
    from engine.rules.workdays import WorkingCalendar
    from engine.spiff.definitions import LoadedDefinition
    from engine.spiff.replay import ReplayMemo, ReplayResult

DEFINITION_INDEX = "casetrail-definition.json"  # bundle file: plain names → definition file names, entry process


# --- the BPMN path check (online and offline) ----------------------------------------------------
def path_check_for(definition: LoadedDefinition, *, settings: Settings | None = None,
                   calendar: WorkingCalendar | None = None, memo: ReplayMemo | None = None,
                   replayed: Callable[[list[tuple[str, dict[str, Any]]], ReplayResult], None] | None = None,
                   unstated: Mapping[str, Any] | None = None) -> PathCheck:
    """Replay the recorded steps through `definition` (engine.spiff.replay) and name the first step it refuses.

    The case's data reads the settings its signed intake states it runs with (journal.SETTINGS_KEY: its agency's
    when it was opened), never today's. `unstated`: those to use for an intake signed before intakes stated them
    (the case's agency's now, online; `settings`' offline).

    With `memo` (built for this definition) a path already replayed with the same readable data is not replayed
    again; `settings` and `calendar` are then the memo's (the time limits and calendar, the platform's; the
    case's own settings are in its data, and so in the memo's key). `replayed` is given the steps replayed and
    the result."""
    from engine.spiff.replay import replay_path

    if memo is not None and memo.definition is not definition:
        raise ValueError("the replay memo was built for another process definition")

    def check(records: list[StepRecord]) -> PathResult | None:
        other = next((r for r in records if r.definition_sha256 != definition.sha256), None)
        if other is not None:
            return PathResult(False, f"step {other.seq} names process definition {other.definition_sha256[:16]}…, "
                                     f"not the one replayed ({definition.sha256[:16]}…)", other.seq)
        # The engine's own records (a reassignment) are not steps of the model: they are not replayed.
        model_steps = [r for r in records if is_model_step(r.task_spec_id)] or records
        steps = [_replay_step(r, unstated) for r in model_steps]
        if memo is not None:
            result = memo.replay(steps)
        else:
            result = replay_path(definition, steps, settings=settings, calendar=calendar)
        if replayed is not None:
            replayed(steps, result)
        if result.ok:
            return None
        index = result.failing_index or 0
        return PathResult(False, result.reason or "the process definition does not allow this step",
                          model_steps[min(index, len(model_steps) - 1)].seq, stopped=result.withheld is not None)

    return check


def _replay_step(record: StepRecord, unstated: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    # Keys starting with "_" are the engine's own additions (e.g. the signed votes listed after a deliberation).
    data = {k: v for k, v in record.form_data.items() if not k.startswith("_")}
    if record.sealed:
        data = _with_placeholders(data, record.sealed)
    if record.seq == 1:
        ran_with = record.form_data.get(journal.SETTINGS_KEY, unstated)
        return record.task_spec_id, {**data, "registered_by": record.actor, "case_number": record.case_number,
                                     **({"settings": ran_with} if ran_with is not None else {})}
    return record.task_spec_id, {**data, "_actor": record.actor}


def _with_placeholders(data: dict[str, Any], sealed: Mapping[str, str]) -> dict[str, Any]:
    """The opened form with a `WithheldValue` wherever a sealed field was not disclosed (engine/spiff/replay.py)."""
    from engine.spiff.replay import WithheldValue

    out = copy.deepcopy(data)
    for pointer in sealed:
        tokens = parse_pointer(pointer)
        parent = parent_of(out, tokens)
        if isinstance(parent, dict) and tokens[-1] not in parent:
            parent[tokens[-1]] = WithheldValue(pointer)
    return out


def bundle_definition_files(files: Mapping[str, bytes]) -> tuple[dict[str, bytes], str]:
    """Definition files and entry process as stored (names restored from the bundle's plain names)."""
    if DEFINITION_INDEX not in files:
        raise SignatureError(f"definition/{DEFINITION_INDEX} is missing: the workflow path cannot be replayed")
    index = json.loads(files[DEFINITION_INDEX])
    return {original: files[plain] for plain, original in index["files"].items()}, str(index["entry_process_id"])


def offline_path_check(definition_files: Mapping[str, bytes]) -> PathCheck:
    """The path check for a bundle: replay through the BPMN files it carries (their sha256 must match)."""
    try:
        from engine.spiff.definitions import load_definition

        files, entry = bundle_definition_files(definition_files)
        # Read, not adopted: the 裁量基准 are not held to the law's ranges here (engine/spiff/benchmarks.py
        # check_model). The version was checked when the agency stored it; the question is whether the signed steps
        # follow it, and the answer must not depend on the settings of the machine the auditor runs on.
        definition = load_definition(files, entry)
    except Exception as exc:  # an unreadable model is a failed path check, reported, not a crash
        reason = f"the bundle's process definition cannot be loaded: {exc}"

        def refuse(records: list[StepRecord]) -> PathResult:
            return PathResult(False, reason)

        return refuse
    return path_check_for(definition)


# --- verifying from the database -----------------------------------------------------------------
# Cases loaded per round trip: their records, task holders and document bytes (~0.5 MB a case) sit in memory.
CASES_PER_BATCH = 100


@dataclass
class _AuditContext:
    trust: TrustStore
    certificates: dict[str, Any]
    head: SignedTreeHead | None
    log: MerkleLog
    memos: dict[int, ReplayMemo] = field(default_factory=dict)  # per definition id, for this run only
    inclusion: LeafTable | None = None  # the stored leaves, checked against the head once for the run
    rehash: bool = False  # read every evidence file through (else: present with its signed size)
    stored: dict[str, Found | None] = field(default_factory=dict)  # evidence blobs looked at this run, by digest


def _context(svc: Services, session: Session, head: SignedTreeHead | None, clock: Clock) -> _AuditContext:
    certs = journal.all_certificates(session)
    root = svc.agency_keys.certificates()["root"]
    trust = TrustStore([root], crls=[journal.current_crl(svc, session, clock())])
    log = MerkleLog(journal.log_leaf_hashes(session))
    inclusion = LeafTable(log, head.tree_head.root_hash, head.tree_head.size) if head is not None else None
    return _AuditContext(trust, certs, head, log, inclusion=inclusion)


@dataclass(frozen=True)
class _CaseRef:
    """A case as its row stores it: what the checks need, and the fields the lists copy from the records."""

    id: int
    number: str
    definition_id: int
    opened_by: str
    respondent: str
    violation: str
    channel: str
    stage: str
    outcome: str
    status: str
    agency_code: str


_CASE_COLUMNS = ("id", "number", "definition_id", "opened_by", "respondent", "violation", "channel", "stage",
                 "outcome", "status", "agency_code")


class _StoredRecord(NamedTuple):
    """A step record as stored. A plain tuple: SQLAlchemy's `Row` resolves an attribute by name in a dozen times
    the time of a tuple field, and `verify --all` reads about ten per record."""

    seq: int
    task_id: str | None
    canonical: bytes
    signature: bytes
    log_index: int


@dataclass
class _Batch:
    """What the checks need of a group of cases, loaded in a few queries instead of a few per case."""

    records: dict[int, list[_StoredRecord]]  # case id -> its records by seq
    holders: dict[str, str | None]  # task id -> who completed it
    documents: dict[int, dict[str, bytes]]  # case id -> {sha256: bytes}
    copies: dict[int, CaseCopies]  # case id -> what pages and lists read of it (engine/usecases/projections.py)
    seals: dict[int, dict[int, dict[str, Disclosure]]]  # case id -> seq -> the stored sealed values


def verify_cases(svc: Services, refs: Sequence[str] | None, *, clock: Clock,
                 known_head: SignedTreeHead | None = None,
                 replay_memos: dict[int, ReplayMemo] | None = None, rehash: bool = False,
                 reader: str | None = None, agency: str | None = None) -> list[CaseReport]:
    """Re-check the given cases (None: every case — with `agency`, every case of that agency and the agencies
    below it) from the database; a new tree head is signed if the log grew. The log is the platform's one log:
    every case is checked against the same signed head whichever agency handles it.
    `reader`: the user asking (the web's auditor): every case is then every case they may read, and a case named
    that they may not is refused (Forbidden).

    Cases are loaded `CASES_PER_BATCH` at a time; each distinct path is replayed once per run (`ReplayMemo`).
    `replay_memos` (by definition id) are used and filled instead of fresh ones: to inspect them, or to keep
    them for another run with the same settings and calendar.

    Each evidence file a record lists must be in the blob store with the size its record signs; `rehash` reads
    every one through and compares its SHA-256 too. Not by default: a case's recordings run to gigabytes, and
    `verify --all` (and every dossier, which prints a verification) would read them all; the store already
    hashed each file on the way in and keeps it read-only, and an exported bundle re-hashes what it carries."""
    head, _ = journal.sign_tree_head_if_grown(svc, clock=clock)
    with svc.uow.read() as session:
        ctx = _context(svc, session, head, clock)
        ctx.rehash = rehash
        if replay_memos is not None:
            ctx.memos = replay_memos
        consistency = _consistency(ctx, known_head)
        if refs is not None:
            found = [Cases(session).find(r, with_state=False) for r in refs]
            for row in found if reader is not None else ():
                disclosure.require_case_reader(session, reader, row)
            cases = [_CaseRef(*(getattr(c, n) for n in _CASE_COLUMNS)) for c in found]
        else:
            seen = [] if reader is None else [visible_cases(person_of(Users(session).active(reader)))]
            if agency is not None:
                if session.get(AgencyRow, agency) is None:
                    raise NotFound(f"没有机构 {agency} (no agency {agency!r} on this platform)")
                seen.append(CaseRow.agency_code.in_(subtree_codes(session, agency)))
            cases = [_CaseRef(*row) for row in session.execute(
                select(*(getattr(CaseRow, n) for n in _CASE_COLUMNS)).where(*seen).order_by(CaseRow.id))]
        reports = []
        for first in range(0, len(cases), CASES_PER_BATCH):
            chunk = cases[first:first + CASES_PER_BATCH]
            batch = _load_batch(session, {c.id for c in chunk})
            reports.extend(_verify_one(svc, session, ctx, case, batch, known_head, consistency) for case in chunk)
        return reports


def _consistency(ctx: _AuditContext, known: SignedTreeHead | None) -> list[bytes] | None:
    if known is None or ctx.head is None:
        return None
    try:
        return ctx.log.consistency_proof(known.tree_head.size, ctx.head.tree_head.size)
    except ValueError:
        return None  # reported by verify_case as a failed log_consistency check


def _load_batch(session: Session, case_ids: set[int]) -> _Batch:
    ids = sorted(case_ids)
    # Core execution and whole results: these rows are plain columns, and the ORM's row loading (or a fetch per
    # row) costs ~10 µs a record here.
    run = session.connection().execute
    records: dict[int, list[_StoredRecord]] = {i: [] for i in ids}
    for case_id, *stored in run(
            select(StepRecordRow.case_id, StepRecordRow.seq, StepRecordRow.task_id, StepRecordRow.canonical,
                   StepRecordRow.signature, StepRecordRow.log_index)
            .where(StepRecordRow.case_id.in_(ids)).order_by(StepRecordRow.case_id, StepRecordRow.seq)).all():
        records[case_id].append(_StoredRecord(*stored))
    copies = load_copies(run, ids)
    holders: dict[str, str | None] = {task.id: task.completed_by for c in copies.values() for task in c.tasks.values()}
    # A record may name a task of another case (the task id is not signed): look those up by id, as they are.
    stray = sorted({r.task_id for rows in records.values() for r in rows if r.task_id and r.task_id not in holders})
    for first in range(0, len(stray), 500):
        holders.update((task, who) for task, who in run(
            select(TaskRow.id, TaskRow.completed_by).where(TaskRow.id.in_(stray[first:first + 500]))))
    documents: dict[int, dict[str, bytes]] = {i: {} for i in ids}
    for case_id, sha, pdf in _document_rows(session, ids):
        documents[case_id][sha] = pdf
    seals = {case_id: {seq: {p: d for p, (_, d) in fields.items()} for seq, fields in by_seq.items()}
             for case_id, by_seq in stored_seals(run, ids).items()}
    return _Batch(records, holders, documents, copies, seals)


def _document_rows(session: Session, ids: list[int]) -> Sequence[Any]:
    """(case id, sha256, PDF bytes) of the cases' 文书, ordered as the index ix_documents_case is (a later copy of
    the same bytes wins, as in documents_of): ordering by id alone would make SQLite copy every PDF into a
    temporary B-tree to sort them."""
    from engine.db.document_tables import DocumentRow

    conn = session.connection()
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        # psycopg asks for text results unless told otherwise, and bytea as text is hex: for these ~45 KB PDFs the
        # server's encoding and the client's decoding took ~3x the time of binary results (bench/signatures.py).
        # Same connection, same transaction: only the result format differs. The SQL holds no user input.
        table = conn.dialect.identifier_preparer.format_table(DocumentRow.__table__)
        with conn.connection.driver_connection.cursor(binary=True) as cursor:
            cursor.execute(f"SELECT case_id, sha256, pdf FROM {table} WHERE case_id = ANY(%s) ORDER BY case_id, id",
                           (ids,))
            return cursor.fetchall()
    return conn.execute(select(DocumentRow.case_id, DocumentRow.sha256, DocumentRow.pdf)
                        .where(DocumentRow.case_id.in_(ids)).order_by(DocumentRow.case_id, DocumentRow.id)).all()


def _parse(rows: Sequence[Any]) -> tuple[list[SignedRecord], list[Any], list[str]]:
    records, kept, problems = [], [], []
    for row in rows:
        try:
            records.append(SignedRecord.from_parts(row.canonical, row.signature))
            kept.append(row)
        except SignatureError as exc:
            problems.append(f"stored record {row.seq} is not a valid step record: {exc}")
    return records, kept, problems


def _records(session: Session, case: CaseRow) -> tuple[list[SignedRecord], list[StepRecordRow], list[str]]:
    rows = list(session.scalars(select(StepRecordRow).where(StepRecordRow.case_id == case.id)
                                .order_by(StepRecordRow.seq)))
    return _parse(rows)  # type: ignore[return-value]


def _verify_one(svc: Services, session: Session, ctx: _AuditContext, case: _CaseRef, batch: _Batch,
                known_head: SignedTreeHead | None, consistency: list[bytes] | None) -> CaseReport:
    records, rows, problems = _parse(batch.records[case.id])
    seals = batch.seals[case.id]
    proofs = {}
    if ctx.head is not None:
        # The run's LeafTable holds every stored leaf and has checked them against the head: a record's proof is
        # its log position alone (an export builds real audit paths).
        size = ctx.head.tree_head.size
        proofs = {row.seq: InclusionProof(row.log_index, size, ()) for row in rows if row.log_index < size}
    extra = [*(failed(Check.RECORDS, p) for p in problems),
             seal_check(records, batch.documents[case.id], ctx.trust, case_agency=case.agency_code,
                        home_code=svc.settings.agency.code), *link_checks(session, records)]
    definition, memo = _replayer(svc, session, ctx, case.definition_id)
    replayed: list[tuple[Any, ReplayResult]] = []  # the path check's replay: the steps and where they end
    check = path_check_for(definition, memo=memo, replayed=lambda *r: replayed.append(r),
                           unstated=_unstated_settings(svc, session, case, records))
    report = verify_case(records, trust=ctx.trust, certificates=ctx.certificates, tree_head=ctx.head,
                         inclusion_proofs=proofs, documents=batch.documents[case.id], path_check=check,
                         expected_actor=_holders(case, rows, batch.holders), known_head=known_head,
                         consistency_proof=consistency, extra_case_checks=extra, inclusion_verifier=ctx.inclusion,
                         disclosures=seals, all_disclosed=True, evidence=_stored_evidence(svc, ctx))
    # The copies the pages read: every record as stored against its task (task ids are not signed), by its seq.
    steps = [SignedStep(s.record.seq, row.task_id, s.record, seals.get(s.record.seq))
             for row, s in zip(rows, records, strict=True)]
    found = (differences(case, batch.copies[case.id], steps, definition.publication_steps, svc.settings.zone,
                         frozenset(definition.message_starts))
             + state_differences(case, memo, replayed))
    return with_differences(report, found)


def _unstated_settings(svc: Services, session: Session, case: _CaseRef,
                       records: Sequence[SignedRecord]) -> dict[str, Any] | None:
    """The settings to replay a case whose intake was signed before intakes stated theirs: its agency's now, the
    nearest the database knows (one query, for those cases only); None when the intake states them."""
    intake = next((s.record for s in records if s.record.seq == 1), None)
    if intake is None or journal.SETTINGS_KEY in intake.form_data:
        return None
    return case_settings(session, svc.settings, case.agency_code).for_process()


def _stored_evidence(svc: Services, ctx: _AuditContext) -> EvidenceLookup:
    """What the blob store holds of a listed file (each digest looked at once a run)."""

    def look(seq: int, file: EvidenceFile) -> Found | None:
        if file.sha256 not in ctx.stored:
            ctx.stored[file.sha256] = _in_store(svc, file.sha256, ctx.rehash)
        return ctx.stored[file.sha256]

    return look


def _in_store(svc: Services, sha256: str, rehash: bool) -> Found | None:
    if not rehash:
        size = svc.blobs.size(sha256)
        return None if size is None else Found(size=size)
    try:
        stream = svc.blobs.open(sha256)
    except NotFound:
        return None
    with stream:
        digest, size = hash_stream(stream)
    return Found(digest=digest, size=size)


def _replayer(svc: Services, session: Session, ctx: _AuditContext,
              definition_id: int) -> tuple[LoadedDefinition, ReplayMemo]:
    from engine.spiff.replay import ReplayMemo

    memo = ctx.memos.get(definition_id)
    if memo is None or memo.settings is not svc.settings or memo.calendar is not svc.calendar:
        memo = ctx.memos[definition_id] = ReplayMemo(svc.definition(session, definition_id), settings=svc.settings,
                                                     calendar=svc.calendar)
    return memo.definition, memo


def _holders(case: _CaseRef, rows: Sequence[Any], done: Mapping[str, str | None]) -> dict[int, set[str]]:
    """Who held each recorded task according to the task table (seq 1: the clerk who opened the case)."""
    holders: dict[int, set[str]] = {}
    for row in rows:
        if row.task_id is None and row.seq == 1:
            holders[row.seq] = {case.opened_by}
        elif row.task_id in done and done[row.task_id]:
            holders[row.seq] = {done[row.task_id]}  # type: ignore[index]
    return holders


def documents_of(session: Session, case: CaseRow) -> dict[str, bytes]:
    """The case's stored 文书 by the sha256 their step records name (the bytes are re-hashed on verify)."""
    from engine.db.document_tables import DocumentRow

    return {sha: pdf for sha, pdf in session.execute(
        select(DocumentRow.sha256, DocumentRow.pdf).where(DocumentRow.case_id == case.id).order_by(DocumentRow.id))}


# --- export ----------------------------------------------------------------------------------------
def export_case(svc: Services, ref: str, *, clock: Clock, disclose_to: str | None = None) -> bytes:
    """The evidence bundle of one case in memory (`export_case_to` into a buffer): for small cases and tests."""
    out = io.BytesIO()
    export_case_to(svc, ref, out, clock=clock, disclose_to=disclose_to)
    return out.getvalue()


def export_case_to(svc: Services, ref: str, target: IO[bytes], *, clock: Clock,
                   disclose_to: str | None = None, reader: str | None = None) -> None:
    """Write the evidence bundle of one case (docs/evidence-bundle.md), signed by the agency seal, to `target`
    (a seekable binary file: the evidence files are streamed into it from the blob store, never held in memory).

    For an auditor (the default) it carries the sealed fields' digests only: the complainant's identity and the
    votes not yet acted on are withheld, with the 文书 that print them and the evidence files of those steps.
    `disclose_to`: the user it is for, who must be entitled to the complainant's identity (Forbidden otherwise);
    that bundle carries the identity too. Each evidence file up to settings.json `evidence.bundle_max_file_bytes`
    travels inside; a larger one as its digest with a note that the agency keeps the original. EvidenceDamaged
    if a file to carry is missing from the store or its bytes do not give the signed digest. `reader`: the user
    asking (the web's auditor), who must be allowed to read the case (an auditor of another agency is not)."""
    head, _ = journal.sign_tree_head_if_grown(svc, clock=clock)
    now = clock()
    with svc.uow.read() as session:
        case = Cases(session).find(ref)
        if reader is not None:
            disclosure.require_case_reader(session, reader, case)
        if disclose_to is not None:
            disclosure.require_identity_entitlement(session, disclose_to, case)
        records, rows, problems = _records(session, case)
        if problems or not records:
            raise NotFound(f"案件没有可导出的签名记录 (no exportable signed records): {'; '.join(problems)}")
        if head is None:
            raise ConfigurationError("尚无签名的日志树头 (no signed tree head yet)")
        log = MerkleLog(journal.log_leaf_hashes(session))
        size = head.tree_head.size
        if size > len(log):
            raise ConfigurationError(f"日志只有 {len(log)} 个叶子，树头为 {size} (the log is shorter than its head)")
        proofs = {r.seq: InclusionProof(r.log_index, size, tuple(log.inclusion_proof(r.log_index, size)))
                  for r in rows if r.log_index < size}
        certs = journal.all_certificates(session)
        used = {r.cert_fingerprint for r in rows}
        agency = svc.agency_keys.certificates()
        seal = seal_for(svc, case.agency_code)  # the bundle is the handling agency's: its seal signs the manifest
        sealers = document_sealers(documents_of(session, case).values())
        others = ([c for fp, c in certs.items() if fp in used or fp in sealers]
                  + [seal.certificate, agency["log"]])
        definition_row = session.get_one(DefinitionRow, case.definition_id)
        keeper = case_settings(session, svc.settings, case.agency_code).agency.name
        shared = disclosure.plan(records, stored_seals(session.connection().execute, [case.id])[case.id],
                                 svc.definition(session, case.definition_id), identity=disclose_to is not None)
        left_out = {w.sha256 for w in shared.withheld}
        documents = {sha: pdf for sha, pdf in documents_of(session, case).items() if sha not in left_out}
        definition_files = _plain_definition_files({f.name: f.content for f in definition_row.files},
                                                   definition_row.entry_process_id)
        crl = journal.current_crl(svc, session, now)
    try:  # outside the transaction: the evidence files may take minutes to stream
        write_bundle_to(
            target, records=records, trust_root=agency["root"], certificates=others, crls=[crl], tree_head=head,
            inclusion_proofs=proofs, documents=documents, disclosures=shared.disclosures, withheld=shared.withheld,
            definition_files=definition_files, manifest_signer=seal, created_at=now,
            evidence=bundled_evidence(svc, records, shared.withheld_files, shared.disclosures, keeper=keeper))
    except BundleError as exc:
        raise EvidenceDamaged(f"证据文件库中的文件已损坏，未导出证据包 (the evidence store holds a damaged file; "
                              f"nothing exported): {exc}") from exc


def bundled_evidence(svc: Services, records: Sequence[SignedRecord], withheld_files: Mapping[int, str],
                     disclosures: Mapping[int, Mapping[str, Disclosure]] | None = None, *,
                     keeper: str) -> list[BundledFile]:
    """What a bundle holds of each evidence file the records list: its bytes from the blob store, or — withheld
    on need-to-know (by seq) or above `evidence.bundle_max_file_bytes` — its digest with a note. A file whose
    name the record seals is named as the bundle discloses it (else by its number only). `keeper`: the name of
    the case's agency, which keeps the originals."""
    policy = svc.settings.evidence
    kept = (f"the original is kept by {keeper} in its evidence store under this SHA-256; "
            f"原件由{keeper}证据文件库按 SHA-256 保存")
    out = []
    for signed in records:
        rec = signed.record
        form = rec.form_data
        if rec.sealed and disclosures and rec.seq in disclosures:
            form = open_form(form, rec.sealed, disclosures[rec.seq])[0]
        for file in listed_files(form) or ():
            if rec.seq in withheld_files:
                out.append(BundledFile(rec.seq, file, left_out=f"withheld: {withheld_files[rec.seq]}; {kept}"))
            elif file.size > policy.bundle_max_bytes:
                out.append(BundledFile(rec.seq, file, left_out=(
                    f"larger than the bundle's per-file limit of {policy.bundle_max_bytes} bytes "
                    f"(evidence.bundle_max_file_bytes; 超过证据包单个文件上限): {kept}")))
            else:
                out.append(BundledFile(rec.seq, file, source=_blob_opener(svc, rec, file)))
    return out


def _blob_opener(svc: Services, rec: StepRecord, file: EvidenceFile) -> Callable[[], IO[bytes]]:
    def open_blob() -> IO[bytes]:
        try:
            return svc.blobs.open(file.sha256)
        except NotFound:
            raise EvidenceDamaged(f"第 {rec.seq} 步（{rec.task_name}）的证据文件 {file.name} 在证据文件库中缺失，未导出证据包 "
                                  f"(step {rec.seq} {rec.task_name}: evidence file {file.name!r} (no. {file.id}) is "
                                  "missing from the evidence store; nothing exported — see casetrail verify)") from None

    return open_blob


def _plain_definition_files(files: Mapping[str, bytes], entry_process_id: str) -> dict[str, bytes]:
    """Bundle members are plain names: forms/x.json becomes forms__x.json, mapped back by the index file."""
    plain = {name.replace("/", "__"): name for name in files}
    out = {p: files[name] for p, name in plain.items()}
    out[DEFINITION_INDEX] = json.dumps({"entry_process_id": entry_process_id, "files": plain},
                                       ensure_ascii=False, sort_keys=True, indent=1).encode()
    return out


# --- offline ---------------------------------------------------------------------------------------
def verify_bundle_file(bundle: BundleSource, trust_root_pem: bytes, *, known_head: SignedTreeHead | None = None,
                       consistency_proof: Sequence[bytes] | None = None) -> CaseReport:
    """Verify a bundle with no database: the library's checks plus the BPMN replay from its own files. Read once:
    its evidence files are hashed as they stream past, and compared with the digests their records sign.

    Raises `signatures.errors.BundleError` for unusable input (not a zip, no manifest, unreadable root)."""
    contents = read_bundle(bundle)
    report = verify_bundle(contents, trust_root_pem, path_check=offline_path_check(contents.definition_files),
                           known_head=known_head, consistency_proof=consistency_proof)
    # The seals on its 文书 (documents/ reads them, which signatures/ may not import): with the same trust as the
    # rest — the root the auditor gave, the bundle's own certificates and CRL — one agency's for the whole case.
    root = load_certificate(trust_root_pem)
    trust = TrustStore([root], crls=contents.crls,
                       intermediates=[c for c in contents.certificates if fingerprint(c) != fingerprint(root)])
    seal = seal_check(contents.records, contents.documents, trust, case_agency=None, home_code=None)
    return replace(report, case_checks=(*report.case_checks, seal))


# --- the log ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConsistencyProof:
    old: SignedTreeHead
    new: SignedTreeHead
    hashes: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {"old": self.old.to_json_obj(), "new": self.new.to_json_obj(), "proof": [h.hex() for h in self.hashes]}


def prove_log(svc: Services, *, old_size: int | None = None, known: SignedTreeHead | None = None,
              clock: Clock) -> ConsistencyProof:
    """A consistency proof from an older head (the stored head of `old_size`, or one the auditor kept) to
    the latest; raises SignatureError if the log was truncated or rewritten since that head."""
    head, _ = journal.sign_tree_head_if_grown(svc, clock=clock)
    with svc.uow.read() as session:
        if known is None:
            if old_size is None:
                raise NotFound("需要 --from SIZE 或已保存的树头 (give --from SIZE or a kept tree head)")
            known = journal.tree_head_of_size(session, old_size)
            if known is None:
                raise NotFound(f"没有大小为 {old_size} 的树头 (no signed tree head of size {old_size})")
        if head is None:
            raise NotFound("尚无签名的日志树头 (no signed tree head yet)")
        log = MerkleLog(journal.log_leaf_hashes(session))
        trust = TrustStore([svc.agency_keys.certificates()["root"]], crls=[journal.current_crl(svc, session, clock())])
        verify_tree_head(known, trust, journal.all_certificates(session))
    new_size = head.tree_head.size
    if new_size > len(log):
        raise SignatureError(f"the log holds {len(log)} leaves but its latest head says {new_size}: truncated")
    try:
        proof = log.consistency_proof(known.tree_head.size, new_size)
    except ValueError as exc:
        raise SignatureError(f"no consistency proof from size {known.tree_head.size}: {exc}") from exc
    if log.root(new_size) != head.tree_head.root_hash:
        raise SignatureError("the stored leaves do not give the latest head's root: the log was rewritten")
    verify_extends(known, head, proof)
    return ConsistencyProof(known, head, tuple(proof))


@dataclass(frozen=True)
class AgencyRoot:
    """The agency's root certificate as an auditor takes it away: PEM, DER, and the SHA-256 fingerprint (of the DER,
    lower-case hex, as every record's `cert_fingerprint`) to compare over another channel, so that the trust in a
    bundle does not rest on a copy that came with it."""

    pem: bytes
    der: bytes
    fingerprint: str


def agency_root(svc: Services) -> AgencyRoot:
    """The root certificate every signature of this agency chains to (`casetrail ca root`, the audit page)."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from signatures.pki import certificate_pem

    root = svc.agency_keys.certificates()["root"]
    return AgencyRoot(certificate_pem(root), root.public_bytes(Encoding.DER), fingerprint(root))


def current_tree_head(svc: Services) -> SignedTreeHead | None:
    """The latest signed tree head of the Merkle log, as stored (a read: nothing is signed here)."""
    with svc.uow.read() as session:
        return journal.latest_tree_head(session)
