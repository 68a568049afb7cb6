"""挂牌督办 (issue 16): a supervisor of a superior agency flags a case; the supervised cases as the supervisor lists them.

The model carries the procedure (workflows/case_procedure.bpmn, the event sub-process started by the BPMN message
`supervision_flagged`): the reports, the timer that raises a 催报 for the supervisor when a report is overdue, the
timer on the flag's 办结期限 that raises the supervisor's 督办逾期 while the supervision is open, the 销号, and the gate
on 结案审批 while the supervision runs. Python here only turns the flag into that message — a
step signed like any other, by the supervisor's own key, in the case's own chain — and reads what the tasks say.
The reports, the 催报 and the 销号 are ordinary tasks (`casetrail task complete`). See docs/supervision.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine import journal
from engine.agencies import case_settings
from engine.db.repositories import Cases, Users
from engine.db.session import Work
from engine.db.tables import AgencyRow, CaseEventRow, CaseRow, TaskRow, UserRow
from engine.enums import CaseEventKind, TaskStatus
from engine.errors import (
    CasetrailError,
    Conflict,
    DefinitionInvalid,
    Forbidden,
    LegalGateRefused,
    ValidationError,
)
from engine.rules.settings import DayUnit
from engine.services import Services
from engine.stepdocs import (
    PreparedDocuments,
    StepDocumentsInput,
    prepare_step_documents,
    store_step_documents,
)
from engine.usecases.cases import case_data
from engine.usecases.forms import validate_form
from engine.usecases.retrying import StepMoved, optimistic
from engine.usecases.tasksync import assignments_for, new_ready_tasks, sync_tasks
from engine.values import Clock, FlagCase, SupervisedCase
from signatures.keys import KeySigner

#: The BPMN message the engine sends when a supervisor flags a case: the model's event sub-process catches it.
SUPERVISION_MESSAGE = "supervision_flagged"
#: The time limit (settings.json) of the reporting cycle, printed on the 督办通知书.
REPORT_LIMIT = "supervision_report"
#: The model's variable that says the supervision runs (set by its scripts, read by the 结案审批 gate too): a 催报
#: left open after the 销号 keeps the sub-process alive, not the supervision.
OPEN_VARIABLE = "supervision_open"


@dataclass(frozen=True)
class _Prepared:
    signer: KeySigner
    case_id: int
    case_version: int
    user_id: str
    spec_id: str
    data: dict[str, Any]
    state: bytes
    instance: Any
    definition: Any
    documents: PreparedDocuments
    record: journal.SignedStep
    new_task_ids: frozenset[str]


def flag_case(cmd: FlagCase, *, svc: Services, clock: Clock) -> SupervisedCase:
    """挂牌督办: the supervisor's instructions and deadline, signed with the 督办通知书; the handling agency's
    officers get the first report to make. Refused (nothing written) for a case of the supervisor's own agency or of
    one outside the agencies below it, a case not filed or already supervised (gates.json), a model version without
    the supervision (cases keep the version they started on), a wrong PIN or an invalid form."""

    def prepare(session: Session, *, signer: KeySigner | None, held: bool) -> _Prepared:
        return _prepare(session, cmd, svc, clock, signer, held=held)

    # Overtaken when the case moves meanwhile (its officers complete a step, another supervisor flags it) or the
    # 督办通知书's 文号 is taken (when settings.json `document_numbers` numbers it); the last try holds the case
    # and the number as a step's does (retrying.py).
    case_id = optimistic(svc, prepare, lambda work, prepared: _write(work, prepared, svc, clock),
                         refusal="案件正被他人修改，请刷新后重试 (the case kept changing while it was flagged; try again)")
    return next(c for c in supervised_cases(svc, viewer_id=cmd.user_id, now=clock()) if c.case_id == case_id)


def _prepare(session: Session, cmd: FlagCase, svc: Services, clock: Clock, signer: KeySigner | None, *,
             held: bool) -> _Prepared:
    """`held`: inside the write transaction — the case's row locked first and the 文号 held, not peeked."""
    from engine.spiff.instance import ProcessInstance, TaskNotReady

    now = clock()
    case = Cases(session).find(cmd.case_ref, lock=held)
    definition = svc.definition(session, case.definition_id)
    start = definition.message_start(SUPERVISION_MESSAGE)
    if start is None:
        raise Conflict(f"案件 {case.number} 所用的流程版本不含挂牌督办，不能挂牌 (the case runs on a model version without "
                       "supervision: cases keep the version they started on)")
    user = Users(session).holding(cmd.user_id, start.role, refusal="只有督查人员可以挂牌督办 (only a supervisor may flag a case)")
    supervising, handling = _agencies(session, user, case)
    data = validate_form(definition.forms[start.form], cmd.data, title=start.name, now=now, settings=svc.settings)
    if dt.date.fromisoformat(data["supervision_due_date"]) <= svc.calendar.local_date(now):
        raise ValidationError("办结期限应晚于今天 (the deadline must be after today)")
    # What the 督办通知书 names, recorded in the signed step so the record and the 文书 say the same.
    limit = svc.settings.limit(REPORT_LIMIT)
    unit = "个工作日" if limit.unit is DayUnit.WORKING else "日"
    data = {**data, "supervising_agency": supervising.name, "supervising_agency_code": supervising.code,
            "handling_agency": handling.name, "handling_agency_code": handling.code,
            "supervision_report_cycle": f"每{limit.days}{unit}"}
    settings = case_settings(session, svc.settings, case.agency_code)  # the handling agency's name, prefixes
    instance = ProcessInstance.restore(definition, case.state, clock=clock, settings=settings, calendar=svc.calendar)
    try:
        gate = instance.evaluate_message_gates(start.spec_id, data, user.id)
    except TaskNotReady as exc:
        raise Conflict(f"案件 {case.number} 已结案，不能挂牌督办 (the case is closed)") from exc
    if gate is not None:
        raise LegalGateRefused(gate.article, gate.message, gate.article_en, gate.message_en)
    signer = signer or journal.unlock_signer(svc, session, user.id, cmd.pin, now)
    before = instance.data
    open_ids = set(session.scalars(select(TaskRow.id).where(TaskRow.case_id == case.id,
                                                             TaskRow.status == TaskStatus.READY)))
    try:
        instance.receive(start.spec_id, {**data, "_actor": user.id})
    except CasetrailError:
        raise
    except Exception as exc:  # a model error at run time: report it, write nothing
        raise DefinitionInvalid(f"流程执行出错 (the process model failed at {start.spec_id}): {exc}") from exc
    new_tasks = new_ready_tasks(instance, open_ids)
    documents = prepare_step_documents(session, svc, StepDocumentsInput(
        case_id=case.id, case_number=case.number, task_id=None, spec_id=start.spec_id, task_name=start.name,
        document_code=start.document, actor=user.id, case_data=before, form_data=data,
        case_data_after=instance.data, due=None, now=now, agency_code=case.agency_code), signer, settings=settings,
        held=held)
    end = journal.chain_end(session, case.id)
    facts = journal.StepFacts(
        case=case, definition_sha256=definition.sha256, task_id=None, task_spec_id=start.spec_id,
        task_name=start.name, role=start.role, actor=user.id, actor_name=user.name, form_data=data,
        documents=documents.refs, assignments=assignments_for(new_tasks))
    record = journal.sign_step(facts, signer, now, after=end, case_id=case.id, case_number=case.number)
    return _Prepared(signer=signer, case_id=case.id, case_version=case.version, user_id=user.id, spec_id=start.spec_id,
                     data=data, state=instance.serialize(), instance=instance, definition=definition,
                     documents=documents, record=record, new_task_ids=frozenset(t.id for t in new_tasks))


