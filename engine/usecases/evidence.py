"""Evidence files of a case (issue 14): staging a file, listing and opening a case's files under need-to-know.

Staging (`stage_evidence`, called by the CLI, the upload endpoints and the JSON API) checks that the person may
add evidence — to the step it is for, or to the case's files that 证据登记 registers (engine/rules/duties.py
`refusal_to_add_evidence`) — then what the file is, from its bytes (engine/sniffing.py) against the policy of
settings.json `evidence`, then stores the bytes (engine/blobs.py) before any transaction, and writes one
`staged` row in one short transaction. A refused file leaves nothing behind. The signed step that lists the file
marks it attached (engine/usecases/completion.py); files no step takes are collected (`collect_evidence`).

A complaint's material is staged before its case exists (投诉举报登记): without a case, under the key of the
registration page (`new_intake_key`), by an intake clerk; only that clerk sees it (`intake_files`), and
registering the complaint with that key lists it in the case's first record and gives it the case
(`intake_evidence`, `attach_intake_evidence`, called by engine/usecases/cases.py `open_case`).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from engine.db.evidence_tables import ATTACHED, DRAWN, STAGED, EvidenceFileRow
from engine.db.repositories import Cases, Users
from engine.db.tables import CaseRow, TaskRow
from engine.enums import CaseStatus, FilePurpose
from engine.errors import CasetrailError, EvidenceRefused, Forbidden, NotFound, ValidationError
from engine.rules import duties
from engine.rules.drawn_images import drawn_values, is_reference
from engine.rules.evidence import EvidencePolicy, referenced_file_ids
from engine.services import Services
from engine.sniffing import image_metadata, media_type_of
from engine.usecases.access import case_facts, person_of, seen_case, task_facts
from engine.values import MAX_ID, Clock, EvidenceFileView, StageEvidence

# A form schema's top-level keyword saying the step takes evidence: {"title", "accept": [families], "capture"}.
EVIDENCE_KEYWORD = "x-evidence"
NAME_LENGTH = 255
INTAKE_SEQ = 1  # a case's first signed record: its registration (投诉举报登记)
NOTE_LENGTH = 500


def stage_evidence(cmd: StageEvidence, *, svc: Services, clock: Clock) -> EvidenceFileView:
    """Store `cmd.source` as an evidence file of the case, staged for the step `cmd.task_id` (or the case's
    files). EvidenceRefused (nothing kept): 404 no such case or task, 403 the person may not add to it, 422 the
    step takes no evidence or the file cannot be read, 413 too large, 415 a type not accepted."""
    name = clean_name(cmd.name)
    note = (cmd.note or "").strip()[:NOTE_LENGTH] or None
    if cmd.case_ref is None:
        return _stage_for_intake(cmd, svc=svc, clock=clock, name=name, note=note)
    with svc.uow.read() as session:
        accept = _check_may_add(svc, session, cmd)[1]
    return store_and_stage(cmd, svc=svc, clock=clock, name=name, note=note, accept=accept, intake_key=None,
                           check_again=lambda session: _check_may_add(svc, session, cmd)[0].id)


def store_and_stage(cmd: StageEvidence, *, svc: Services, clock: Clock, name: str, note: str | None,
                    accept: frozenset[str] | None, intake_key: str | None,
                    check_again: Callable[[Session], int | None], state: str = STAGED,
                    purpose: FilePurpose = FilePurpose.EVIDENCE) -> EvidenceFileView:
    """Check the file's size and type, store its bytes, and write its row (`state`: staged, or drawn — an image
    drawn on the screen, engine/usecases/drawn_images.py, with its `purpose`) for the case `check_again` names
    under the write (having checked again who may add it) — None: the complaint being registered."""
    policy = svc.settings.evidence
    try:
        size = cmd.source.stat().st_size
    except OSError as exc:
        raise EvidenceRefused(f"无法读取文件 (cannot read the file) {name}: {exc.strerror or exc}", 422) from exc
    if (refused := policy.too_large(size)) is not None:
        raise EvidenceRefused(refused, 413)
    if size == 0:
        raise EvidenceRefused(f"文件为空 (the file is empty): {name}", 422)
    media_type = media_type_of(cmd.source)
    _check_type(policy, media_type, name, accept)
    exif = image_metadata(cmd.source) if policy.family_of(media_type) == "image" else {}
    info = svc.blobs.put(cmd.source)  # before any transaction: a large file takes long to store
    try:
        if (refused := policy.too_large(info.size)) is not None:  # it grew while it was read
            raise EvidenceRefused(refused, 413)
        with svc.uow() as work:
            # Again under the write: the task may have been handed over or completed meanwhile.
            case_id = check_again(work.session)
            row = EvidenceFileRow(case_id=case_id, task_id=cmd.task_id, intake_key=intake_key,
                                  sha256=info.sha256, size=info.size, media_type=media_type, name=name, note=note,
                                  added_by=cmd.user_id, added_at=clock(), exif=exif or None, state=state,
                                  purpose=purpose.value)
            work.session.add(row)
            work.session.flush()
            view = evidence_view(row, policy)
            work.commit()
    except BaseException:
        forget_blob(svc, info.sha256)
        raise
    if not svc.blobs.exists(info.sha256):  # collected meanwhile by a refused twin: store it again
        svc.blobs.put(cmd.source)
    return view


# --- a complaint's material, before its case exists ------------------------------------------------------------
INTAKE_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_intake_key() -> str:
    """A fresh key for one registration page: the files staged on it go with the complaint registered from it."""
    return secrets.token_urlsafe(24)


def check_intake_key(key: str) -> str:
    """`key` if it is one `new_intake_key` could have made; else EvidenceRefused 422."""
    if not isinstance(key, str) or INTAKE_KEY.fullmatch(key) is None:
        raise EvidenceRefused("登记页面的材料标识无效 (the registration page's material key is malformed)", 422)
    return key


def _stage_for_intake(cmd: StageEvidence, *, svc: Services, clock: Clock, name: str,
                      note: str | None) -> EvidenceFileView:
    """A file of the complaint `cmd.user_id` is registering on the page `cmd.intake_key`: no case yet."""
    if cmd.intake_key is None:
        raise EvidenceRefused("未指明案件 (no case named for the file)", 404)
    check_intake_key(cmd.intake_key)
    if cmd.task_id is not None:
        raise EvidenceRefused(f"本案没有此任务 (no such task in this case): {cmd.task_id}", 404)
    with svc.uow.read() as session:
        accept = _check_may_hand_in(svc, session, cmd.user_id)

    def check_again(session: Session) -> None:
        _check_may_hand_in(svc, session, cmd.user_id)

    return store_and_stage(cmd, svc=svc, clock=clock, name=name, note=note, accept=accept,
                           intake_key=cmd.intake_key, check_again=check_again)


def _check_may_hand_in(svc: Services, session: Session, user_id: str) -> frozenset[str]:
    """Refuse unless the person may add material to a complaint they register; the families the registration
    form accepts (its `x-evidence`, in the model in force: the one a case registered now runs)."""
    try:
        person = person_of(Users(session).active(user_id))
    except Forbidden as exc:
        raise EvidenceRefused(exc.message, 403) from None
    if (refused := duties.refusal_to_hand_in_complaint_material(person)) is not None:
        raise EvidenceRefused(refused.message, 403)
    spec = evidence_spec(svc.definition(session, svc.current_definition_id(session)).start_form_schema())
    if spec is None:
        raise EvidenceRefused("投诉举报登记不收取证据文件 (the registration takes no evidence files)", 422)
    return frozenset(spec.get("accept") or svc.settings.evidence.families)


def intake_files(svc: Services, user_id: str, key: str) -> tuple[EvidenceFileView, ...]:
    """The files `user_id` has staged on the registration page `key` (no one else's), oldest first; as
    `stage_evidence` would, EvidenceRefused if they may not hand in material (403) or the key is malformed (422)."""
    check_intake_key(key)
    with svc.uow.read() as session:
        _check_may_hand_in(svc, session, user_id)
        return tuple(evidence_view(r, svc.settings.evidence) for r in _intake_rows(session, user_id, key))


def _intake_rows(session: Session, user_id: str, key: str, *, lock: bool = False) -> list[EvidenceFileRow]:
    query = select(EvidenceFileRow).where(
        EvidenceFileRow.added_by == user_id, EvidenceFileRow.intake_key == key, EvidenceFileRow.case_id.is_(None),
        EvidenceFileRow.state == STAGED).order_by(EvidenceFileRow.id)
    return list(session.scalars(query.with_for_update() if lock else query))


def intake_evidence(session: Session, svc: Services, user_id: str, key: str | None, *,
                    lock: bool = True) -> StepEvidence:
    """What the registration's record lists: the files `user_id` staged on the page `key` (none without one),
    their rows locked: read in the registration's write transaction, which then attaches them (`lock=False`:
    as the registration is prepared, for its 登记表)."""
    if key is None:
        return StepEvidence()
    check_intake_key(key)
    rows = _intake_rows(session, user_id, key, lock=lock)
    return StepEvidence(entries=tuple(evidence_view(r, svc.settings.evidence).record_entry() for r in rows),
                        attach=frozenset(r.id for r in rows), staged=frozenset(r.id for r in rows))


def attach_intake_evidence(session: Session, evidence: StepEvidence, *, case_id: int, seq: int) -> None:
    """Give the registration's files (`intake_evidence`, same transaction) its new case and mark them attached
    to its record `seq`."""
    if evidence.attach:
        session.execute(update(EvidenceFileRow).where(EvidenceFileRow.id.in_(sorted(evidence.attach)))
                        .values(state=ATTACHED, seq=seq, case_id=case_id)
                        .execution_options(synchronize_session=False))


def clean_name(name: str) -> str:
    """The file's name as shown: its last path part, without control characters, at most 255 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C").strip()
    return base[:NAME_LENGTH] or "未命名 (unnamed)"


