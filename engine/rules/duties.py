"""Duties and visibility: who may act on a task, claim it, be assigned it, see a case or a task, see the
complainant's identity, download a 文书, see a sealed vote — decided here and nowhere else.

Pure functions over plain values (a `Person`, a `TaskFacts`, a `CaseFacts`): no database, no Flask. The use
cases that change state (engine/usecases/access.py: complete, claim, assign, vote) and every read the pages,
the JSON API and the CLI make (engine/usecases/viewer.py) ask these functions, so what a page offers is what
the engine then accepts, with the same reason when it does not.

A refusal is a value (`Refusal`) with the words a person reads, zh-CN first; `engine.usecases.access` raises it
as `Forbidden`, the task page shows it instead of the form.

Per-case need-to-know: who takes part in a case (its members: `CaseFacts.members`) reads it and — when they
hold an identity role — the complainant's identity; a person the case offers an open task by lane reads it
redacted, to decide whether to take the task; heads read every case of their agency, auditors and supervisors
every case of their agency and the agencies under it (supervision and audit), redacted unless they are
members. Nobody else reads it at all.

Agencies (issue 16): every person and every case belongs to one agency of the platform's tree. An agency's
people see and act only on their own agency's cases — a task offered to a lane is offered to that lane's
people of the case's agency, pickers and hand-overs choose among them. A supervisor (督查人员, at a city or
province agency) and an auditor read the cases of their agency's subtree (`Person.reads`), read-only; an
auditor at the root agency reads the whole platform.

Signed work: every step completed, every hand-over is signed by its officer's key (docs/signatures.md), so a
person without a usable signing certificate (revoked, expired, none; `Person.cannot_sign` says which) may not
claim, be handed or complete a task, and is not among the eligible assignees.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from engine.roles import ADMIN_ROLE

HEAD_ROLE = "head"
PANEL_ROLE = "panel"
AUDITOR_ROLE = "auditor"
# 督查人员: reads the cases and figures of the agencies under their own, never acts on a case (issue 16).
SUPERVISOR_ROLE = "supervisor"

# The complainant's identity (投诉举报人身份) is confidential: it is not disclosed beyond those who handle the
# complaint — the intake clerk who registers it, the case officers, the head who decides (《市场监督管理投诉
# 举报处理暂行办法》第三十三条, applied by analogy: no health-specific measure exists). Panel members, legal
# reviewers, publishers and auditors do their part without it.
INTAKE_ROLE = "intake"  # the clerk who registers complaints (投诉举报登记)
IDENTITY_ROLES = frozenset({INTAKE_ROLE, "officer", HEAD_ROLE})

# 文书 that name the complainant: the registration form (投诉举报登记表), and the letters sent to them — the
# feedback (投诉举报处理结果告知书) and the non-filing notice (不予立案通知书); docs/documents.md lists which
# step produces which. A signed PDF cannot be redacted without breaking its signature, so those who may not
# see the complainant may not download these at all — nor the dossier (案卷), which holds every 文书.
IDENTITY_DOCUMENT_KINDS = frozenset({"complaint_registration", "complaint_result_notice", "non_filing_notice"})


@dataclass(frozen=True)
class Person:
    """Who is asking: a user's id, roles, whether the account is active, and — when their signing certificate
    was looked at — why they cannot sign (None: they can, or it was not asked: signing then refuses on its
    own, engine/journal.py `unlock_signer`).

    `agency`: the agency they work for (the cases they handle); `reads`: the agencies whose cases they may
    read besides — for a supervisor or an auditor the subtree under their agency (`SUBTREE_ROLES`), for
    everyone else nothing more; None only for the whole platform's register read without a user
    (`AUDITOR_VIEW`)."""

    id: str
    roles: frozenset[str]
    active: bool = True
    cannot_sign: str | None = None  # e.g. "签名证书已于 … 吊销 (certificate revoked)"
    agency: str = ""
    reads: frozenset[str] | None = frozenset()

    @classmethod
    def of(cls, user_id: str, roles: Iterable[str], *, active: bool = True, cannot_sign: str | None = None,
           agency: str = "", reads: frozenset[str] | None = frozenset()) -> Person:
        return cls(user_id, frozenset(roles), active, cannot_sign, agency, reads)


# What the CLI reads with when a command names no user (the server's operator): an auditor's rights over the
# whole platform — every case, the complainant's identity hidden, the votes of an open round sealed (the least
# a reader of the whole register is shown).
AUDITOR_VIEW = Person("", frozenset({AUDITOR_ROLE}), reads=None)

# Who reads the agencies under their own: supervisors (督查) and auditors (an auditor at the root agency audits
# the whole platform). Heads supervise their own agency only.
SUBTREE_ROLES = frozenset({SUPERVISOR_ROLE, AUDITOR_ROLE})


def reads_subtree(roles: Iterable[str]) -> bool:
    """Whether a person of `roles` reads the subtree under their agency (the caller then looks it up)."""
    return bool(SUBTREE_ROLES & set(roles))


def of_agency(person: Person, agency: str) -> bool:
    """Whether `agency` is the person's own: the only agency whose cases they handle."""
    return person.agency == agency