def _agencies(session: Session, user: UserRow, case: CaseRow) -> tuple[AgencyRow, AgencyRow]:
    """(the supervisor's agency, the case's agency): the case's must be below the supervisor's in the tree."""
    agencies = {a.code: a for a in session.scalars(select(AgencyRow))}
    supervising, handling = agencies.get(user.agency_code), agencies.get(case.agency_code)
    if supervising is None or handling is None:
        raise Forbidden(f"未知的机构 (unknown agency): {user.agency_code if supervising is None else case.agency_code}")
    code, seen = handling.parent_code, set()
    while code is not None and code not in seen and code != supervising.code:
        seen.add(code)
        code = agencies[code].parent_code if code in agencies else None
    if code != supervising.code:
        raise Forbidden(f"挂牌督办只能针对下级机构办理的案件：{handling.name}不在{supervising.name}之下 (a supervisor flags "
                        f"cases of the agencies below their own only)")
    return supervising, handling


def _write(work: Work, prepared: _Prepared, svc: Services, clock: Clock) -> int:
    """The flag written (the case's id), or StepMoved if the case moved since it was prepared."""
    session = work.session
    now = prepared.record.now
    case = work.cases.get(prepared.case_id, lock=True)
    if case.version != prepared.case_version:
        raise StepMoved("案件已被他人更新，请重试 (the case changed meanwhile; try again)")
    work.users.active(prepared.user_id)
    journal.check_key_still_valid(session, prepared.signer.fingerprint, now)
    created = sync_tasks(session, case, prepared.instance, prepared.definition, clock, by=prepared.user_id)
    if {t.id for t in created} != prepared.new_task_ids:  # the record names who they went to
        raise StepMoved("案件已被他人更新，请重试 (the case changed meanwhile; try again)")
    case.state = prepared.state
    session.execute(insert(CaseEventRow), [{"case_id": case.id, "kind": CaseEventKind.COMPLETED, "task_id": None,
                                            "spec_id": prepared.spec_id, "actor": prepared.user_id, "at": now,
                                            "detail": {"form_data": prepared.data}}])
    store_step_documents(session, prepared.documents)
    journal.append_step(session, case.id, prepared.record)
    session.flush()
    return case.id


