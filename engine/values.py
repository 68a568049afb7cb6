"""Commands and read views: frozen values that cross the engine's boundary (CLI, web)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.enums import CaseOutcome, FilePurpose

Clock = Callable[[], dt.datetime]

OUTCOMES = tuple(CaseOutcome)

# The largest id an id column holds on every backend (PostgreSQL's integer); a larger one names nothing, and
# must be "not found" before it reaches the database (where it would be an out-of-range error).
MAX_ID = 2**31 - 1


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def fixed_clock(moment: dt.datetime) -> Clock:
    if moment.tzinfo is None:
        raise ValueError("clock time must be timezone-aware")
    return lambda: moment


@dataclass(frozen=True)
class RecordedDocument:
    """A document a step produced (e.g. the signed PDF of a 文书): its hash goes into the signed record."""

    kind: str
    file_name: str
    data: bytes = field(repr=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class OpenCase:
    """Registering a complaint (投诉举报登记): the case's first signed record, by the intake clerk.
    `evidence_key`: the registration page's key, under which the clerk staged the complaint's material
    (StageEvidence `intake_key`): those files are listed in the record and become the new case's."""

    user_id: str
    data: dict[str, Any]
    pin: str | None = field(default=None, repr=False)
    evidence_key: str | None = None


@dataclass(frozen=True)
class CompleteTask:
    """Completing a task; `pin` unlocks the officer's key; `documents` are what the step produced."""

    task_id: str
    user_id: str
    data: dict[str, Any]
    pin: str | None = field(default=None, repr=False)
    documents: tuple[RecordedDocument, ...] = ()


@dataclass(frozen=True)
class FlagCase:
    """挂牌督办: a supervisor flags a case of an agency below theirs; `data` is the model's flag form (督办要求,
    办结期限, 督办理由); `pin` unlocks the supervisor's key, which signs the step and the 督办通知书."""

    case_ref: str | int
    user_id: str
    data: dict[str, Any]
    pin: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class StageEvidence:
    """Adding an evidence file to a case: `source` is a finished local file (a completed upload, a CLI
    argument), `name` what the person called it; `task_id` the step it is for (None: the case's files, for
    证据登记). The file is stored and waits, staged, for the signed step that lists it. Without a case
    (`case_ref` None), the material of a complaint being registered: `intake_key` names the registration page,
    and registering it (OpenCase `evidence_key`) lists the file."""

    case_ref: str | int | None
    user_id: str
    name: str
    source: Path
    task_id: str | None = None
    note: str | None = None
    intake_key: str | None = None


@dataclass(frozen=True)
class EvidenceFileView:
    """An evidence file of a case: its bytes by digest, what the content is, who added it when; `state` staged
    (waiting for its step) or attached (listed in the signed record `seq`); `exif` the camera's claims (time,
    GPS), never the record's time; `purpose` evidence, or party_signature (the party's signature drawn on the
    screen: a file of its step's record, not among the case's evidence). The record lists neither."""

    id: int
    case_id: int | None  # None: handed in with a complaint not registered yet
    task_id: str | None
    sha256: str
    size: int
    media_type: str
    family: str | None
    name: str
    note: str | None
    added_by: str
    added_at: dt.datetime
    state: str
    seq: int | None = None
    exif: dict[str, Any] | None = None
    purpose: FilePurpose = FilePurpose.EVIDENCE

    def record_entry(self) -> dict[str, Any]:
        """What a signed step record lists of the file (docs/evidence-bundle.md)."""
        entry: dict[str, Any] = {"id": self.id, "sha256": self.sha256, "size": self.size,
                                 "media_type": self.media_type, "name": self.name, "added_by": self.added_by,
                                 "added_at": self.added_at.astimezone(dt.UTC).isoformat()[:19] + "Z"}
        if self.note:
            entry["note"] = self.note
        return entry

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "case_id": self.case_id, "task_id": self.task_id, "sha256": self.sha256,
                "size": self.size, "media_type": self.media_type, "family": self.family, "name": self.name,
                "note": self.note, "added_by": self.added_by, "added_at": _iso(self.added_at),
                "state": self.state, "seq": self.seq, "exif": self.exif, "purpose": self.purpose}