def reaches(person: Person, agency: str) -> bool:
    """Whether the person may read cases of `agency` at all: their own, or one of `reads`."""
    return person.reads is None or of_agency(person, agency) or agency in person.reads


@dataclass(frozen=True)
class TaskFacts:
    """What the duties ask of a task. `candidates` and `excluded` may hold only the person asked about (the
    completion path looks up that one person's marks): every rule asks whether a person is among them."""

    role: str
    status: str = "ready"
    assignee: str | None = None
    restricted: bool = False  # offered by name: only `candidates` (or its assignee) may take it
    candidates: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()  # barred by separation of duties (回避)
    vote: bool = False  # one panel member's vote of a 合议 round (a multi-instance task)
    completed_by: str | None = None
    agency: str = ""  # the agency of the task's case: only its people act on it


@dataclass(frozen=True)
class CaseFacts:
    """What the visibility rules ask of a case: who takes part in it, and its tasks open to a whole lane.

    `members`: who opened the case, holds or completed any of its tasks, or is named (a candidate) on any of
    them — being barred (回避) makes no one a member. `lane_offers`: its ready, unclaimed tasks offered to
    their whole lane (not by name). Like `TaskFacts`, both may hold only what concerns the person asked about.
    """

    case_id: int
    members: frozenset[str] = frozenset()
    lane_offers: tuple[TaskFacts, ...] = ()
    agency: str = ""  # the agency that handles the case
    # Who is named (a candidate or the assignee) on one of its open tasks: a 合议 member invited from another
    # agency (engine/rules/people.py `invited_across_agencies`) reads the case while their vote is open.
    named_open: frozenset[str] = frozenset()

    def is_member(self, person: Person) -> bool:
        return person.id in self.members


@dataclass(frozen=True)
class Refusal:
    """Why a person may not do something: `kind` for the page to choose its layout, `message` for people."""

    # "inactive" | "agency" | "closed" | "role" | "no_certificate" | "excluded" | "not_offered" | "held" |
    # "voted" | "not_head" | "unseen" | "on_time" | "no_holder"
    kind: str
    message: str


# Said of a case (or its task) of another agency: the same words whatever the case, so a refusal tells no more
# than that the case is not the person's agency's.
AGENCY_REFUSAL = ("{who} 不属于办理本案的单位，无权查看或办理 (this case is handled by another agency: only its "
                  "people act on it, and only those supervising or auditing that agency read it)")


# --- acting on a task ------------------------------------------------------------------------------------
def closed(task: TaskFacts) -> Refusal | None:
    """A task that is no longer open: completed (by whom) or cancelled."""
    if task.status == "ready":
        return None
    who = f"，由 {task.completed_by} 完成" if task.completed_by else ""
    return Refusal("closed", f"任务已结束{who} (task is no longer open: {task.status})")


