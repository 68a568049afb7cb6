"""The engine's closed sets of words: task and case states, case outcomes, journal event kinds.

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


class CaseStatus(StrEnum):
    """A case row's `status`: open until its process instance has ended."""

    OPEN = "open"
    CLOSED = "closed"


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