def _check_type(policy: EvidencePolicy, media_type: str, name: str, accept: frozenset[str] | None) -> None:
    if (refused := policy.not_accepted(media_type, name)) is not None:
        raise EvidenceRefused(refused, 415)
    family = policy.family_of(media_type)
    if accept is not None and family not in accept:
        labels = "、".join(policy.families[f].label for f in sorted(accept) if f in policy.families)
        raise EvidenceRefused(f"此环节只收取{labels}：{name} 的内容为 {media_type} (this step takes only "
                              f"{', '.join(sorted(accept))}; the content of {name!r} is {media_type})", 415)


def _case(session: Session, ref: str | int) -> CaseRow:
    try:
        return Cases(session).find(ref, with_state=False)
    except NotFound as exc:
        raise EvidenceRefused(exc.message, 404) from None


def _check_may_add(svc: Services, session: Session, cmd: StageEvidence) -> tuple[CaseRow, frozenset[str] | None]:
    """Refuse unless the person may add evidence to the case (for the task); the case, and the families the
    step accepts (None: the case's files, any family the policy accepts)."""
    assert cmd.case_ref is not None
    case = _case(session, cmd.case_ref)
    try:
        user = Users(session).active(cmd.user_id)
    except Forbidden as exc:
        raise EvidenceRefused(exc.message, 403) from None
    person = person_of(user)
    rows = list(session.scalars(select(TaskRow).where(TaskRow.case_id == case.id)))
    task: TaskRow | None = None
    if cmd.task_id is not None:
        task = next((t for t in rows if t.id == cmd.task_id), None)
        if task is None:
            raise EvidenceRefused(f"本案没有此任务 (no such task in this case): {cmd.task_id}", 404)
    facts = case_facts(session, case, rows, person.id)
    spec = None if task is None else evidence_spec(svc.definition(session, case.definition_id).form_schema(task.spec_id))
    refused = refusal_to_add(person, facts, case_open=case.status == CaseStatus.OPEN,
                             task=None if task is None else (task_facts(session, task), task.name, spec))
    if refused is not None:
        raise refused_evidence(refused)
    if spec is None:
        return case, None
    return case, frozenset(spec.get("accept") or svc.settings.evidence.families)