def refusal_to_act(person: Person, task: TaskFacts) -> Refusal | None:
    """Why `person` may not complete `task` now, or None when they may.

    In this order: an inactive account; a task of another agency's case (an agency's people handle only its
    own cases: 行政处罚法第二十二条、第二十三条 — the agency with jurisdiction handles a case, by its own
    officers); a closed task; the role of the task's lane (workflows/roles.json: the
    lanes of the process model); no usable signing certificate — every step is signed (《电子签名法》第十三条:
    a reliable electronic signature needs a key under the signer's sole control; a revoked or expired
    certificate no longer vouches for it); separation of duties — an investigator of the case never reviews, hears or
    decides it (行政处罚法第四十三条回避、第五十八条法制审核、第六十四条听证主持人); a task the model offers by
    name (e.g. to the case officers the head named at acceptance) only to those named; a task another has
    claimed.
    """
    if not person.active:
        return Refusal("inactive", f"用户不存在或已停用 (unknown or inactive user): {person.id}")
    # Named on it (a 合议 member invited from another agency, engine/rules/people.py `invited_across_agencies`:
    # the naming field checked who may be named) acts on it whatever their agency.
    if not of_agency(person, task.agency) and person.id not in task.candidates and task.assignee != person.id:
        return Refusal("agency", AGENCY_REFUSAL.format(who=person.id))
    if (refused := closed(task)) is not None:
        return refused
    if task.role not in person.roles:
        return Refusal("role", f"此任务需要角色 {task.role}，{person.id} 无此角色 (task needs role {task.role}; {person.id} does not hold it)")
    if person.cannot_sign is not None:
        return Refusal("no_certificate", f"{person.id} 没有有效的签名证书，不能签收、受派或办理需签名的任务："
                                         f"{person.cannot_sign}；请管理员重新签发证书 (no valid signing certificate: "
                                         "may not claim, be assigned or complete signed work until one is issued)")
    if person.id in task.excluded:
        return Refusal("excluded",
                       f"{person.id} 参与了本案调查，不得办理此环节（回避；行政处罚法第四十三条、第五十八条、第六十四条）"
                       " (separation of duties: an investigator of this case may not take this step)")
    if task.restricted and person.id not in task.candidates and task.assignee != person.id:
        return Refusal("not_offered", f"此任务只交给指定人员 (task is offered to named people only); {person.id} 不在其中")
    if task.assignee is not None and task.assignee != person.id:
        return Refusal("held", f"任务已由 {task.assignee} 签收 (task is claimed by {task.assignee})")
    return None


def may_act(person: Person, task: TaskFacts) -> bool:
    return refusal_to_act(person, task) is None


def may_claim(person: Person, task: TaskFacts) -> bool:
    """Claiming takes an unclaimed task the person may act on (claiming one's own task again changes nothing)."""
    return task.assignee is None and may_act(person, task)


def may_unclaim(person: Person, task: TaskFacts) -> bool:
    """Only the assignee returns a task to its group; a panel member's vote is theirs and cannot be returned."""
    return task.status == "ready" and task.assignee == person.id and not task.vote


def refusal_to_vote(person: Person, task: TaskFacts, *, voted: bool) -> Refusal | None:
    """One vote per panel member and round (workflows/gates.json states the rule of the model)."""
    if task.vote and voted:
        return Refusal("voted", f"{person.id} 已对本案表决，不得重复表决 (already voted)")
    return None


# --- assigning a task ------------------------------------------------------------------------------------
def refusal_to_assign(person: Person, agency: str | None = None) -> Refusal | None:
    """Only a head (负责人) hands out work: they organise the case and decide 回避 (行政处罚法第四十三条) — of
    their own agency's cases (`agency`: the case's, when a task is named)."""
    if HEAD_ROLE not in person.roles or not person.active:
        return Refusal("not_head", "只有负责人可以分派任务 (only a head may assign tasks)")
    if agency is not None and not of_agency(person, agency):
        return Refusal("agency", AGENCY_REFUSAL.format(who=person.id))
    return None


