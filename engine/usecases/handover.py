"""转办/移送 on the platform: a hand-over that arrives, and the receiver's answer that goes back the same way.

The model says which steps take part (`handOver`, workflows/README.md); nothing here names a step:
- `send`: the form picks the receiving agency from the platform's agencies (`x-agency`), the jurisdiction rules
  (settings.json `jurisdiction`, engine/rules/jurisdiction.py) check it with their articles, and completing the
  step opens the case at the receiving agency IN THE SAME TRANSACTION: its own number (the agency's case-number
  prefix), the complaint's data, the complaint's evidence files (the same blobs, content-addressed) and a first
  signed record that names the origin case and the sender's record hash. The sender's own record names the new
  case number (`_hand_over`): each chain verifies alone and points at the other.
- `await`: the sender's case waits at this step; nobody at the sender takes it (engine/usecases/tasksync.py).
- `answer`: in a case that arrived by transfer, completing this step (接收 or 退回, signed by the receiving
  head) completes the sender's waiting step with the answer, signed by the same person on the sender's chain,
  naming the receiving case and its record hash. The sender's model then goes on: received → 已移送; returned →
  back to its 受理审查, where its head decides again (accept it, hand it to its superior for 指定管辖, or not).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import journal
from engine.agencies import case_settings
from engine.db.evidence_tables import ATTACHED, EvidenceFileRow
from engine.db.repositories import Cases
from engine.db.tables import AgencyRow, CaseEventRow, CaseRow, TaskRow
from engine.enums import CaseEventKind, CaseOutcome, CaseStatus, TaskStatus
from engine.errors import Conflict, LegalGateRefused, ValidationError
from engine.numbering import NumberClaim, claim_number, peek_number
from engine.rules.confidential import evidence_fields
from engine.rules.jurisdiction import AgencyFacts, parse_rules, refusal
from engine.services import Services
from engine.stepdocs import StepDocumentsInput, prepare_step_documents, store_step_documents
from engine.usecases.evidence import INTAKE_SEQ, evidence_view
from engine.usecases.tasksync import sync_tasks
from engine.values import Clock

AGENCY_KEYWORD = "x-agency"  # a form field whose value is an agency code of the platform, picked not typed
HAND_OVER_KEY = journal.HAND_OVER_KEY  # the sender's record: where the case went (the engine's addition, signed)
ANSWERED_KEY = journal.ANSWERED_KEY  # the sender's record of the answer: the receiving case's record it rests on
ORIGIN_KEY = "transferred_from"  # the receiving case's data and first record: where it came from
AGENCY_NAME_FIELD = "receiving_agency_name"  # written beside the picked code: the 移送书 prints the name


@dataclass(frozen=True)
class PreparedHandOver:
    """A hand-over checked and numbered while its step is prepared; written by `write_hand_over`."""

    receiver: AgencyFacts
    number: NumberClaim


def agency_field(schema: Mapping[str, Any] | None) -> str | None:
    """The form's field that picks an agency (`"x-agency": true`), if any."""
    for key, sub in ((schema or {}).get("properties") or {}).items():
        if isinstance(sub, dict) and sub.get(AGENCY_KEYWORD) is True:
            return str(key)
    return None


def agency_tree(session: Session) -> dict[str, AgencyFacts]:
    """Every agency of the platform as the jurisdiction rules read it (areas from its settings)."""
    return {row.code: AgencyFacts(code=row.code, name=row.name, level=row.level, parent_code=row.parent_code,
                                  areas=tuple(str(a) for a in (row.settings or {}).get("areas", ())),
                                  active=row.active)
            for row in session.scalars(select(AgencyRow))}


def agency_choices(session: Session, svc: Services, case: CaseRow, case_data: Mapping[str, Any]) -> list[AgencyFacts]:
    """The agencies a picker offers for handing `case` over: those the jurisdiction rules let receive it."""
    tree = agency_tree(session)
    rules = parse_rules(svc.settings.raw)
    arrived = _arrived_from(case_data)
    return [a for code, a in sorted(tree.items()) if refusal(rules, sender=case.agency_code, receiver=code, tree=tree,
                                                             case_data=case_data, arrived_from=arrived) is None]