NO_EVIDENCE = "no_evidence"  # the Refusal's kind for a step whose form takes no evidence files


def refusal_to_add(person: duties.Person, facts: duties.CaseFacts, *, case_open: bool,
                   task: tuple[duties.TaskFacts, str, dict[str, Any] | None] | None = None) -> duties.Refusal | None:
    """Why `person` may not add evidence to the case — or, with `task` (its facts, its name, its form's
    `x-evidence`), to that step: the duties' answer (engine/rules/duties.py `refusal_to_add_evidence`), and a
    step whose form takes no evidence. What `stage_evidence` refuses with, and what the views' `may_add_evidence`
    says beforehand (a page offers the upload only to who may add, and an upload is refused when it is created)."""
    refused = duties.refusal_to_add_evidence(person, facts, None if task is None else task[0], case_open=case_open)
    if refused is None and task is not None and task[2] is None:
        return duties.Refusal(NO_EVIDENCE, f"“{task[1]}”环节不收取证据文件 (this step takes no evidence files)")
    return refused


def refused_evidence(refusal: duties.Refusal) -> EvidenceRefused:
    """The refusal as staging raises it: 409 a closed case or step, 422 a step that takes no files, else 403."""
    return EvidenceRefused(refusal.message, {"closed": 409, NO_EVIDENCE: 422}.get(refusal.kind, 403))