def refusal_to_be_assigned(person: Person, task: TaskFacts, *, stranded: bool = False) -> Refusal | None:
    """Whether `person` may be handed `task`: they could act on it were it unclaimed (the hand-over replaces
    whoever holds it). A `stranded` task (see `stranded_names`) may go to anyone of its lane who could act on it."""
    return refusal_to_act(person, replace(task, assignee=None, restricted=task.restricted and not stranded))


def eligible_assignees(task: TaskFacts, people: Iterable[Person], *, stranded: bool = False) -> tuple[Person, ...]:
    """Everyone a head may hand `task` to, in the order given; none once the task is closed."""
    return tuple(p for p in people if refusal_to_be_assigned(p, task, stranded=stranded) is None)


def stranded_names(task: TaskFacts, named: Iterable[Person]) -> tuple[Person, ...]:
    """Those named on an open task offered by name who cannot take it (inactive, or no usable signing
    certificate) — returned only when none of those named can: the task is then stranded.

    The names are the head's signed decision (e.g. the case officers named at acceptance), so they are not
    rewritten when a named officer's certificate is revoked; a named offer to such a person simply cannot be
    taken up by them. While another named person can take it, nothing changes. When nobody named can, the
    head is told on the task (who, and why) and may hand it to anyone of its lane who could act on it — a
    signed hand-over with its reason, as any re-assignment (行政处罚法第四十二条: at least two officers with
    valid credentials handle a case; the head organises who)."""
    if task.status != "ready" or not task.restricted:
        return ()
    people = tuple(named)
    able = [p for p in people if p.id in task.candidates and refusal_to_be_assigned(p, task) is None]
    if able:
        return ()
    return tuple(p for p in people if p.id in task.candidates)


def stranded_message(people: Sequence[Person]) -> str:
    """What the task page tells about a stranded task (see `stranded_names`): who was named and why they
    cannot take it."""
    who = "；".join(f"{p.id}：{p.cannot_sign or '用户已停用 (inactive user)'}" for p in people)
    return (f"指定的办理人均无法办理此任务（{who}）。负责人可将其改派给本环节其他人员 (none of those named can take "
            "this task; a head may hand it to anyone else of its lane)")


# --- a head's team and 督办 ---------------------------------------------------------------------------
# Due states a head may urge (督办) a task in: the deadline has passed or is near (engine.usecases.taskpage
# `due_state`); a task on time needs no urging.
URGEABLE_DUE_STATES = frozenset({"overdue", "soon"})


def refusal_to_see_team(person: Person) -> Refusal | None:
    """The team view — every open task of the officers a head leads — is for heads: they organise who handles
    what (行政处罚法第四十二条、第四十三条) and supervise deadlines (督办)."""
    if HEAD_ROLE in person.roles and person.active:
        return None
    return Refusal("not_head", "只有负责人可以查看本单位全部在办任务 (only a head may see the team's open tasks)")


def team_scope(head: Person) -> str | None:
    """Whose open tasks `head` supervises: None for a person who leads no team; else the head's agency — a
    head leads every officer of their own agency (the agencies below have heads of their own; their figures
    are a supervisor's to read, not their tasks a head's to hand out). Turned into SQL by
    engine.usecases.access `team_tasks`."""
    return head.agency if refusal_to_see_team(head) is None else None