@dataclass(frozen=True, kw_only=True)
class AddUser:
    """An administrator (`by`) adds an account; with `pin`, its signing key and certificate are issued too."""

    user_id: str
    name: str
    password: str = field(repr=False)
    roles: Sequence[str]
    unit: str = ""
    pin: str | None = field(default=None, repr=False)
    cert_no: str | None = None  # 执法证号 (行政处罚法 第四十二条), with the last day it is valid
    cert_valid_until: dt.date | None = None
    agency_code: str | None = None  # the agency the person works for; None: the platform's home agency
    by: str | None = None  # the administrator adding them (their agency or one below it); None: the server's CLI


@dataclass(frozen=True, kw_only=True)
class AddAgency:
    """An administrator (`by`) adds an agency below `parent_code` (issue 16: the platform's agency tree)."""

    code: str
    name: str
    short: str  # 简称 of its 文号 (和卫)
    parent_code: str
    level: str  # engine.enums.AgencyLevel, below the parent's
    case_number_prefix: str  # 和卫投
    penalty_number_prefix: str  # 和卫罚
    by: str
    review_agency: str = ""  # 行政复议机关; derived from the name when empty
    court: str = ""


@dataclass(frozen=True, kw_only=True)
class EditAgency:
    """An administrator (`by`) changes an agency's name, 简称, prefixes, 复议机关 or court (None: unchanged);
    where it sits in the tree does not change."""

    code: str
    by: str
    name: str | None = None
    short: str | None = None
    case_number_prefix: str | None = None
    penalty_number_prefix: str | None = None
    review_agency: str | None = None
    court: str | None = None


@dataclass(frozen=True, kw_only=True)
class DeactivateAgency:
    """An administrator (`by`) retires an agency, saying why: no new users or cases; its cases stay its."""

    code: str
    by: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class SetAgencySetting:
    """An administrator (`by`) sets what the law lets an agency set (settings.json `agency_settings`), or its
    own 文号 prefix of a document kind (`document_numbers.<kind>`); `value` None: inherit again."""

    code: str
    key: str
    value: str | None
    by: str


@dataclass(frozen=True, kw_only=True)
class SetAgencyAreas:
    """An administrator (`by`) of the agency or of one above it sets the place names of its territory (地域管辖:
    the hand-over's jurisdiction rules, settings.json `jurisdiction`, read them with those of the agencies below
    it); every name given replaces the ones before, none: no territory of its own."""

    code: str
    areas: tuple[str, ...]
    by: str


@dataclass(frozen=True)
class AgencyView:
    code: str
    name: str
    short: str
    parent_code: str | None
    level: str
    case_number_prefix: str
    penalty_number_prefix: str
    review_agency: str
    court: str
    active: bool
    depth: int = 0  # in the tree as listed (0: the root)
    settings: Mapping[str, Any] = field(default_factory=dict)  # its own overrides
    effective: Mapping[str, Any] = field(default_factory=dict)  # what its cases run with (inherited), by key
    document_numbers: Mapping[str, str] = field(default_factory=dict)  # its 文号 prefixes by document kind

    @property
    def areas(self) -> tuple[str, ...]:
        """The place names of its own territory (settings `areas`; those of the agencies below it count too)."""
        return tuple(str(a) for a in self.settings.get("areas", ()))

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "short": self.short, "parent": self.parent_code,
                "level": self.level, "case_number_prefix": self.case_number_prefix,
                "penalty_number_prefix": self.penalty_number_prefix, "review_agency": self.review_agency,
                "court": self.court, "active": self.active, "depth": self.depth, "settings": dict(self.settings),
                "effective": dict(self.effective), "document_numbers": dict(self.document_numbers)}


@dataclass(frozen=True, kw_only=True)
class RekeyUser:
    """A new signing key and certificate under a new PIN; `by` the administrator (None: the server's command
    line)."""

    user_id: str
    pin: str = field(repr=False)
    by: str | None = None
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class RevokeUserKey:
    """The user's signing certificate revoked now; `by` the administrator (None: the server's command
    line)."""

    user_id: str
    by: str | None = None
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class ChangeAccount:
    """An administrator (`by`) deactivates or reactivates an account, saying why."""

    user_id: str
    by: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class SetUserAgency:
    """An administrator (`by`; None: the server's command line) moves a person to another agency (a transfer of
    post): the cases and tasks they hold stay as they are; what they handle from now on is the new agency's."""

    user_id: str
    agency_code: str
    by: str | None = None
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class SetUserCertificate:
    """An administrator (`by`; None: the server's command line) records a user's 执法证号 and the last day it is
    valid, or clears it (`cert_no` None): who may be picked as a law-enforcement officer (行政处罚法 第四十二条)."""

    user_id: str
    cert_no: str | None
    valid_until: dt.date | None
    by: str | None
    reason: str = ""