# --- reading ---------------------------------------------------------------------------------------------------
def supervised_cases(svc: Services, *, viewer_id: str, now: dt.datetime) -> list[SupervisedCase]:
    """The cases flagged by the viewer's agency (the supervisor's list) — or, for anyone else, the flagged cases of
    the viewer's own agency (the handling agency's list) — newest flag first, each with its next report due."""
    with svc.uow.read() as session:
        viewer = Users(session).active(viewer_id)
        found = [c for c in _flags(svc, session, now)
                 if viewer.agency_code in (c.supervising_agency_code, c.handling_agency_code)]
    return _running(svc, found)


def case_supervisions(svc: Services, case_id: int, *, now: dt.datetime) -> list[SupervisedCase]:
    """The supervisions of one case (for its page), newest first."""
    with svc.uow.read() as session:
        found = _flags(svc, session, now, case_id=case_id)
    return _running(svc, found)


def _running(svc: Services, found: list[SupervisedCase]) -> list[SupervisedCase]:
    """Each flag still open as the model says: its tasks open and its variable set (kept per case version)."""
    out = []
    for item in found:
        if item.open and not case_data(svc, item.case_id).get(OPEN_VARIABLE, False):
            item = replace(item, open=False, next_report_due=None, overdue=False, past_due=False)
        out.append(item)
    return out


def _flags(svc: Services, session: Session, now: dt.datetime, *, case_id: int | None = None) -> list[SupervisedCase]:
    starts: dict[str, Any] = {}
    for definition_id in session.scalars(select(CaseRow.definition_id).distinct()):
        for start in svc.definition(session, definition_id).message_starts.values():
            if start.message == SUPERVISION_MESSAGE:
                starts[start.spec_id] = start
    if not starts:
        return []
    query = (select(CaseEventRow, CaseRow).join(CaseRow, CaseRow.id == CaseEventRow.case_id)
             .where(CaseEventRow.kind == CaseEventKind.COMPLETED, CaseEventRow.task_id.is_(None),
                    CaseEventRow.spec_id.in_(sorted(starts))).order_by(CaseEventRow.at.desc(), CaseEventRow.id.desc()))
    if case_id is not None:
        query = query.where(CaseEventRow.case_id == case_id)
    rows = session.execute(query).all()
    steps = {s for start in starts.values() for s in start.steps}
    tasks: dict[int, list[TaskRow]] = {}
    if rows:
        for task in session.scalars(select(TaskRow).where(TaskRow.case_id.in_({c.id for _, c in rows}),
                                                          TaskRow.spec_id.in_(sorted(steps)))):
            tasks.setdefault(task.case_id, []).append(task)
    out: list[SupervisedCase] = []
    latest: set[int] = set()
    today = svc.calendar.local_date(now)
    for event, case in rows:
        data = (event.detail or {}).get("form_data", {})
        start = starts[event.spec_id]
        mine = [t for t in tasks.get(case.id, []) if t.spec_id in start.steps and t.created_at >= event.at]
        current = case.id not in latest  # an earlier flag of the same case ended before this one began
        latest.add(case.id)
        ready = [t for t in mine if t.status == TaskStatus.READY] if current else []
        reports = [t for t in ready if t.role != start.role]
        done = [t for t in mine if t.status == TaskStatus.COMPLETED and t.role != start.role]
        due = min((t.due_at for t in reports if t.due_at is not None), default=None)
        due_date = dt.date.fromisoformat(str(data.get("supervision_due_date")))
        out.append(SupervisedCase(
            case_id=case.id, case_number=case.number, respondent=case.respondent, stage=case.stage,
            case_status=case.status, flagged_by=event.actor or "", flagged_at=event.at,
            supervising_agency=str(data.get("supervising_agency", "")),
            supervising_agency_code=str(data.get("supervising_agency_code", "")),
            handling_agency=str(data.get("handling_agency", "")),
            handling_agency_code=str(data.get("handling_agency_code", "")),
            instructions=str(data.get("supervision_instructions", "")),
            due_date=due_date, open=bool(ready), next_report_due=due, overdue=due is not None and due < now,
            reports=len(done), last_report_at=max((t.completed_at for t in done if t.completed_at), default=None),
            open_tasks=tuple(t.id for t in ready), past_due=bool(ready) and due_date < today,
        ))
    return out


__all__ = ["OPEN_VARIABLE", "REPORT_LIMIT", "SUPERVISION_MESSAGE", "case_supervisions", "flag_case", "supervised_cases"]