def refusal_to_urge(person: Person, task: TaskFacts, due_state: str, holders: Sequence[str]) -> Refusal | None:
    """督办: a head presses whoever holds an open task whose deadline has passed or is near. `holders`: its
    assignee, or when nobody has claimed it, those it is offered to by name — a task open to a whole lane has
    nobody to press yet (assign it instead)."""
    if refusal_to_see_team(person) is not None:
        return Refusal("not_head", "只有负责人可以督办 (only a head may urge a task)")
    if not of_agency(person, task.agency):
        return Refusal("agency", AGENCY_REFUSAL.format(who=person.id))
    if (refused := closed(task)) is not None:
        return refused
    if due_state not in URGEABLE_DUE_STATES:
        return Refusal("on_time", "任务未超期也未临期，无需督办 (the task is neither overdue nor due soon: nothing "
                                  "to urge)")
    if not holders:
        return Refusal("no_holder", "任务尚无人签收，无人可督办；请先分派 (nobody holds this task yet: assign it "
                                    "first)")
    return None


# --- seeing a case and a task ----------------------------------------------------------------------------
# Who reads every case within their reach without taking part in it: heads supervise every case of their agency
# (行政处罚法第五十七条 负责人审查), auditors audit the register (全程留痕、可追溯), supervisors oversee the
# agencies below theirs (层级监督) — all read-only, and redacted unless members.
OVERSIGHT_ROLES = frozenset({HEAD_ROLE, AUDITOR_ROLE, SUPERVISOR_ROLE})
# Who only reads: never a member of a case, never adds to it.
READ_ONLY_ROLES = frozenset({ADMIN_ROLE, AUDITOR_ROLE, SUPERVISOR_ROLE})


def oversees(person: Person, case: CaseFacts) -> bool:
    """Whether the person reads the case by supervision or audit: a head of its agency; an auditor or a
    supervisor whose reach (their agency, `reads`) holds its agency."""
    if HEAD_ROLE in person.roles and of_agency(person, case.agency):
        return True
    return bool(SUBTREE_ROLES & person.roles) and reaches(person, case.agency)


def offered_by_lane(person: Person, case: CaseFacts) -> bool:
    """Whether the case offers `person` an open task by lane: a case of their agency, the task ready,
    unclaimed, not offered by name, of a role they hold, and not one they are barred from (回避) — they must
    read the case to decide to take it."""
    return of_agency(person, case.agency) and any(t.status == "ready" and t.assignee is None and not t.restricted and t.role in person.roles
               and person.id not in t.excluded for t in case.lane_offers)


def named_on_open_task(person: Person, case: CaseFacts) -> bool:
    """Whether the person is named on an open task of the case — the only way a person of another agency takes
    part in it (a 合议 member invited to its panel); once the task is done they read it no more."""
    return person.id in case.named_open


def may_see_case(person: Person, case: CaseFacts) -> bool:
    """Need to know: a case of their agency is read by its members (`CaseFacts.members`), by whom it offers an
    open task by lane, and by its heads; a case within their reach by auditors and supervisors (`oversees`);
    by no one else — an officer with no part in a case does not read it, nobody of another agency reads it.
    The administrator manages users and models only and reads none. A person of another agency named on an open
    task of it (`named_on_open_task`) reads it, redacted, while that task is open."""
    if not person.active or not person.roles - {ADMIN_ROLE}:
        return False
    if oversees(person, case) or named_on_open_task(person, case):
        return True
    return of_agency(person, case.agency) and (case.is_member(person) or offered_by_lane(person, case))


def refusal_to_see_case(person: Person, case: CaseFacts) -> Refusal | None:
    """`may_see_case` with the words a person reads when they may not."""
    if may_see_case(person, case):
        return None
    if not person.roles - {ADMIN_ROLE}:
        return Refusal("unseen", f"{person.id} 无权查看案件 (may not read cases)")
    if not of_agency(person, case.agency):  # and not within their reach as a supervisor or an auditor
        return Refusal("unseen", AGENCY_REFUSAL.format(who=person.id))
    return Refusal("unseen", f"{person.id} 未参与本案，无权查看 (you take no part in this case: only its members, "
                             "those it offers a task, heads and auditors may read it)")


