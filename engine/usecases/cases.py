"""Opening a case (投诉举报登记) and reading cases."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, defer

from engine import journal
from engine.agencies import case_settings
from engine.db.repositories import Cases, Users
from engine.db.session import Work
from engine.db.tables import NO_DEADLINE, CaseEventRow, CaseRow, DefinitionRow, TaskRow
from engine.enums import CaseEventKind, CaseOutcome, CaseStatus, TaskStatus
from engine.errors import Conflict, ValidationError
from engine.numbering import NumberClaim, claim_number, hold_number, peek_number
from engine.rules.confidential import evidence_fields
from engine.rules.deadlines import due_at
from engine.rules.duties import INTAKE_ROLE
from engine.rules.indicators import step_values
from engine.rules.settings import DayUnit, Settings, TimeLimit
from engine.rules.workdays import WorkingCalendar
from engine.services import Services
from engine.stepdocs import (
    PreparedDocuments,
    StepDocumentsInput,
    prepare_step_documents,
    store_step_documents,
)
from engine.usecases.access import (
    agencies_in_reach,
    person_of,
    visible_cases,
    within,
)
from engine.usecases.case_figures import start_case_figures
from engine.usecases.drafts import drop_intake_draft
from engine.usecases.evidence import (
    INTAKE_SEQ,
    StepEvidence,
    attach_intake_evidence,
    check_intake_key,
    intake_evidence,
)
from engine.usecases.forms import validate_form
from engine.usecases.readcache import Kept
from engine.usecases.reports import local_month
from engine.usecases.retrying import StepMoved, optimistic
from engine.usecases.signed import (
    SignedStep,
    intake_of,
    journal_events,
    list_fields,
    signed_steps,
    signed_timeline,
)
from engine.usecases.tasksync import sync_tasks
from engine.values import CaseDeadline, CasePage, CaseView, Clock, OpenCase, TaskView
from engine.views import task_view, uncovered_years
from signatures.keys import KeySigner

if TYPE_CHECKING:
    from engine.spiff.definitions import LoadedDefinition

START_NAME = "投诉举报登记"


def open_case(cmd: OpenCase, *, svc: Services, clock: Clock) -> CaseView:
    """Register a complaint: the case, its first tasks, the 投诉举报登记表 and the first signed record.

    As for a step (engine/usecases/retrying.py), the slow part — the clerk's key, the model, the 文书 — is
    prepared without a lock with the next free case number, which the write then claims (or prepares again).
    The complaint's material the clerk staged on the registration page (`cmd.evidence_key`) is listed in the
    record, under the clerk's signature, and becomes the new case's in the same transaction; if the registration
    is refused, it stays staged for the next try."""
    now = clock()
    if cmd.evidence_key is not None:
        check_intake_key(cmd.evidence_key)

    def prepare(session: Session, *, signer: KeySigner | None, held: bool) -> _Intake:
        return _prepare_intake(session, cmd, svc, clock, now, signer, held=held)

    # The last try holds the agency's next number from before it prepares until it commits: at a busy intake desk
    # (several clerks registering at once) the number could otherwise be taken again at every try, and the clerk
    # refused; the others wait the few hundred milliseconds of one preparation instead.
    return optimistic(svc, prepare, lambda work, intake: _write_intake(work, intake, cmd, svc, clock, now),
                      refusal="案件编号或随附材料在登记时不断变动，请重试 (case numbers kept being taken, or material kept "
                              "being added, while this case was registered; try again)")


@dataclass(frozen=True)
class _Intake:
    """A registration ready to be written: its number, the model started, the 登记表 signed — nothing stored."""

    signer: KeySigner = field(repr=False)
    definition_id: int
    definition: LoadedDefinition
    data: dict[str, Any]
    settings: Settings
    number: NumberClaim
    start_data: dict[str, Any]
    instance: Any  # the ProcessInstance started, for the task rows
    start_spec: str
    material: StepEvidence  # the files staged on the page as the 登记表 lists them
    documents: PreparedDocuments


def _prepare_intake(session: Session, cmd: OpenCase, svc: Services, clock: Clock, now: dt.datetime,
                    signer: KeySigner | None, *, held: bool) -> _Intake:
    """`held`: inside the write transaction — the case number held, not peeked."""
    from engine.spiff.instance import ProcessInstance

    user = Users(session).holding(cmd.user_id, INTAKE_ROLE)
    definition_id = svc.current_definition_id(session)
    definition = svc.definition(session, definition_id)
    data = validate_form(definition.start_form_schema(), cmd.data, title=START_NAME, now=now, settings=svc.settings)
    signer = signer or journal.unlock_signer(svc, session, user.id, cmd.pin, now)  # before a number is taken
    # The clerk's agency handles the case: its number, its name on the 文书, and what the law lets it (or the
    # agencies above it) set, which the model reads from the case's `settings` from now on.
    settings = case_settings(session, svc.settings, user.agency_code)
    year = now.astimezone(settings.zone).year
    number = (hold_number if held else peek_number)(session, settings.agency.case_number_prefix, year, width=4)
    start_data: dict[str, Any] = {**data, "settings": settings.for_process(), "registered_by": cmd.user_id,
                                  "case_number": number.text}
    instance = ProcessInstance.start(definition, start_data, clock=clock, settings=settings, calendar=svc.calendar)
    start_spec = definition.start_meta.get("id", "start")
    # The 登记表 lists the material handed in: the files staged on the page now (checked again, locked, when the
    # case is written; one added meanwhile prepares the registration again).
    material = intake_evidence(session, svc, user.id, cmd.evidence_key, lock=False)
    documents = prepare_step_documents(session, svc, StepDocumentsInput(
        case_id=0, case_number=number.text, task_id=None, spec_id=start_spec, task_name=START_NAME,
        document_code=definition.start_meta.get("document"), actor=user.id, case_data=start_data,
        form_data=_with_files(data, material), case_data_after=instance.data, due=None, now=now,
        agency_code=user.agency_code), signer, settings=settings)
    return _Intake(signer=signer, definition_id=definition_id, definition=definition, data=data, settings=settings,
                   number=number, start_data=start_data, instance=instance, start_spec=start_spec,
                   material=material, documents=documents)


def _write_intake(work: Work, intake: _Intake, cmd: OpenCase, svc: Services, clock: Clock,
                  now: dt.datetime) -> CaseView:
    session = work.session
    definition, data, instance, start_spec = intake.definition, intake.data, intake.instance, intake.start_spec
    user = work.users.holding(cmd.user_id, INTAKE_ROLE)
    journal.check_key_still_valid(session, intake.signer.fingerprint, now)
    claim_number(session, intake.number)
    listed = list_fields(data)
    case = CaseRow(
        number=intake.number.text, definition_id=intake.definition_id, status=CaseStatus.OPEN,
        stage=instance.stage or "intake", outcome=instance.outcome or CaseOutcome.OPEN,
        respondent=listed.respondent, violation=listed.violation, channel=listed.channel,
        state=instance.serialize(), opened_by=cmd.user_id, created_at=now, updated_at=now,
        agency_code=intake.settings.agency.code,  # the agency whose clerk registers it handles it
    )
    session.add(case)
    session.flush()
    start_case_figures(session, case_id=case.id, agency_code=case.agency_code, received_at=now,
                       values=step_values(definition.start_form_schema(), data, svc.settings.zone))
    created = sync_tasks(session, case, instance, definition, clock, by=cmd.user_id)
    session.add(CaseEventRow(case_id=case.id, kind=CaseEventKind.OPENED, task_id=None, spec_id=start_spec,
                             actor=cmd.user_id, at=now, detail={"form_data": data}))
    store_step_documents(session, intake.documents, case_id=case.id)
    # The complaint's material: listed in the record, so the clerk's signature covers its digests.
    evidence = intake_evidence(session, svc, user.id, cmd.evidence_key)
    if evidence.attach != intake.material.attach:  # a file staged on (or taken from) the page after the 登记表
        raise StepMoved("随附材料已变动，请重试 (the material handed in changed meanwhile; try again)")
    attach_intake_evidence(session, evidence, case_id=case.id, seq=INTAKE_SEQ)
    drop_intake_draft(session, user.id, cmd.evidence_key)  # registered: the page's draft is done
    # ... and the settings the case runs with, which its replay reads (journal.SETTINGS_KEY).
    record_data = {**_with_files(data, evidence), journal.SETTINGS_KEY: intake.start_data["settings"]}
    # Seq 1 of the case's signed record: the intake itself (投诉举报登记表), by the clerk who registered it.
    record = journal.record_step(session, journal.StepFacts(
        case=case, definition_sha256=definition.sha256, task_id=None,
        task_spec_id=start_spec, task_name=START_NAME, role=INTAKE_ROLE,
        actor=user.id, actor_name=user.name, form_data=record_data, documents=intake.documents.refs,
        assignments=journal.assignments_of(session, created),
        confidential={**definition.start_confidential_fields,
                      **evidence_fields(definition.start_form_schema(), evidence.entries)}), intake.signer, now)
    if record.seq != INTAKE_SEQ:
        raise Conflict(f"新案件的首条签名记录序号异常 (the new case's first record has seq {record.seq})")
    session.flush()
    return case_view(session, case, detail=False)


def _with_files(data: dict[str, Any], evidence: StepEvidence) -> dict[str, Any]:
    """The form as the record (and the 登记表) list it: with the files handed in, if any."""
    return {**data, journal.EVIDENCE_KEY: list(evidence.entries)} if evidence.entries else data


def list_cases(svc: Services, *, viewer_id: str | None = None, limit: int = 1000,
               offset: int = 0) -> list[CaseView]:
    """Cases in order of their ids: those `viewer_id` may see (engine.rules.duties.may_see_case); without a
    viewer, every case (as an auditor reads them)."""
    with svc.uow.read() as session:
        rows = session.execute(
            select(CaseRow, DefinitionRow.sha256).join(DefinitionRow).where(*_seen_by(session, viewer_id))
            .order_by(CaseRow.id).limit(limit).offset(offset)
        ).all()
        return [case_view(session, row, sha=sha, detail=False) for row, sha in rows]


def _seen_by(session: Session, viewer_id: str | None) -> list[Any]:
    """The condition a case list adds for `viewer_id` (none without one: the auditor's whole register)."""
    return [] if viewer_id is None else [visible_cases(person_of(Users(session).active(viewer_id)))]


def show_case(svc: Services, ref: str | int) -> CaseView:
    with svc.uow.read() as session:
        case = Cases(session).find(ref, with_state=False)
        return case_view(session, case, detail=True, calendar=svc.calendar)


def case_data(svc: Services, ref: str | int) -> dict[str, Any]:
    """The workflow data of a case (restored from its state): what the model knows about the case.

    Restoring is the dear part (milliseconds per case): the data is kept per case version (the state
    changes only with it) and each caller gets its own copy."""
    with svc.uow.read() as session:
        return _data_of(svc, session, Cases(session).find(ref, with_state=False))


def _data_of(svc: Services, session: Session, case: CaseRow) -> dict[str, Any]:
    from engine.spiff.instance import ProcessInstance

    key = ("case_data", case.id)
    kept = svc.reads.get(key, version=case.version)
    if kept is None:
        definition = svc.definition(session, case.definition_id)
        state = session.scalar(select(CaseRow.state).where(CaseRow.id == case.id))
        instance = ProcessInstance.restore(definition, state, clock=_epoch, settings=svc.settings,
                                           calendar=svc.calendar)
        kept = Kept(version=case.version, valid_until=NO_DEADLINE, value=dict(instance.data))
        svc.reads.put(key, kept)
    return copy.deepcopy(kept.value)


def _epoch() -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def case_view(session: Session, case: CaseRow, *, sha: str | None = None, detail: bool,
              tasks: Sequence[TaskRow] | None = None, steps: Sequence[SignedStep] | None = None,
              calendar: WorkingCalendar | None = None) -> CaseView:
    """The case's view; with `detail`, its open tasks (from `tasks` when the caller read them all) and its
    timeline, and its number and list fields as its signed intake states them (from `steps` when the caller
    read the records: engine/usecases/signed.py)."""
    if sha is None:
        sha = session.scalar(select(DefinitionRow.sha256).where(DefinitionRow.id == case.definition_id)) or ""
    view = CaseView(
        id=case.id, number=case.number, stage=case.stage, outcome=case.outcome, status=case.status,
        respondent=case.respondent, violation=case.violation, channel=case.channel, definition_sha256=sha,
        created_at=case.created_at, updated_at=case.updated_at,
    )
    if not detail:
        return view
    ready = (sorted((t for t in tasks if t.status == TaskStatus.READY), key=lambda t: t.created_at) if tasks is not None
             else session.scalars(select(TaskRow).where(TaskRow.case_id == case.id, TaskRow.status == TaskStatus.READY)
                                  .order_by(TaskRow.created_at)))
    if steps is None:
        steps = signed_steps(session, case.id)
    view = replace(view, open_tasks=tuple(task_view(session, t, case, calendar=calendar) for t in ready),
                   events=signed_timeline(steps, journal_events(session, case.id)))
    intake = intake_of(steps)
    if intake is None:
        return view  # nothing signed to show instead
    listed = list_fields(intake.record.form_data)
    return replace(view, number=intake.record.case_number, respondent=listed.respondent,
                   violation=listed.violation, channel=listed.channel)


# --- statutory clocks (法定期限) -------------------------------------------------------------------
# A case-wide clock is called by its time limit's name (settings.json `name`, `name_en`); else the limit's id.


def case_deadlines(svc: Services, case_ref: str | int, *, now: dt.datetime) -> list[CaseDeadline]:
    """The statutory clocks of a case as of `now`, soonest first.

    - the case-wide clocks the model names (`stopsClock`: 行政处罚法 Art 60, a decision within 90 days of 立案,
      the `decision_deadline` setting): from the start the model's own timer for that limit counts from (its
      `warn("decision_deadline", filed_at)`: the case's `filed_at`) until a step that stops it is completed (a
      decision either way, or a referral). Periods the law leaves out (听证, 检测, 公告 …) are not deducted here;
      the head extends by approval, not the system.
    - every open step with a deadline: its due date and the time limit its timer applies (settings.json).
    """
    with svc.uow.read() as session:
        case = Cases(session).find(case_ref, with_state=False)
        tasks = list(session.scalars(select(TaskRow).where(TaskRow.case_id == case.id).order_by(TaskRow.created_at)))
        return deadlines_of(svc, session, case, tasks, now=now)


def deadlines_of(svc: Services, session: Session, case: CaseRow, tasks: Sequence[TaskRow | TaskView], *,
                 now: dt.datetime) -> list[CaseDeadline]:
    """`case_deadlines` over a case and its tasks already read (in order of creation among the open ones); the
    case page passes its steps done as their records say (engine/usecases/signed.py)."""
    from engine.spiff.timers import applied_limit

    definition = svc.definition(session, case.definition_id)
    data = _data_of(svc, session, case)
    today = svc.calendar.local_date(now)
    clocks = [c for limit, stops in sorted(definition.clock_stops.items())
              if (c := _case_clock(svc, definition, limit, stops, data, tasks, case.closed_at, today)) is not None]
    out: list[CaseDeadline] = list(clocks)
    for task in tasks:
        if task.status != TaskStatus.READY or task.due_at is None:
            continue
        meta = definition.metas.get(task.spec_id)
        limit = next((svc.settings.limit(a.limit_id) for e in (meta.timers if meta else ())
                      if (a := applied_limit(e, data, svc.settings.time_limits)) is not None), None)
        if limit is not None and any(c.limit_id == limit.id and c.due_at == task.due_at for c in clocks):
            continue  # a step under a case-wide clock itself (调查终结, 处罚决定): shown once, as that clock
        out.append(CaseDeadline(
            label=task.name, limit_id=limit.id if limit else None, basis=limit.basis if limit else "",
            days=limit.days if limit else None, working_days=bool(limit and limit.unit is DayUnit.WORKING),
            start=None, due_at=task.due_at, task_id=task.id,
            days_left=_days_left(svc, limit, today, svc.calendar.local_date(task.due_at)),
            uncovered_years=uncovered_years(svc.calendar, task.created_at, task.due_at),
        ))
    out.sort(key=lambda d: (d.met_at is not None, d.due_at))
    return out


def _case_clock(svc: Services, definition: LoadedDefinition, limit_id: str, stops: frozenset[str],
                data: dict[str, Any], tasks: Sequence[TaskRow | TaskView], closed_at: dt.datetime | None,
                today: dt.date) -> CaseDeadline | None:
    """A case-wide clock: started when the case has the start the model's timers for `limit_id` count from,
    met by the first completed step among `stops` (or by the case's closing)."""
    from engine.spiff.timers import applied_limit, parse_moment

    starts = {a.start for meta in definition.metas.values() for e in meta.timers
              if (a := applied_limit(e, data, (limit_id,))) is not None and a.start}
    if not starts:
        return None  # not started (not filed, or the model times it from no data)
    start = max(parse_moment(s) for s in starts)
    limit = svc.settings.limit(limit_id)
    due = due_at(limit_id, start, svc.settings, svc.calendar)
    decided = sorted(t.completed_at for t in tasks if t.spec_id in stops and t.status == TaskStatus.COMPLETED
                     and t.completed_at)
    met_at = decided[0] if decided else closed_at
    return CaseDeadline(
        label=limit.name or limit_id, limit_id=limit.id, basis=limit.basis, days=limit.days,
        working_days=limit.unit is DayUnit.WORKING, start=start, due_at=due, met_at=met_at,
        days_left=None if met_at else _days_left(svc, limit, today, svc.calendar.local_date(due)),
        uncovered_years=() if met_at else uncovered_years(svc.calendar, start, due),
    )


def _days_left(svc: Services, limit: TimeLimit | None, today: dt.date, due: dt.date) -> int:
    if limit is not None and limit.unit is DayUnit.WORKING:
        return svc.calendar.working_days_between(today, due)
    return (due - today).days



# --- lists ---------------------------------------------------------------------------------------
CASE_STATUSES = tuple(CaseStatus)
MAX_CASES_PER_PAGE = 200
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def cases_page(svc: Services, *, viewer_id: str | None = None, query: str | None = None, stage: str | None = None,
               status: str | None = None, violation: str | None = None, outcome: str | None = None,
               month: str | None = None, agency: str | None = None, page: int = 1, per_page: int = 50) -> CasePage:
    """Cases most recently changed first, one page of them, with the total and every stage in use: of the
    cases `viewer_id` may see (engine.rules.duties.may_see_case, in SQL: access.visible_cases); without a
    viewer, of every case.

    `query` matches part of the case number or of the party's name; `violation`, `outcome` and `month` (of
    registration, YYYY-MM in the agency's time) are what the dashboard's bars count by, so a bar opens the
    cases it counts; `agency`: the cases of that agency and those under it (a supervisor's filter — of what
    the viewer may see, as every filter). Pages past the last give the last.
    """
    if status and status not in CASE_STATUSES:
        raise ValidationError(f"案件状态只能是 open 或 closed (status must be open or closed): {status}")
    if not 1 <= per_page <= MAX_CASES_PER_PAGE:
        raise ValidationError(f"每页条数应在 1 到 {MAX_CASES_PER_PAGE} 之间 (per_page out of range): {per_page}")
    where: list[Any] = []
    if query and query.strip():
        text = query.strip()
        where.append(or_(CaseRow.number.contains(text, autoescape=True),
                         func.lower(CaseRow.respondent).contains(text.lower(), autoescape=True)))
    if stage:
        where.append(CaseRow.stage == stage)
    if status:
        where.append(CaseRow.status == status)
    if violation:
        where.append(CaseRow.violation == violation)
    if outcome:
        where.append(CaseRow.outcome == outcome)
    if month:
        if not MONTH.fullmatch(month):
            raise ValidationError(f"月份应为 YYYY-MM (month must be YYYY-MM): {month}")
        where.append(local_month(CaseRow.created_at, svc.settings.zone) == month)
    with svc.uow.read(lagging=True) as session:  # a list a moment old is as good: the replica, if any
        where.extend(_seen_by(session, viewer_id))
        where.append(within(session, CaseRow.agency_code, agency))
        agencies = _agency_choices(session, viewer_id)
        total = session.scalar(select(func.count()).select_from(CaseRow).where(*where)) or 0
        pages = max(1, -(-total // per_page))
        page = min(max(1, page), pages)
        rows = session.execute(
            select(CaseRow, DefinitionRow.sha256).join(DefinitionRow).options(defer(CaseRow.state)).where(*where)
            .order_by(CaseRow.updated_at.desc(), CaseRow.id.desc()).limit(per_page).offset((page - 1) * per_page)
        ).all()
        stages = tuple(session.scalars(select(CaseRow.stage).distinct().order_by(CaseRow.stage)))
        items = tuple(case_view(session, row, sha=sha, detail=False) for row, sha in rows)
    return CasePage(items=items, total=total, page=page, pages=pages, stages=stages, agencies=agencies)


def _agency_choices(session: Session, viewer_id: str | None) -> tuple[tuple[str, str], ...]:
    return () if viewer_id is None else agencies_in_reach(session, person_of(Users(session).active(viewer_id)))


def case_history(svc: Services, case_ref: str | int) -> list[TaskView]:
    """Every task of a case — open, completed, cancelled — in the order they were finished (open ones by
    when they were offered)."""
    with svc.uow.read() as session:
        case = Cases(session).find(case_ref, with_state=False)
        return [task_view(session, t, case, with_users=False) for t in history_rows(session, case.id)]


def history_rows(session: Session, case_id: int) -> list[TaskRow]:
    """A case's tasks in `case_history`'s order (open tasks among themselves in order of creation)."""
    return list(session.scalars(
        select(TaskRow).where(TaskRow.case_id == case_id)
        .order_by(func.coalesce(TaskRow.completed_at, TaskRow.created_at), TaskRow.created_at, TaskRow.id)))