def prepare_hand_over(session: Session, svc: Services, *, case: CaseRow, part: str | None,
                      schema: Mapping[str, Any] | None, data: dict[str, Any], case_data: Mapping[str, Any],
                      now: dt.datetime) -> tuple[dict[str, Any], PreparedHandOver | None]:
    """For a `send` step: check the picked agency against the jurisdiction rules (LegalGateRefused with the
    article) and take the receiving case's number as of now; the form data gets the agency's name."""
    field = agency_field(schema)
    if part != "send":
        return data, None
    if field is None:
        raise ValidationError("移送步骤的表单没有选择接收机关的字段 (the hand-over form has no x-agency field)")
    tree = agency_tree(session)
    code = str(data.get(field, ""))
    why = refusal(parse_rules(svc.settings.raw), sender=case.agency_code, receiver=code, tree=tree,
                  case_data=case_data, arrived_from=_arrived_from(case_data))
    if why is not None:
        raise LegalGateRefused(why.article, why.message, why.article_en, why.message_en)
    receiver = tree[code]
    prefix = session.scalar(select(AgencyRow.case_number_prefix).where(AgencyRow.code == code))
    number = peek_number(session, str(prefix), now.astimezone(svc.settings.zone).year, width=4)
    return {**data, AGENCY_NAME_FIELD: receiver.name}, PreparedHandOver(receiver=receiver, number=number)


def hand_over_note(prepared: PreparedHandOver) -> dict[str, str]:
    """What the sender's record says of where the case went (before the receiving case exists: its number)."""
    return {"agency": prepared.receiver.code, "agency_name": prepared.receiver.name,
            "case_number": prepared.number.text}


def write_hand_over(session: Session, svc: Services, clock: Clock, prepared: PreparedHandOver, *,
                    origin: CaseRow, origin_data: Mapping[str, Any], origin_step: journal.SignedStep,
                    signer: Any) -> CaseRow:
    """Open the receiving case in the sender's transaction: number, complaint data, evidence, first record."""
    from engine.spiff.instance import ProcessInstance

    now = origin_step.now
    claim_number(session, prepared.number)  # NumberTaken: the whole step is prepared again
    definition_id = svc.current_definition_id(session)
    definition = svc.definition(session, definition_id)
    start_schema = definition.start_form_schema()
    complaint = {k: origin_data[k] for k in (start_schema.get("properties") or {}) if k in origin_data}
    origin_ref = {"case_number": origin.number, "agency": origin.agency_code, "seq": origin_step.seq,
                  "record_hash": origin_step.signed.record_hash}
    facts = origin_step.facts
    settings = case_settings(session, svc.settings, prepared.receiver.code)  # the receiving agency's own
    start_data = {**complaint, ORIGIN_KEY: origin_ref, "settings": settings.for_process(),
                  "registered_by": facts.actor, "case_number": prepared.number.text}
    instance = ProcessInstance.start(definition, start_data, clock=clock, settings=settings, calendar=svc.calendar)
    case = CaseRow(
        number=prepared.number.text, definition_id=definition_id, status=CaseStatus.OPEN,
        stage=instance.stage or "intake", outcome=instance.outcome or CaseOutcome.OPEN,
        respondent=origin.respondent, violation=origin.violation, channel=origin.channel,
        state=instance.serialize(), opened_by=facts.actor, created_at=now, updated_at=now,
        agency_code=prepared.receiver.code)
    session.add(case)
    session.flush()
    created = sync_tasks(session, case, instance, definition, clock, by=facts.actor)
    start_spec = definition.start_meta.get("id", "start")
    session.add(CaseEventRow(case_id=case.id, kind=CaseEventKind.OPENED, task_id=None, spec_id=start_spec,
                             actor=facts.actor, at=now, detail={"form_data": {**complaint, ORIGIN_KEY: origin_ref}}))
    entries = _copy_evidence(session, svc, origin_id=origin.id, case_id=case.id)
    form = {**complaint, ORIGIN_KEY: origin_ref, **({journal.EVIDENCE_KEY: entries} if entries else {})}
    # The receiving agency's own 投诉举报登记表 under its number, signed by whoever sent it (as a clerk signs one at
    # registration). Rendered here, under the write lock, because it prints the new case's number and files: a
    # hand-over is rare beside ordinary steps, which render before the lock (engine/usecases/completion.py).
    documents = prepare_step_documents(session, svc, StepDocumentsInput(
        case_id=case.id, case_number=case.number, task_id=None, spec_id=start_spec,
        task_name=str(definition.start_meta.get("name") or start_spec),
        document_code=definition.start_meta.get("document"), actor=facts.actor, case_data=start_data, form_data=form,
        case_data_after=instance.data, due=None, now=now, agency_code=case.agency_code), signer, settings=settings)
    store_step_documents(session, documents, case_id=case.id)
    record = journal.record_step(session, journal.StepFacts(
        case=case, definition_sha256=definition.sha256, task_id=None, task_spec_id=start_spec,
        task_name=str(definition.start_meta.get("name") or start_spec), role=facts.role, actor=facts.actor,
        actor_name=facts.actor_name, form_data={**form, journal.SETTINGS_KEY: start_data["settings"]},
        documents=documents.refs,
        assignments=journal.assignments_of(session, created),
        confidential={**definition.start_confidential_fields, **evidence_fields(start_schema, tuple(entries))}),
        signer, now)
    if record.seq != INTAKE_SEQ:
        raise Conflict(f"移送接收案件的首条签名记录序号异常 (the received case's first record has seq {record.seq})")
    return case