@dataclass(frozen=True)
class ClaimTask:
    """Taking an open task as one's own (签收)."""

    task_id: str
    user_id: str


@dataclass(frozen=True)
class UnclaimTask:
    """Giving a claimed task back to its group (退回)."""

    task_id: str
    user_id: str


@dataclass(frozen=True)
class AssignTask:
    """A head (`by`) hands a task to `assignee`, signed with the head's key (`pin`), saying why (`reason`)."""

    task_id: str
    assignee: str
    by: str
    pin: str | None = field(repr=False)
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class ReassignTasks:
    """A head (`by`) hands several open tasks at once to `assignee`, signed with the head's key (`pin`), for one
    `reason` (required): all of them or none (engine/usecases/team.py `reassign_tasks`)."""

    task_ids: tuple[str, ...]
    assignee: str
    by: str
    pin: str | None = field(repr=False)
    reason: str


@dataclass(frozen=True, kw_only=True)
class UrgeTask:
    """督办: a head (`by`, signing with `pin`) presses whoever holds an overdue or soon-due task, with a `note`."""

    task_id: str
    by: str
    pin: str | None = field(repr=False)
    note: str


@dataclass(frozen=True, kw_only=True)
class ChangePassword:
    """The user changes their own password, typing the current one again."""

    user_id: str
    current: str = field(repr=False)
    new: str = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class SetPassword:
    """An administrator (`by`; None: the server's command line) sets a user's password, saying why."""

    user_id: str
    password: str = field(repr=False)
    by: str | None = None
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class EndAllSessions:
    """An administrator (`by`; None: the server's command line) ends every login of a user, saying why."""

    user_id: str
    by: str | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class LogIn:
    """A name and password typed at the login form from `source` (the client's address)."""

    user_id: str
    password: str = field(repr=False)
    source: str


@dataclass(frozen=True)
class EndSession:
    """Logging out: the session whose cookie carries `session_id` (a bearer secret: not in the repr)."""

    session_id: str = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class UnblockSigningPin:
    """A head or administrator (`by`; None: the server's command line) unblocks a user's signing key."""

    user_id: str
    by: str | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class SetWorkingDayOverride:
    """An administrator declares `day` a working day (True) or a day off (False), or removes the stored
    override (None), saying why."""

    day: dt.date
    workday: bool | None
    user_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class EnterHolidaySchedule:
    """An administrator enters a year's announced holiday schedule (放假安排); `complete`: the year is covered."""

    year: int
    days_off: tuple[dt.date, ...]
    workdays: tuple[dt.date, ...]
    reference: str
    complete: bool
    user_id: str


@dataclass(frozen=True, kw_only=True)
class StoreDefinition:
    """A model version (its files by name) to validate and store; `user_id` None: the server's command line."""

    files: Mapping[str, bytes] = field(repr=False)
    entry_process_id: str
    name: str
    user_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class RepairStuckCases:
    """An administrator (`by`, signing with `pin`) repairs every stuck case, or the one named by `case`."""

    by: str
    pin: str | None = field(repr=False)
    reason: str
    case: str | int | None = None


@dataclass(frozen=True, kw_only=True)
class RebuildIndicators:
    """The indicators' rollup job (each round of `casetrail worker`, `casetrail indicators rebuild`): build the
    days missing and those marked changed; with `agency` (with its subtree), `start` or `end`, also rebuild that
    range whole. No person is named: it only sums what the cases already say."""

    agency: str | None = None
    start: dt.date | None = None  # the first day rebuilt; None: the first there is
    end: dt.date | None = None  # the last day rebuilt (inclusive); None: yesterday (the agency's calendar)