def refusal_to_see_task(person: Person, task: TaskFacts, case: CaseFacts) -> Refusal | None:
    """A task shows the case's material: who may see the case (`may_see_case`) reads the tasks of their lane;
    heads, who supervise every step, and auditors, who read every case's record, read every task (redacted
    and sealed as on the case page); a person of another agency only the open task named to them."""
    if (refused := refusal_to_see_case(person, case)) is not None:
        return refused
    if (task.role in person.roles and of_agency(person, case.agency)) or oversees(person, case):
        return None
    if task.status == "ready" and (person.id in task.candidates or task.assignee == person.id):
        return None  # the task named to them (a 合议 member of another agency: their vote), while it is open
    return Refusal("unseen", f"此任务属于 {task.role} 环节，{person.id} 无权查看 "
                             f"(only the task's lane, heads and auditors may read it)")


def may_see_identity(person: Person, case: CaseFacts) -> bool:
    """The complainant's identity: to the case's members who hold an identity role (IDENTITY_ROLES) — the
    clerk who registered it, its own officers, the head who handles it; not to an officer or head who merely
    reads the case (offered a task by lane, or supervising), never to anyone of another agency (a supervisor
    of the agencies below reads their cases redacted)."""
    return (case.is_member(person) and bool(IDENTITY_ROLES & person.roles) and person.active
            and of_agency(person, case.agency))


# Why a 文书 or the dossier is withheld from a reader of the case (the page shows the list, not the file).
DOCUMENT_WITHHELD = ("此文书载有投诉举报人身份，仅本案的受理、承办人员和负责人可以下载 (this document names the "
                     "complainant: only the case's own intake clerk, officers and head may download it)")
DOSSIER_WITHHELD = ("案卷含载有投诉举报人身份的文书，仅本案的受理、承办人员和负责人可以下载 (the dossier holds documents "
                    "naming the complainant: only the case's own intake clerk, officers and head may download it)")


def may_download(person: Person, kind: str, case: CaseFacts) -> bool:
    """A 文书 of `kind` of a case the person may see: those naming the complainant only to who may see them."""
    return kind not in IDENTITY_DOCUMENT_KINDS or may_see_identity(person, case)


def may_download_dossier(person: Person, case: CaseFacts) -> bool:
    """The dossier (案卷) holds every 文书, the complainant's too."""
    return may_see_identity(person, case)


# --- evidence files --------------------------------------------------------------------------------------
def refusal_to_add_evidence(person: Person, case: CaseFacts, task: TaskFacts | None, *,
                            case_open: bool = True) -> Refusal | None:
    """Whether `person` may add an evidence file to the case — for `task`, or (None) to the case's files that
    证据登记 registers. For a task: only who may act on it now (its lane, not barred, not held by another; the
    signature is asked when the step is signed). For the case: its members who handle it — not a head or an
    auditor who only supervises or audits it, not the administrator. Never to a closed case: its record is
    complete (全过程记录)."""
    if not person.active:
        return Refusal("inactive", f"用户不存在或已停用 (unknown or inactive user): {person.id}")
    if not case_open:
        return Refusal("closed", "案件已结案，不能再添加证据 (the case is closed: no evidence can be added)")
    if task is not None:
        return refusal_to_act(person, task)
    if case.is_member(person) and of_agency(person, case.agency) and person.roles - READ_ONLY_ROLES:
        return None
    return Refusal("unseen", f"{person.id} 未参与办理本案，不能添加证据 (only those who handle this case may add "
                             "evidence to it)")


def refusal_to_hand_in_complaint_material(person: Person) -> Refusal | None:
    """Whether `person` may add a file to a complaint they are registering (before its case exists): the
    clerks who register complaints, as they may sign the registration."""
    if not person.active:
        return Refusal("inactive", f"用户不存在或已停用 (unknown or inactive user): {person.id}")
    if INTAKE_ROLE not in person.roles:
        return Refusal("unseen", f"{person.id} 不是受理人员，不能为投诉举报登记添加材料 (only intake clerks may add "
                                 "material to a complaint they register)")
    return None


