"""Completing a task — the hot path — in two parts: prepare without a lock, then write under it.

The slow part of a step is pure: unlocking the officer's key (scrypt), running the model, rendering and
PAdES-signing the 文书, building and signing the step record. `_prepare` does all of it from the case as read
at its version, in a read-only transaction that holds no lock (on SQLite no writer waits for it; on
PostgreSQL no row is locked). `_write` then takes the write lock (SQLite's, the case row's on PostgreSQL),
checks that nothing the preparation read has moved — the case's version, the task, who may act, the record
chain, the 文号 — and writes everything in one transaction: task rows, workflow state, events, the signed
文书, the publication, the signed record and its log leaf. If something moved, nothing is written and the
step is prepared again from the new state; the last try holds the case and its 文号 while it prepares, so a busy
agency never refuses an officer (engine/usecases/retrying.py). A person's
mistake (a wrong PIN, a refused gate, a task someone else completed) is raised from the preparation, before
any write.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine import journal
from engine.agencies import case_settings
from engine.db.queue_tables import SCOPES_OPTION, task_scopes
from engine.db.repositories import Cases, Tasks, Users
from engine.db.session import Work
from engine.db.tables import CaseEventRow, CaseRow, TaskRow
from engine.enums import CaseEventKind, TaskStatus
from engine.errors import (
    CasetrailError,
    Conflict,
    DefinitionInvalid,
    Forbidden,
    LegalGateRefused,
)
from engine.rules.carry import document_number_field
from engine.rules.confidential import evidence_fields
from engine.services import Services
from engine.spiff.benchmarks import in_force
from engine.stepdocs import (
    PreparedDocuments,
    StepDocumentsInput,
    document_number,
    prepare_step_documents,
    store_step_documents,
)
from engine.usecases.access import active_person, check_may_act, check_person_may_act, ensure_open, task_facts
from engine.usecases.case_figures import step_figures, write_step_figures
from engine.usecases.drafts import drop_task_drafts
from engine.usecases.drawn_images import drawn_images_of, stage_drawn_images
from engine.usecases.evidence import StepEvidence, attach_step_evidence, step_evidence
from engine.usecases.forms import validate_form
from engine.usecases.handover import (
    HAND_OVER_KEY,
    PreparedHandOver,
    answer_hand_over,
    hand_over_note,
    prepare_hand_over,
    write_hand_over,
)
from engine.usecases.people import check_person_fields
from engine.usecases.publications import record_publication_step
from engine.usecases.retrying import StepMoved, optimistic
from engine.usecases.tasksync import assignments_for, excluded_users, new_ready_tasks, sync_tasks
from engine.values import Clock, CompleteTask, TaskView
from engine.views import task_view
from signatures.keys import KeySigner


@dataclass(frozen=True)
class PreparedStep:
    """A step ready to be written: checked, run, its 文书 and record signed — nothing stored yet."""

    signer: KeySigner = field(repr=False)
    task_id: str
    spec_id: str
    case_id: int
    case_version: int
    user_id: str
    key_fingerprint: str
    data: dict[str, Any]
    state: bytes
    instance: Any  # the ProcessInstance after the step, for the task rows
    definition: Any
    documents: PreparedDocuments
    record: journal.SignedStep
    new_task_ids: frozenset[str]  # the tasks the step opens: the record names who they went to
    evidence: StepEvidence = StepEvidence()  # the evidence files the record lists
    figures: dict[str, Any] = field(default_factory=dict)  # what the indicators count of it (case_figures)
    hand_over: PreparedHandOver | None = None  # the case this step opens at another agency (handOver=send)
    answers_hand_over: bool = False  # the step answers the agency the case came from (handOver=answer)


def complete_task(cmd: CompleteTask, *, svc: Services, clock: Clock) -> TaskView:
    """Authorise, validate, check the legal gates, advance the workflow, produce the 文书, sign, commit once."""
    # The party's signature drawn on the screen is stored before the step, and the form records it by digest.
    cmd = stage_drawn_images(cmd, svc=svc, clock=clock)

    def prepare(session: Session, *, signer: KeySigner | None, held: bool) -> PreparedStep:
        return _prepare(session, cmd, svc, clock, signer, held=held)

    # Prepared without a lock and written if nothing moved; the last try holds the case and its 文号 (retrying.py).
    return optimistic(svc, prepare, lambda work, prepared: _write(work, prepared, svc, clock),
                      refusal="案件正被他人修改，请刷新后重试 (the case kept changing while this step was signed; try again)")


def prepare_step(cmd: CompleteTask, *, svc: Services, clock: Clock, signer: KeySigner | None = None) -> PreparedStep:
    """Everything slow about a step, in a read-only transaction: no lock is taken, nothing is written.
    `signer`: the key already unlocked for this person by an earlier attempt."""
    with svc.uow.read() as session:
        return _prepare(session, cmd, svc, clock, signer)


def write_step(prepared: PreparedStep, *, svc: Services, clock: Clock) -> TaskView:
    """Write a prepared step in one transaction, or raise StepMoved / NumberTaken / RecordsMoved (nothing written)
    if the case, its record chain or the 文号 moved since it was prepared."""
    with svc.uow() as work:
        view = _write(work, prepared, svc, clock)
        work.commit()
        return view


def _prepare(session: Session, cmd: CompleteTask, svc: Services, clock: Clock,
             signer: KeySigner | None, *, held: bool = False) -> PreparedStep:
    """`held`: inside the write transaction — the case's row locked first and the 文号 held, not peeked."""
    from engine.spiff.instance import ProcessInstance

    now = clock()
    task = Tasks(session).get(cmd.task_id)
    case = Cases(session).get(task.case_id, lock=held)
    ensure_open(task)
    user = Users(session).active(cmd.user_id)
    check_may_act(session, task, user)
    definition = svc.definition(session, case.definition_id)
    meta = definition.task_meta(task.spec_id)
    schema = definition.form_schema(task.spec_id)
    data = validate_form(schema, cmd.data, title=task.name, now=now, settings=svc.settings)
    settings = case_settings(session, svc.settings, case.agency_code)  # its agency's name, prefixes, thresholds
    # The step's 文号 is the engine's, never typed: recorded in the form's field for it, so the case's data,
    # the signed record and the 文书 that cite it later (送达回执, 决定书, 公示) read the number given out.
    number = None
    if (number_field := document_number_field(schema)) is not None:
        number = document_number(session, settings, meta.document, now, held=held)
        if number is not None:
            data = {**data, number_field: number.text}
    # What the law lets the agency set, as in force now, recorded where the form says (the 裁量基准 the 调查终结报告
    # applies): the model's decision, the signed record and every later replay read it from the case.
    data = {**data, **in_force(definition, settings, schema)}
    evidence = step_evidence(session, svc, case_id=case.id, task_id=task.id, schema=schema, data=data)
    instance = ProcessInstance.restore(definition, case.state, clock=clock, settings=settings,
                                       calendar=svc.calendar)
    if instance.unmerged_instances():
        # Completing now would close the deliberation without the votes it never received.
        raise Conflict(f"案件 {case.number} 的流程状态需要修复（合议表决未汇总），请管理员运行 casetrail repair "
                       f"(the case's workflow state needs repair: run casetrail repair --case {case.number})")
    case_data = instance.data  # merged once: nothing below changes the case before `complete`
    # The barred set is re-derived now, not only when the task was offered: data may have changed since.
    if user.id in excluded_users(session, case.id, meta, case_data):
        raise Forbidden(f"{user.id} 参与了本案调查，不得办理此环节（回避） (separation of duties)")
    gate = instance.evaluate_gates(task.id, data, actor=user.id)
    if gate is not None:
        raise LegalGateRefused(gate.article, gate.message, gate.article_en, gate.message_en)
    # People are chosen, not typed: each person a field names is eligible for it today (role, 执法证, 回避); after
    # the gates, which refuse the gravest choices (an investigator chairing the hearing) with their article.
    check_person_fields(session, schema=schema, data=data, definition=definition, case_id=case.id,
                        case_data=case_data, on=now.astimezone(svc.settings.zone).date(),
                        policy=svc.settings.people, title=task.name)
    # 转办/移送 on the platform: the agency is picked, and the jurisdiction rules refuse with their article.
    data, hand_over = prepare_hand_over(session, svc, case=case, part=meta.hand_over, schema=schema, data=data,
                                        case_data=case_data, now=now)
    # PIN, revocation, expiry: before anything is produced. Kept if the step is prepared again.
    signer = signer or journal.unlock_signer(svc, session, user.id, cmd.pin, now)
    before = instance.ready_task_data(task.id)
    if before is None:
        before = case_data
    open_ids = set(session.scalars(_OPEN_TASKS, {"case_id": case.id}))
    try:
        instance.complete(task.id, {**data, "_actor": user.id})
    except CasetrailError:
        raise
    except Exception as exc:  # a model error at run time: report it, write nothing
        raise DefinitionInvalid(f"流程执行出错 (the process model failed at {task.spec_id}): {exc}") from exc
    new_tasks = new_ready_tasks(instance, open_ids - {task.id})
    assignments = assignments_for(new_tasks)
    # The step's 文书, rendered and signed by the same key; nothing is stored yet.
    documents = prepare_step_documents(session, svc, StepDocumentsInput(
        case_id=case.id, case_number=case.number, task_id=task.id, spec_id=task.spec_id, task_name=task.name,
        document_code=meta.document, actor=user.id, case_data=before, form_data=data,
        case_data_after=instance.data, due=task.due_at, now=now, document_variant=meta.document_variant,
        signature_block=meta.signature_block, agency_code=case.agency_code,
        drawn_images=drawn_images_of(svc, schema, data)), signer, settings=settings, recorded=number, held=held)
    record_data = dict(data)
    if evidence.entries:  # the files the step takes: the officer's signature covers their digests
        record_data[journal.EVIDENCE_KEY] = list(evidence.entries)
    end, votes = journal.chain_tail(session, case.id, None if meta.multi_instance else lambda s: _is_vote(definition, s))
    if votes:
        record_data[journal.VOTES_KEY] = votes
    if hand_over is not None:  # the sender's record names the case it opens
        record_data[HAND_OVER_KEY] = hand_over_note(hand_over)
    facts = journal.StepFacts(
        case=case, definition_sha256=definition.sha256, task_id=task.id, task_spec_id=task.spec_id,
        task_name=task.name, role=task.role, actor=user.id, actor_name=user.name, form_data=record_data,
        documents=(*documents.refs, *cmd.documents), assignments=assignments,
        confidential={**definition.confidential_fields(task.spec_id),
                      **evidence_fields(definition.form_schema(task.spec_id), evidence.entries)})
    record = journal.sign_step(facts, signer, now, after=end, case_id=case.id, case_number=case.number)
    return PreparedStep(
        signer=signer, task_id=task.id, spec_id=task.spec_id, case_id=case.id, case_version=case.version, user_id=user.id,
        key_fingerprint=signer.fingerprint, data=data, state=instance.serialize(), instance=instance,
        definition=definition, documents=documents, record=record, new_task_ids=frozenset(t.id for t in new_tasks),
        evidence=evidence, figures=step_figures(schema, data, now=now, due=task.due_at, settings=svc.settings,
                                                calendar=svc.calendar),
        hand_over=hand_over, answers_hand_over=meta.hand_over == "answer",
    )


