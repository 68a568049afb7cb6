"""The engine's closed sets of words: task and case states, case outcomes, journal event kinds, notice kinds,
what an evidence file is for.

Each is a StrEnum: a member is the very string stored in the database and shown to templates (it compares equal
to the string and formats as it), so rows written before these names existed read back unchanged. Python code
names the member, never the bare string, so a misspelt state is an AttributeError rather than a silent miss.
"""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    """A task row's `status`: open for work, done with a signed step, or withdrawn by the model."""

    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # the model moved on without it (a boundary timer, another branch)


class FilePurpose(StrEnum):
    """An evidence file row's `purpose` (migration 0021): evidence, or the party's signature drawn on the screen —
    a file of its step's signed record like evidence, but not among the case's evidence (lists, 证据登记)."""

    EVIDENCE = "evidence"
    PARTY_SIGNATURE = "party_signature"


class CaseStatus(StrEnum):
    """A case row's `status`: open until its process instance has ended."""

    OPEN = "open"
    CLOSED = "closed"


class AgencyLevel(StrEnum):
    """Where an agency sits in the platform's tree (省 → 市 → 县/区 → 派出机构): the level of 级别管辖 and of the
    supervisors who read the agencies below them."""

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"  # 县、县级市、市辖区
    STATION = "station"  # 派出机构 (a district office's township unit)


class CaseOutcome(StrEnum):
    """How a case ended, as the model's end events set `outcome` (the CLI's and the dossier's vocabulary too)."""

    OPEN = "open"  # not ended yet
    NOT_ACCEPTED = "not_accepted"
    TRANSFERRED = "transferred"
    NOT_FILED = "not_filed"
    SUMMARY_PENALTY = "summary_penalty"
    PENALTY_PUBLISHED = "penalty_published"
    NO_PENALTY = "no_penalty"
    REFERRED_JUDICIAL = "referred_judicial"


class CaseEventKind(StrEnum):
    """The kind of a case's journal entry (case_events): what happened, signed or not."""

    OPENED = "opened"
    COMPLETED = "completed"
    CLAIMED = "claimed"
    UNCLAIMED = "unclaimed"
    ASSIGNED = "assigned"
    TIMER = "timer"
    TASK_CANCELLED = "task_cancelled"
    REPAIRED = "repaired"
    URGED = "urged"  # a head's 督办 of an overdue or soon-due task (signed)


class NoticeKind(StrEnum):
    """Why a person is told about a task (notifications, issue 15): the inbox row's and the e-mail's `kind`."""

    OFFERED = "offered"  # a new task offered to the person's group or to them by name
    ASSIGNED = "assigned"  # a task given to the person (an assignment by the model or a reassignment)
    RETURNED = "returned"  # the case came back to them for 补正 (a correction loop of the model)
    DUE_SOON = "due_soon"  # the task's deadline is within the horizon of settings.json `notifications`
    OVERDUE = "overdue"  # the task's deadline has passed
    URGED = "urged"  # a supervisor urged the task on (督办)