def may_see_complaint_material(person: Person, case: CaseFacts) -> bool:
    """The files handed in with the complaint (listed in the registration's record): a letter, a photo or a
    recording may identify the complainant (its hand, voice, the camera's GPS), so they go only where the
    identity may (`may_see_identity`) — as the 投诉举报登记表 does."""
    return may_see_identity(person, case)


# --- sealed votes (合议) -----------------------------------------------------------------------------------
class Ballot(Protocol):
    """What sealing reads of a task of a case's history (engine.values.TaskView has it)."""

    @property
    def id(self) -> str: ...
    @property
    def spec_id(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def completed_by(self) -> str | None: ...


@dataclass(frozen=True)
class Sealing:
    """Which completed votes a viewer may not read yet, and which rounds are still open."""

    sealed_task_ids: frozenset[str]
    open_specs: frozenset[str]  # panel steps still waiting for votes

    def hides(self, task_id: str | None) -> bool:
        return task_id is not None and task_id in self.sealed_task_ids


def sealing_for(history: Sequence[Ballot], viewer_id: str | None, panel_size: int) -> Sealing:
    """A panel member's opinion and vote stay hidden from everyone but their author until the round closes, so
    no member votes under another's influence (README: 合议; the panel size is workflows/settings.json's).

    A round (one step of the panel lane) is closed when no instance of it is still open and at least
    `panel_size` members have voted.
    """
    by_spec: dict[str, list[Ballot]] = defaultdict(list)
    for task in history:
        if task.role == PANEL_ROLE:
            by_spec[task.spec_id].append(task)
    sealed: set[str] = set()
    open_specs: set[str] = set()
    for spec, tasks in by_spec.items():
        done = [t for t in tasks if t.status == "completed"]
        if any(t.status == "ready" for t in tasks) or len(done) < panel_size:
            open_specs.add(spec)
            sealed.update(t.id for t in done if t.completed_by != viewer_id)
    return Sealing(frozenset(sealed), frozenset(open_specs))


def owed_vote(person: Person, round_tasks: Sequence[tuple[str, TaskFacts]]) -> str | None:
    """The id of the vote `person` still owes in one round (its tasks as (id, facts)): none once they voted;
    else the one held by them, else an unclaimed one they may act on."""
    if any(t.status == "completed" and t.completed_by == person.id for _, t in round_tasks):
        return None
    open_ones = [(i, t) for i, t in round_tasks if t.status == "ready"]
    mine = next((i for i, t in open_ones if t.assignee == person.id and may_act(person, t)), None)
    return mine or next((i for i, t in open_ones if t.assignee is None and may_act(person, t)), None)


__all__ = [
    "AGENCY_REFUSAL", "AUDITOR_VIEW", "DOCUMENT_WITHHELD", "DOSSIER_WITHHELD", "HEAD_ROLE", "IDENTITY_DOCUMENT_KINDS", "IDENTITY_ROLES", "INTAKE_ROLE", "OVERSIGHT_ROLES", "PANEL_ROLE",
    "READ_ONLY_ROLES", "SUBTREE_ROLES", "SUPERVISOR_ROLE", "URGEABLE_DUE_STATES", "of_agency", "oversees",
    "reaches", "reads_subtree",
    "CaseFacts", "Person", "Refusal", "Sealing", "TaskFacts", "closed", "team_scope", "refusal_to_see_team",
    "refusal_to_urge", "eligible_assignees", "may_act", "may_claim",
    "may_download", "may_download_dossier", "may_see_case", "may_see_complaint_material", "may_see_identity", "may_unclaim", "offered_by_lane",
    "owed_vote", "refusal_to_act", "refusal_to_add_evidence", "refusal_to_assign",
    "refusal_to_hand_in_complaint_material", "refusal_to_be_assigned", "refusal_to_see_case",
    "refusal_to_see_task", "refusal_to_vote", "sealing_for", "stranded_message", "stranded_names",
]
