"""Repairing cases whose workflow state a SpiffWorkflow wiring gap left stuck (a 合议 that never closed).

Before engine.spiff.definitions wired the multi-instance merges at load, a vote cast in a process other than
the one that opened the deliberation completed without reaching its deliberation: every vote done, the
deliberation still waiting, no task open (or, if some votes were still open, a result missing ballots).
`repair_stuck_cases` finds such cases, merges the finished votes in the order they were cast — what would have
happened — runs the case on to the task the model says is next, and appends a record signed by the operator
who repaired it (`signatures.records.REPAIR_SPEC`) naming the merged steps by seq and record hash, so an
auditor sees who repaired what and when. One transaction per case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import journal
from engine.db.repositories import Cases
from engine.db.tables import CaseEventRow, CaseRow, StepRecordRow, UserRow
from engine.enums import CaseEventKind, CaseStatus
from engine.errors import Forbidden, ValidationError
from engine.roles import ADMIN_ROLE, require_admin
from engine.services import Services
from engine.usecases.access import admin_reach, require_agency_admin
from engine.usecases.tasksync import sync_tasks
from engine.values import Clock, RepairStuckCases
from signatures.keys import KeySigner
from signatures.records import REPAIR_SPEC

REPAIR_NAME = "修复流程状态"


@dataclass(frozen=True)
class StuckCase:
    """A case with finished instances that never reached their parent task."""

    case_id: int
    case_number: str
    stage: str
    # {multi-instance task spec id: [seq of the signed step of each unmerged instance]}
    unmerged: dict[str, list[int]]
    # After the repair (or what it would be): the case's stage and the tasks then open.
    stage_after: str
    open_after: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "case_number": self.case_number, "stage": self.stage,
                "unmerged": self.unmerged, "stage_after": self.stage_after, "open_after": self.open_after}


def _open_cases(session: Session, case: str | int | None) -> list[int]:
    if case is not None:
        return [Cases(session).find(case, with_state=False).id]
    return list(session.scalars(select(CaseRow.id).where(CaseRow.status == CaseStatus.OPEN).order_by(CaseRow.id)))


def _examine(svc: Services, session: Session, case: CaseRow, clock: Clock) -> tuple[StuckCase, Any] | None:
    from engine.spiff.instance import ProcessInstance

    definition = svc.definition(session, case.definition_id)
    instance = ProcessInstance.restore(definition, case.state, clock=clock, settings=svc.settings,
                                       calendar=svc.calendar)
    found = instance.unmerged_instances()
    if not found:
        return None
    stage = case.stage
    seqs = dict(session.execute(select(StepRecordRow.task_id, StepRecordRow.seq).where(
        StepRecordRow.case_id == case.id, StepRecordRow.task_id.in_(
            [i for f in found for i in f.instance_ids]))).all())
    instance.merge_unmerged_instances()
    stuck = StuckCase(
        case_id=case.id, case_number=case.number, stage=stage,
        unmerged={f.spec_id: [seqs[i] for i in f.instance_ids if i in seqs] for f in found},
        stage_after=instance.stage, open_after=[t.spec_id for t in instance.ready_user_tasks()],
    )
    return stuck, instance


def find_stuck_cases(svc: Services, *, clock: Clock, case: str | int | None = None) -> list[StuckCase]:
    """Every open case (or the one named) that needs `repair_stuck_cases`; nothing is written."""
    found = []
    with svc.uow.read() as session:
        for case_id in _open_cases(session, case):
            row = session.get_one(CaseRow, case_id)
            examined = _examine(svc, session, row, clock)
            if examined is not None:
                found.append(examined[0])
    return found


def repair_stuck_cases(cmd: RepairStuckCases, *, svc: Services, clock: Clock) -> list[StuckCase]:
    """Repair every stuck case (or the one named), each in its own transaction, signed by `by` (an admin)."""
    by, pin, reason, case = cmd.by, cmd.pin, cmd.reason, cmd.case
    if not reason.strip():
        raise ValidationError("请说明修复原因 (say why the cases are repaired)", {"reason": "必填 (required)"})
    with svc.uow.read() as session:
        admin = require_admin(session, by, _ONLY_ADMINS)
        candidates = _within_reach(session, admin, [s.case_id for s in find_stuck_cases(svc, clock=clock, case=case)],
                                   named=case is not None)
        # The PIN's scrypt outside the write lock, and a wrong PIN counted in its own transaction (officer_keys).
        signer = journal.unlock_signer(svc, session, by, pin, clock()) if candidates else None
    repaired = []
    for case_id in candidates:
        assert signer is not None
        done = _repair_one(svc, case_id, by=by, signer=signer, reason=reason.strip(), clock=clock)
        if done is not None:
            repaired.append(done)
    return repaired


_ONLY_ADMINS = "只有系统管理员可以修复案件流程状态 (only an administrator may repair cases)"


def _within_reach(session: Session, admin: UserRow, case_ids: list[int], *, named: bool) -> list[int]:
    """The stuck cases `admin` administers (a district's administrator: its own district's and those below; issue
    16); a case named outside that reach is refused, not skipped."""
    reach = admin_reach(session, admin)
    if reach is None or not case_ids:
        return case_ids
    agency_of = {row.id: row.agency_code for row in session.execute(
        select(CaseRow.id, CaseRow.agency_code).where(CaseRow.id.in_(case_ids)))}
    kept = [c for c in case_ids if agency_of.get(c) in reach]
    if named and len(kept) < len(case_ids):
        raise Forbidden(f"{admin.id} 不是该案件所属机构或其上级机构的系统管理员 ({admin.id} administers neither the "
                        "case's agency nor an agency above it)")
    return kept


def _repair_one(svc: Services, case_id: int, *, by: str, signer: KeySigner, reason: str,
                clock: Clock) -> StuckCase | None:
    now = clock()
    with svc.uow() as work:
        session = work.session
        case = work.cases.get(case_id, lock=True)
        admin = require_agency_admin(session, by, case.agency_code, _ONLY_ADMINS)
        examined = _examine(svc, session, case, clock)
        if examined is None:
            return None  # repaired meanwhile by someone else
        stuck, instance = examined
        journal.check_key_still_valid(session, signer.fingerprint, now)
        definition = svc.definition(session, case.definition_id)
        created = sync_tasks(session, case, instance, definition, clock)
        case.state = instance.serialize()
        merged = [{"task_spec_id": spec, "seq": seq, "record_hash": record_hash}
                  for spec, seqs in stuck.unmerged.items()
                  for seq, record_hash in session.execute(select(StepRecordRow.seq, StepRecordRow.record_hash).where(
                      StepRecordRow.case_id == case.id, StepRecordRow.seq.in_(seqs)).order_by(StepRecordRow.seq))]
        detail = {"reason": reason, "merged_steps": merged, "stage": stuck.stage_after,
                  "open_tasks": stuck.open_after}
        session.add(CaseEventRow(case_id=case.id, kind=CaseEventKind.REPAIRED, task_id=None, spec_id=REPAIR_SPEC, actor=by,
                                 at=now, detail=detail))
        session.flush()
        journal.record_step(session, journal.StepFacts(
            case=case, definition_sha256=definition.sha256, task_id=None, task_spec_id=REPAIR_SPEC,
            task_name=REPAIR_NAME, role=ADMIN_ROLE, actor=by, actor_name=admin.name, form_data=detail,
            assignments=journal.assignments_of(session, created)), signer, now)
        work.commit()
        return stuck


__all__ = ["StuckCase", "find_stuck_cases", "repair_stuck_cases"]