def _write(work: Work, prepared: PreparedStep, svc: Services, clock: Clock) -> TaskView:
    session = work.session
    now = prepared.record.now
    case, task = _locked_case_and_task(work, prepared)
    if case.version != prepared.case_version:
        raise StepMoved("案件已被他人更新，请重试 (the case changed meanwhile; try again)")
    ensure_open(task)
    person = active_person(session, prepared.user_id)
    # Every mark on the task, read once: for who may act, whose task pages change and the view returned
    # (the step writes marks only for the tasks it opens).
    marks = task_facts(session, task)
    check_person_may_act(person, marks)  # claims and hand-overs do not move the case's version
    journal.check_key_still_valid(session, prepared.key_fingerprint, now)
    user_id = person.id
    completed = {"status": TaskStatus.COMPLETED, "completed_by": user_id, "completed_at": now,
                 "form_data": prepared.data, "assignee": user_id}
    done = session.execute(
        _COMPLETE_TASK, {"task_id": task.id, "actor": user_id, "at": now, "form": prepared.data},
        # Those who saw it offered or held, and the one who completes it: their task pages change.
        execution_options={"synchronize_session": False,
                           SCOPES_OPTION: task_scopes(session, task, users=(user_id,),
                                                      offered=marks.candidates | marks.excluded)},
    )
    if done.rowcount != 1:
        raise Conflict("任务已被他人完成 (someone else completed this task first)")
    drop_task_drafts(session, [task.id])  # the step is signed: what anyone typed as a draft of it goes (one DELETE)
    # What the row now holds, without reading it back (times come back from the database in UTC).
    for column, value in {**completed, "completed_at": now.astimezone(dt.UTC)}.items():
        set_committed_value(task, column, value)
    created = sync_tasks(session, case, prepared.instance, prepared.definition, clock, by=user_id)
    if {t.id for t in created} != prepared.new_task_ids:  # the record names who they went to
        raise StepMoved("案件已被他人更新，请重试 (the case changed meanwhile; try again)")
    case.state = prepared.state
    session.execute(_INSERT_EVENT, {"case_id": case.id, "kind": CaseEventKind.COMPLETED, "task_id": task.id,
                                    "spec_id": task.spec_id, "actor": user_id, "at": now,
                                    "detail": {"form_data": prepared.data}})  # written once: no ORM object
    store_step_documents(session, prepared.documents)
    record_publication_step(session, case=case, task_id=task.id, spec_id=task.spec_id, form_data=prepared.data,
                            now=now, parts=prepared.definition.publication_steps, zone=svc.settings.zone)
    if prepared.figures:
        write_step_figures(session, case.id, prepared.figures)
    if not attach_step_evidence(session, prepared.evidence, task_id=task.id, seq=prepared.record.seq):
        raise StepMoved("证据文件已变动，请重试 (the step's evidence files changed meanwhile; try again)")
    # The step's signed record, last in the transaction: it takes the log lock (engine/journal.py).
    journal.append_step(session, case.id, prepared.record)
    if prepared.hand_over is not None:  # the receiving agency's case, in this same transaction
        write_hand_over(session, svc, clock, prepared.hand_over, origin=case, origin_data=prepared.instance.data,
                        origin_step=prepared.record, signer=prepared.signer)
    if prepared.answers_hand_over:  # 接收/退回 goes back to the sender's case the same way
        answer_hand_over(session, svc, clock, case=case, case_data=prepared.instance.data, answer=prepared.data,
                         step=prepared.record, signer=prepared.signer)
    session.flush()
    return task_view(session, task, case, marks=marks)