@dataclass(frozen=True)
class TaskView:
    id: str
    case_id: int
    case_number: str
    spec_id: str
    name: str
    role: str
    stage: str
    status: str
    assignee: str | None
    due_at: dt.datetime | None
    created_at: dt.datetime
    supervision: bool
    respondent: str
    document: str | None = None
    completed_by: str | None = None
    completed_at: dt.datetime | None = None
    candidates: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    form_schema: dict[str, Any] | None = None
    form_data: dict[str, Any] | None = None
    # Years without a known holiday schedule that the open step's deadline is counted into: its day is
    # provisional (暂定) until the notice is entered (engine/rules/workdays.py).
    uncovered_years: tuple[int, ...] = ()

    @property
    def provisional(self) -> bool:
        return bool(self.uncovered_years)
    # The signed step record a completed step is shown from (engine/usecases/signed.py); None: not read from one.
    record_seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        out = {
            "id": self.id, "case_id": self.case_id, "case_number": self.case_number, "spec_id": self.spec_id,
            "name": self.name, "role": self.role, "stage": self.stage, "status": self.status,
            "assignee": self.assignee, "due_at": _iso(self.due_at), "provisional": self.provisional,
            "uncovered_years": list(self.uncovered_years), "created_at": _iso(self.created_at),
            "supervision": self.supervision, "respondent": self.respondent, "document": self.document,
            "completed_by": self.completed_by, "completed_at": _iso(self.completed_at),
            "candidates": list(self.candidates), "excluded": list(self.excluded),
        }
        if self.form_schema is not None:
            out["form_schema"] = self.form_schema
        if self.form_data is not None:
            out["form_data"] = self.form_data
        if self.record_seq is not None:
            out["record_seq"] = self.record_seq
        return out


@dataclass(frozen=True)
class CaseEventView:
    kind: str
    at: dt.datetime
    actor: str | None
    task_id: str | None
    spec_id: str | None
    detail: dict[str, Any]
    # The seq of the signed step record this event is read from; None: an unsigned journal entry (a claim, a
    # timer, a cancellation), as case_events holds it.
    seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "at": _iso(self.at), "actor": self.actor, "task_id": self.task_id,
                "spec_id": self.spec_id, "detail": self.detail, "seq": self.seq, "signed": self.seq is not None}


@dataclass(frozen=True)
class CaseView:
    id: int
    number: str
    stage: str
    outcome: str
    status: str
    respondent: str
    violation: str
    channel: str
    definition_sha256: str
    created_at: dt.datetime
    updated_at: dt.datetime
    open_tasks: tuple[TaskView, ...] = ()
    events: tuple[CaseEventView, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self, *, detail: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "number": self.number, "stage": self.stage, "outcome": self.outcome,
            "status": self.status, "respondent": self.respondent, "violation": self.violation,
            "channel": self.channel, "definition_sha256": self.definition_sha256,
            "created_at": _iso(self.created_at), "updated_at": _iso(self.updated_at),
        }
        if detail:
            out["open_tasks"] = [t.to_json() for t in self.open_tasks]
            out["events"] = [e.to_json() for e in self.events]
            out["data"] = self.data
        return out


@dataclass(frozen=True)
class UserView:
    id: str
    name: str
    roles: tuple[str, ...]
    unit: str
    active: bool
    cert_no: str | None = None  # 执法证号
    cert_valid_until: dt.date | None = None
    agency_code: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "roles": list(self.roles), "unit": self.unit,
                "active": self.active, "cert_no": self.cert_no, "agency": self.agency_code,
                "cert_valid_until": self.cert_valid_until.isoformat() if self.cert_valid_until else None}


@dataclass(frozen=True)
class DocumentView:
    """One signed 文书 of a case (the PDF bytes are fetched separately: `get_document`)."""

    id: int
    case_id: int
    task_id: str | None
    spec_id: str
    kind: str
    title: str
    doc_number: str
    file_name: str
    sha256: str
    verification_code: str
    page_count: int
    signed_by: str
    created_at: dt.datetime
    title_en: str = ""  # the title on English pages (documents: TITLE_EN); the PDF itself is Chinese

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "case_id": self.case_id, "task_id": self.task_id, "spec_id": self.spec_id,
                "kind": self.kind, "title": self.title, "doc_number": self.doc_number, "file_name": self.file_name,
                "sha256": self.sha256, "verification_code": self.verification_code, "page_count": self.page_count,
                "signed_by": self.signed_by, "created_at": _iso(self.created_at)}