def evidence_spec(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """The form's `x-evidence` declaration (the step takes evidence), or None."""
    spec = (schema or {}).get(EVIDENCE_KEYWORD)
    return spec if isinstance(spec, dict) else None


def forget_blob(svc: Services, sha256: str) -> None:
    """Delete a blob no row references (a file refused or not recorded after it was stored). Best effort: if
    the database cannot say, the blob is left to `collect_evidence`."""
    try:
        with svc.uow.read() as session:
            referenced = session.scalar(select(EvidenceFileRow.id).where(EvidenceFileRow.sha256 == sha256).limit(1))
        if referenced is None:
            svc.blobs.delete(sha256)
    except (CasetrailError, OSError):
        pass


def evidence_view(row: EvidenceFileRow, policy: EvidencePolicy) -> EvidenceFileView:
    return EvidenceFileView(id=row.id, case_id=row.case_id, task_id=row.task_id, sha256=row.sha256, size=row.size,
                            media_type=row.media_type, family=policy.family_of(row.media_type), name=row.name,
                            note=row.note, added_by=row.added_by, added_at=row.added_at, state=row.state,
                            seq=row.seq, exif=row.exif, purpose=FilePurpose(row.purpose))


# --- reading a case's files ------------------------------------------------------------------------------
def list_evidence(svc: Services, case_ref: str | int, viewer_id: str | None, *,
                  purpose: FilePurpose | None = FilePurpose.EVIDENCE) -> tuple[EvidenceFileView, ...]:
    """The case's files for `purpose` (evidence; party_signature: the party's drawn signatures; None: both),
    oldest first, as `viewer_id` may see them (None: as an auditor): who may see the case sees its files
    attached to signed steps; a staged file only its adder and the case's members who handle it see (it is not
    part of the record yet). Forbidden if the viewer may not see the case."""
    with svc.uow.read() as session:
        case, person, facts = seen_case(session, case_ref, viewer_id)
        # A drawn image waiting for its step is no file of the case yet: the form it was drawn on names it.
        query = select(EvidenceFileRow).where(EvidenceFileRow.case_id == case.id, EvidenceFileRow.state != DRAWN)
        if purpose is not None:
            query = query.where(EvidenceFileRow.purpose == purpose.value)
        rows = session.scalars(query.order_by(EvidenceFileRow.id))
        return tuple(evidence_view(r, svc.settings.evidence) for r in rows if _may_see_file(person, facts, r))


def evidence_file(svc: Services, file_id: int, viewer_id: str | None) -> EvidenceFileView:
    """One evidence file, for a viewer who may see it (as `list_evidence`): NotFound for a file they may not
    see, as for one that does not exist; Forbidden if they may not see its case."""
    with svc.uow.read() as session:
        row = session.get(EvidenceFileRow, file_id) if 0 < file_id <= MAX_ID else None
        if row is None:
            raise NotFound(f"证据文件不存在 (no such evidence file): {file_id}")
        if row.case_id is None:  # a complaint's material before registration: its clerk's alone
            if viewer_id is None or row.added_by != Users(session).active(viewer_id).id:
                raise NotFound(f"证据文件不存在 (no such evidence file): {file_id}")
            return evidence_view(row, svc.settings.evidence)
        _, person, facts = seen_case(session, row.case_id, viewer_id)
        if not _may_see_file(person, facts, row):
            raise NotFound(f"证据文件不存在 (no such evidence file): {file_id}")
        return evidence_view(row, svc.settings.evidence)


def open_evidence(svc: Services, file_id: int, viewer_id: str | None) -> tuple[EvidenceFileView, BinaryIO]:
    """`evidence_file` and a stream of its bytes (the caller closes it): download, preview, the player."""
    view = evidence_file(svc, file_id, viewer_id)
    return view, svc.blobs.open(view.sha256)


def _may_see_file(person: duties.Person, facts: duties.CaseFacts, row: EvidenceFileRow) -> bool:
    if row.state == ATTACHED and row.seq == INTAKE_SEQ:  # handed in with the complaint
        return duties.may_see_complaint_material(person, facts)
    return row.state == ATTACHED or row.added_by == person.id or duties.refusal_to_add_evidence(
        person, facts, None) is None


# --- garbage collection --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvidenceCollected:
    """What `collect_evidence` removed: staged rows past their age, and blobs no row names."""

    rows: int
    blobs: int

    def to_json(self) -> dict[str, int]:
        return {"rows": self.rows, "blobs": self.blobs}


def collect_evidence(svc: Services, *, clock: Clock) -> EvidenceCollected:
    """Delete staged files (and drawn images) older than settings.json `evidence.staged_max_age_days` (no signed
    step took them),
    then the blobs no row names that were stored before that age too (a blob stored since may belong to a file
    being staged now). Attached files are never touched."""
    cutoff = clock() - svc.settings.evidence.staged_max_age
    with svc.uow() as work:
        removed = work.session.execute(delete(EvidenceFileRow).where(
            EvidenceFileRow.state.in_((STAGED, DRAWN)), EvidenceFileRow.added_at < cutoff)).rowcount or 0
        work.commit()
    with svc.uow.read() as session:
        named = set(session.scalars(select(EvidenceFileRow.sha256).distinct()))
    orphans = [d for d in svc.blobs.digests(stored_before=cutoff) if d not in named]
    for digest in orphans:
        svc.blobs.delete(digest)
    return EvidenceCollected(rows=removed, blobs=len(orphans))


def staged_for(session: Session, task_id: str) -> list[EvidenceFileRow]:
    """The files staged for the task (by whoever may act on it), oldest first: what the step's record lists."""
    return list(session.scalars(select(EvidenceFileRow).where(
        EvidenceFileRow.task_id == task_id, EvidenceFileRow.state == STAGED).order_by(EvidenceFileRow.id)))


def files_of_case(session: Session, case_id: int, ids: Iterable[int]) -> list[EvidenceFileRow]:
    """The case's evidence files among `ids` (files of other cases, and the parties' drawn signatures — no
    evidence to register — are not found), by id."""
    wanted = sorted({i for i in ids if 0 < i <= MAX_ID})
    if not wanted:
        return []
    return list(session.scalars(select(EvidenceFileRow).where(
        EvidenceFileRow.case_id == case_id, EvidenceFileRow.id.in_(wanted),
        EvidenceFileRow.purpose == FilePurpose.EVIDENCE.value).order_by(EvidenceFileRow.id)))


# --- the files a step takes ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepEvidence:
    """The evidence files a step's record lists: those staged for its task, those its form names (e.g. the
    files 证据登记 registers) and the drawn images its form records by digest (the party's signature); `attach`
    the staged and drawn ones among them, which the step's transaction marks attached;
    `staged` the files staged for the task when the step was prepared (one staged since: prepared again)."""

    entries: tuple[dict[str, Any], ...] = ()
    attach: frozenset[int] = frozenset()
    staged: frozenset[int] = frozenset()
    # Whether the step's form takes files at all (`x-evidence`): nothing can be staged for a step that takes none
    # (stage_evidence refuses it), so its write need not look again.
    takes_files: bool = False


def step_evidence(session: Session, svc: Services, *, case_id: int, task_id: str, schema: dict[str, Any] | None,
                  data: dict[str, Any]) -> StepEvidence:
    """What the record of completing `task_id` with `data` lists. ValidationError if the form names a file the
    case does not have."""
    takes_files = evidence_spec(schema) is not None
    staged = staged_for(session, task_id) if takes_files else []
    wanted = referenced_file_ids(schema, data)
    named = files_of_case(session, case_id, wanted)
    if missing := sorted(set(wanted) - {r.id for r in named}):
        raise ValidationError("表单引用的证据文件不存在 (the form names evidence files this case does not have)",
                              {"evidence": ", ".join(map(str, missing))})
    rows = {r.id: r for r in (*staged, *named, *_drawn_rows(session, task_id, schema, data))}
    listed = [evidence_view(rows[i], svc.settings.evidence) for i in sorted(rows)]
    return StepEvidence(entries=tuple(v.record_entry() for v in listed),
                        attach=frozenset(v.id for v in listed if v.state in (STAGED, DRAWN)),
                        staged=frozenset(r.id for r in staged), takes_files=takes_files)


NOT_STORED = ("签名图片未在提交前存储，请重新签名 (the drawn image was not stored for this step before it was "
              "submitted: sign again)")


def _drawn_rows(session: Session, task_id: str, schema: dict[str, Any] | None,
                data: dict[str, Any]) -> list[EvidenceFileRow]:
    """The drawn images stored for the task that the form records by digest (engine/rules/drawn_images.py
    `reference`), by id. ValidationError naming the field if one was not stored for this task."""
    wanted = {"/".join(map(str, path)): value for path, value in drawn_values(schema, data) if is_reference(value)}
    if not wanted:
        return []
    rows = list(session.scalars(select(EvidenceFileRow).where(
        EvidenceFileRow.task_id == task_id, EvidenceFileRow.state == DRAWN,
        EvidenceFileRow.sha256.in_(sorted({v["sha256"] for v in wanted.values()}))).order_by(EvidenceFileRow.id)))
    found: dict[int, EvidenceFileRow] = {}
    missing: dict[str, str] = {}
    for path, value in wanted.items():
        row = next((r for r in rows if r.sha256 == value["sha256"] and r.size == value["size"]), None)
        if row is None:
            missing[path] = NOT_STORED
        else:
            found[row.id] = row
    if missing:
        raise ValidationError("表单中的签名图片未存储 (the form names drawn images not stored for this step)", missing)
    return list(found.values())


# The ids of the files `staged_for` lists, by the table's statement built once: every step's write compares them.
_files = EvidenceFileRow.__table__
_STAGED_IDS = select(_files.c.id).where(_files.c.task_id == bindparam("task_id"), _files.c.state == STAGED)


def attach_step_evidence(session: Session, evidence: StepEvidence, *, task_id: str, seq: int) -> bool:
    """Mark the step's staged files attached to record `seq`, in the step's transaction. False (nothing
    changed that the rollback would not undo) if the files moved since the step was prepared: a file staged for
    the task meanwhile, or one of them collected or attached by another step."""
    if evidence.takes_files and set(session.scalars(_STAGED_IDS, {"task_id": task_id})) != evidence.staged:
        return False
    if not evidence.attach:
        return True
    done = session.execute(update(EvidenceFileRow).where(
        EvidenceFileRow.id.in_(sorted(evidence.attach)), EvidenceFileRow.state.in_((STAGED, DRAWN)))
        .values(state=ATTACHED, seq=seq).execution_options(synchronize_session=False))
    return done.rowcount == len(evidence.attach)


__all__ = ["INTAKE_SEQ", "NO_EVIDENCE", "refusal_to_add", "refused_evidence", "StepEvidence", "attach_intake_evidence",
           "attach_step_evidence", "check_intake_key", "intake_evidence", "intake_files", "new_intake_key",
           "step_evidence", "EVIDENCE_KEYWORD", "EvidenceCollected", "clean_name", "collect_evidence", "evidence_spec",
           "evidence_file", "evidence_view", "files_of_case", "forget_blob", "list_evidence", "open_evidence", "stage_evidence", "store_and_stage",
           "staged_for"]