# The case and its task, locked (the case's row first, as `Cases.get` then `Tasks.get` would) and read again:
# one ORM statement, built once.
_CASE_AND_TASK = (select(CaseRow, TaskRow).join(TaskRow, TaskRow.case_id == CaseRow.id)
                  .where(CaseRow.id == bindparam("case_id"), TaskRow.id == bindparam("task_id"))
                  .with_for_update().execution_options(populate_existing=True))


_INSERT_EVENT = CaseEventRow.__table__.insert()
# Only a task still open is completed (one row, or none when someone else completed it first).
_COMPLETE_TASK = update(TaskRow).where(TaskRow.id == bindparam("task_id"), TaskRow.status == TaskStatus.READY).values(
    status=TaskStatus.COMPLETED, completed_by=bindparam("actor"), completed_at=bindparam("at"),
    form_data=bindparam("form"), assignee=bindparam("actor"))


def _locked_case_and_task(work: Work, prepared: PreparedStep) -> tuple[CaseRow, TaskRow]:
    row = work.session.execute(_CASE_AND_TASK, {"case_id": prepared.case_id, "task_id": prepared.task_id}).first()
    if row is None:  # either is missing: the repositories say which
        return work.cases.get(prepared.case_id, lock=True), work.tasks.get(prepared.task_id, lock=True)
    return row[0], row[1]


# The case's open tasks, before the step: built once (every step reads it).
_OPEN_TASKS = select(TaskRow.id).where(TaskRow.case_id == bindparam("case_id"), TaskRow.status == TaskStatus.READY)


def _is_vote(definition: Any, spec_id: str) -> bool:
    meta = definition.metas.get(spec_id)
    return bool(meta is not None and meta.multi_instance)


__all__ = ["PreparedStep", "StepMoved", "complete_task", "prepare_step", "write_step"]