@dataclass(frozen=True)
class CaseDeadline:
    """One statutory clock of a case (法定期限): what must happen by when, under which rule.

    `days_left` counts in the limit's own unit — working days (工作日) or calendar days — from the viewer's
    today to the due date in Beijing dates: 0 on the last day, negative once overdue. A clock that has
    stopped (the decision was made in time or late) has `met_at` and no `days_left`.
    """

    label: str
    limit_id: str | None
    basis: str
    days: int | None
    working_days: bool
    start: dt.datetime | None
    due_at: dt.datetime
    days_left: int | None
    task_id: str | None = None
    met_at: dt.datetime | None = None
    uncovered_years: tuple[int, ...] = ()  # as TaskView's: the due day may move once they are covered

    @property
    def provisional(self) -> bool:
        return bool(self.uncovered_years)

    @property
    def overdue(self) -> bool:
        if self.met_at is not None:
            return self.met_at > self.due_at
        return self.days_left is not None and self.days_left < 0

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "limit_id": self.limit_id, "basis": self.basis, "days": self.days,
                "working_days": self.working_days, "start": _iso(self.start), "due_at": _iso(self.due_at),
                "days_left": self.days_left, "task_id": self.task_id, "met_at": _iso(self.met_at),
                "overdue": self.overdue, "provisional": self.provisional,
                "uncovered_years": list(self.uncovered_years)}


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# --- the task page, the heads' dashboard, the case list ------------------------------------------
@dataclass(frozen=True)
class TaskPageItem:
    """One row of a task page: the task, its case's violation type, and its deadline state.

    Not named TaskRow: that is the task table's ORM class (engine.db.tables)."""

    task: TaskView
    violation: str
    due_state: str  # "overdue" | "soon" | ""

    @property
    def overdue(self) -> bool:
        return self.due_state == "overdue"

    @property
    def due_soon(self) -> bool:
        return self.due_state == "soon"


@dataclass(frozen=True)
class TaskPage:
    """One page of a user's open tasks, with per facet (`stage`, `violation`, `due`, `mine`) the count of
    each value among the tasks that match the other filters, largest first; `mine` counts under "mine"
    and "others", `due` under "overdue", "soon" and "" (neither)."""

    items: tuple[TaskPageItem, ...]
    total: int
    page: int
    pages: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class FinesInMonth:
    """Fines decided in one month (Beijing time): how many decisions imposed one, and their sum in CNY."""

    month: str
    decisions: int
    total: float


@dataclass(frozen=True)
class Dashboard:
    """The heads' overview; every pair is (value, count), largest count first unless said otherwise."""

    open_by_stage: tuple[tuple[str, int], ...]
    overdue: tuple[TaskView, ...]  # the most overdue open steps first, at most a page of them
    overdue_total: int
    by_violation: tuple[tuple[str, int], ...]
    by_month: tuple[tuple[str, int], ...]  # cases registered per month (Beijing time), oldest month first
    by_outcome: tuple[tuple[str, int], ...]
    fines_by_month: tuple[FinesInMonth, ...]  # oldest month first
    open_cases: int
    total_cases: int
    agencies: tuple[tuple[str, str], ...] = ()  # (code, name) the viewer may narrow the figures to (CasePage's)


@dataclass(frozen=True)
class CasePage:
    """One page of the case list, most recently changed first; `stages` are all stages cases are in;
    `agencies` (code, name) those the viewer may filter by — their reach, when it holds more than their own
    agency (a supervisor's, an auditor's)."""

    items: tuple[CaseView, ...]
    total: int
    page: int
    pages: int
    stages: tuple[str, ...] = ()
    agencies: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DiscardEvidence:
    """The person who staged an evidence file takes it back before a signed step has listed it."""

    file_id: int
    user_id: str


# --- the heads' team view, hand-overs and 督办 ------------------------------------------------------------
@dataclass(frozen=True)
class Named:
    """A person as pages and confirmations show them: the name, the login id kept for links and titles."""

    id: str
    name: str
    unit: str = ""


@dataclass(frozen=True)
class TeamItem:
    """One open task of a head's team: the task, who holds it (None: nobody yet), its deadline state."""

    task: TaskView
    holder: Named | None
    due_state: str  # "overdue" | "soon" | ""
    offered: tuple[Named, ...] = ()  # nobody holds it: those it is offered to by name
    may_urge: bool = False  # engine.rules.duties.refusal_to_urge, asked for the head who reads the page


@dataclass(frozen=True)
class TeamPage:
    """One page of the team's open tasks; `holders`, `stages` and `due` count the tasks per value among those
    matching the other filters (holder "" = nobody holds it), largest first."""

    items: tuple[TeamItem, ...]
    total: int
    page: int
    pages: int
    holders: tuple[tuple[Named | None, int], ...] = ()
    stages: tuple[tuple[str, int], ...] = ()
    due: dict[str, int] = field(default_factory=dict)
    assignees: tuple[Named, ...] = ()  # who may be picked as the new holder of a batch hand-over


@dataclass(frozen=True)
class Handover:
    """One task handed over: what, and from whom to whom by name (a confirmation never shows bare ids)."""

    task_id: str
    case_id: int
    case_number: str
    spec_id: str
    task_name: str
    previous: Named | None
    assignee: Named
    seq: int  # the signed record of the hand-over