def _copy_evidence(session: Session, svc: Services, *, origin_id: int, case_id: int) -> list[dict[str, Any]]:
    """The origin's attached evidence files, as files of the new case attached to its first record: new rows
    naming the same blobs (content-addressed: nothing is copied but the row)."""
    rows = list(session.scalars(select(EvidenceFileRow).where(
        EvidenceFileRow.case_id == origin_id, EvidenceFileRow.state == ATTACHED).order_by(EvidenceFileRow.id)))
    copies = [EvidenceFileRow(case_id=case_id, task_id=None, sha256=r.sha256, size=r.size, media_type=r.media_type,
                              name=r.name, note=r.note, added_by=r.added_by, added_at=r.added_at, exif=r.exif,
                              state=ATTACHED, seq=INTAKE_SEQ, purpose=r.purpose) for r in rows]
    session.add_all(copies)
    session.flush()
    return [evidence_view(c, svc.settings.evidence).record_entry() for c in copies]


def answer_hand_over(session: Session, svc: Services, clock: Clock, *, case: CaseRow, case_data: Mapping[str, Any],
                     answer: Mapping[str, Any], step: journal.SignedStep, signer: Any) -> None:
    """The receiver's `answer` step was written: complete the sender's waiting step with it, in this transaction,
    signed by the same person on the sender's chain."""
    from engine.spiff.instance import ProcessInstance

    origin_ref = case_data.get(ORIGIN_KEY)
    if not isinstance(origin_ref, Mapping):
        return  # a case registered here: nothing to answer
    origin = Cases(session).find(str(origin_ref["case_number"]))
    origin = Cases(session).get(origin.id, lock=True)
    definition = svc.definition(session, origin.definition_id)
    instance = ProcessInstance.restore(definition, origin.state, clock=clock, settings=svc.settings,
                                       calendar=svc.calendar)
    waiting = [t for t in instance.ready_user_tasks() if definition.task_meta(t.spec_id).hand_over == "await"]
    if not waiting:
        raise Conflict(f"移送机关的案件 {origin.number} 不在等待函告 (the transferring case no longer waits for an "
                       "answer)")
    task = session.get(TaskRow, waiting[0].id, with_for_update=True)
    if task is None or task.status != TaskStatus.READY:
        raise Conflict(f"移送机关的案件 {origin.number} 的等待步骤已结束 (the transferring case's waiting step is closed)")
    now = step.now
    agency_name = session.scalar(select(AgencyRow.name).where(AgencyRow.code == case.agency_code)) or case.agency_code
    data = {k: v for k, v in answer.items() if k in (definition.form_schema(task.spec_id) or {}).get("properties", {})}
    data = {**data, "receiving_case": case.number, "receiving_agency": agency_name}
    actor = step.facts.actor
    instance.complete(task.id, {**data, "_actor": actor})
    session.execute(update(TaskRow).where(TaskRow.id == task.id).values(
        status=TaskStatus.COMPLETED, completed_by=actor, completed_at=now, form_data=data, assignee=actor)
        .execution_options(synchronize_session=False))
    created = sync_tasks(session, origin, instance, definition, clock, by=actor)
    origin.state = instance.serialize()
    session.add(CaseEventRow(case_id=origin.id, kind=CaseEventKind.COMPLETED, task_id=task.id, spec_id=task.spec_id,
                             actor=actor, at=now, detail={"form_data": data}))
    journal.record_step(session, journal.StepFacts(
        case=origin, definition_sha256=definition.sha256, task_id=task.id, task_spec_id=task.spec_id,
        task_name=task.name, role=task.role, actor=actor, actor_name=step.facts.actor_name,
        form_data={**data, ANSWERED_KEY: {"case_number": case.number, "agency": case.agency_code, "seq": step.seq,
                                          "record_hash": step.signed.record_hash}},
        assignments=journal.assignments_of(session, created)), signer, now)


def _arrived_from(case_data: Mapping[str, Any]) -> str | None:
    origin = case_data.get(ORIGIN_KEY)
    return str(origin.get("agency")) if isinstance(origin, Mapping) and origin.get("agency") else None


__all__ = ["AGENCY_KEYWORD", "ANSWERED_KEY", "HAND_OVER_KEY", "ORIGIN_KEY", "PreparedHandOver", "agency_choices",

           "agency_field", "agency_tree", "answer_hand_over", "hand_over_note", "prepare_hand_over",
           "write_hand_over"]