@dataclass(frozen=True)
class Urged:
    """督办 done: the task, whom it pressed (by name), how many inbox notices were written, the signed record."""

    task_id: str
    case_id: int
    case_number: str
    spec_id: str
    task_name: str
    holders: tuple[Named, ...]
    notified: int
    seq: int
@dataclass(frozen=True, kw_only=True)
class SaveDraft:
    """Keep what `user_id` has typed into a task's form (`task_id`), or into the registration page `intake_key`,
    as a draft: `fields` the form's raw fields as posted, name -> values (never the signing PIN)."""

    user_id: str
    fields: Mapping[str, Sequence[str]]
    task_id: str | None = None
    intake_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class DiscardDraft:
    """Drop `user_id`'s draft of the task `task_id` (or of the registration page `intake_key`)."""

    user_id: str
    task_id: str | None = None
    intake_key: str | None = None


@dataclass(frozen=True)
class DraftView:
    """A person's saved draft of a form: its raw fields as posted, when it was saved, its size in bytes."""

    fields: dict[str, list[str]]
    updated_at: dt.datetime
    size: int
    task_id: str | None = None
    intake_key: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "intake_key": self.intake_key, "fields": self.fields,
                "updated_at": _iso(self.updated_at), "size": self.size}
@dataclass(frozen=True)
class NoticeView:
    """A notice in a person's inbox (issue 15): what happened to which task of which case, when, read or not."""

    id: int
    kind: str
    case_id: int | None
    case_number: str | None
    task_id: str | None
    task_spec_id: str | None
    task_name: str | None
    due_at: dt.datetime | None
    by: str | None
    by_name: str | None
    note: str
    created_at: dt.datetime
    read_at: dt.datetime | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "case_id": self.case_id, "case_number": self.case_number,
                "task_id": self.task_id, "task_spec_id": self.task_spec_id, "task_name": self.task_name,
                "due_at": _iso(self.due_at), "by": self.by, "by_name": self.by_name, "note": self.note,
                "created_at": _iso(self.created_at), "read_at": _iso(self.read_at)}


@dataclass(frozen=True)
class NoticeChoices:
    """A person's address for notice mail and, per kind of notice, whether it is mailed (the inbox has all)."""

    user_id: str
    email: str | None
    mailed: Mapping[str, bool]


@dataclass(frozen=True)
class MarkNoticesRead:
    """The person marks notices of their inbox read: those of `ids`, or every unread one (`everything`)."""

    user_id: str
    ids: tuple[int, ...] = ()
    everything: bool = False


@dataclass(frozen=True)
class SetNoticeChoices:
    """The person sets their address for notice mail (empty: none) and which kinds are mailed (`mailed`)."""

    user_id: str
    email: str
    mailed: frozenset[str]


@dataclass(frozen=True)
class SupervisedCase:
    """One 挂牌督办 of a case, as both agencies' lists show it: who flagged it, what for, by when, its next report."""

    case_id: int
    case_number: str
    respondent: str
    stage: str
    case_status: str
    flagged_by: str
    flagged_at: dt.datetime
    supervising_agency: str
    supervising_agency_code: str
    handling_agency: str
    handling_agency_code: str
    instructions: str
    due_date: dt.date
    open: bool  # not yet closed (销号)
    next_report_due: dt.datetime | None
    overdue: bool  # the next report is past its due time
    reports: int
    last_report_at: dt.datetime | None
    open_tasks: tuple[str, ...] = ()
    past_due: bool = False  # open after its 办结期限 (the model then raises the supervisor's 督办逾期)

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id, "case_number": self.case_number, "respondent": self.respondent,
            "stage": self.stage, "case_status": self.case_status, "flagged_by": self.flagged_by,
            "flagged_at": _iso(self.flagged_at), "supervising_agency": self.supervising_agency,
            "supervising_agency_code": self.supervising_agency_code, "handling_agency": self.handling_agency,
            "handling_agency_code": self.handling_agency_code, "instructions": self.instructions,
            "due_date": self.due_date.isoformat(), "open": self.open,
            "next_report_due": _iso(self.next_report_due) if self.next_report_due else None,
            "overdue": self.overdue, "reports": self.reports,
            "last_report_at": _iso(self.last_report_at) if self.last_report_at else None,
            "open_tasks": list(self.open_tasks), "past_due": self.past_due,
        }
