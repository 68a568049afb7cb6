"""The auditor's view: a frozen report, one result per step and check, each with a reason.

A report has no truth value (`bool(report)` raises) so `if report:` cannot silently pass; callers
ask `.ok` or `.first_failure`. A check can be NOT_CHECKED (e.g. no BPMN replay supplied): shown to
the auditor, it does not fail the case, but a missing trust root, missing records or an unknown
algorithm always FAIL (fail closed).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Check(enum.StrEnum):
    """Names of the checks, stable for JSON output and tests."""

    TRUST_ROOT = "trust_root"
    RECORDS = "records"
    MANIFEST = "manifest"
    FILES = "files"
    TREE_HEAD = "tree_head"
    LOG_CONSISTENCY = "log_consistency"
    PATH = "path"
    SIGNATURE = "signature"
    CERTIFICATE = "certificate"
    ACTOR = "actor"
    SEQUENCE = "sequence"
    CHAIN = "chain"
    TIME = "time"
    ASSIGNMENT = "assignment"
    LOG_INCLUSION = "log_inclusion"
    DOCUMENTS = "documents"
    # The evidence files a record lists (`_evidence_files`): present, with the signed digest and size.
    EVIDENCE = "evidence"
    # A version-2 record's sealed fields: the disclosed values and salts give the signed digests.
    DISCLOSURE = "disclosure"
    # The seal on the sealed 文书 (告知书, 决定书): intact, the platform's, the handling agency's (engine).
    SEAL = "seal"
    # Online only: the engine's copies of what the records say (the tables pages read) equal the records.
    PROJECTION = "projection"


class Status(enum.StrEnum):
    """Outcome of one check."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_CHECKED = "not_checked"


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome and the reason a person can read."""

    check: Check
    status: Status
    reason: str = ""

    @property
    def passed(self) -> bool:
        """True only for PASSED (NOT_CHECKED is not a pass)."""
        return self.status is Status.PASSED

    @property
    def failed(self) -> bool:
        """True for FAILED."""
        return self.status is Status.FAILED

    def to_json_obj(self) -> dict[str, Any]:
        """{check, passed, status, reason}."""
        return {"check": self.check.value, "passed": self.passed, "status": self.status.value, "reason": self.reason}


def passed(check: Check, reason: str = "") -> CheckResult:
    """A passed check."""
    return CheckResult(check, Status.PASSED, reason)


def failed(check: Check, reason: str) -> CheckResult:
    """A failed check (a reason is required)."""
    return CheckResult(check, Status.FAILED, reason)


def not_checked(check: Check, reason: str) -> CheckResult:
    """A check that could not be made with the inputs given."""
    return CheckResult(check, Status.NOT_CHECKED, reason)


@dataclass(frozen=True)
class Failure:
    """The first thing that does not add up: which step (None = the case as a whole), check, why."""

    seq: int | None
    check: Check
    reason: str

    def __str__(self) -> str:
        where = f"step {self.seq}" if self.seq is not None else "case"
        return f"{where}: {self.check.value}: {self.reason}"


@dataclass(frozen=True)
class StepResult:
    """All checks of one step record."""

    seq: int
    task_spec_id: str
    actor: str
    checks: tuple[CheckResult, ...]
    task_name: str = ""  # the step's name as the record states it (e.g. 行政处罚决定): what a report names it by

    @property
    def ok(self) -> bool:
        """No check of this step failed."""
        return not any(c.failed for c in self.checks)

    def check(self, name: Check) -> CheckResult:
        """The result of one named check (KeyError if it was not run)."""
        for c in self.checks:
            if c.check is name:
                return c
        raise KeyError(name)

    def __bool__(self) -> bool:
        raise TypeError("a StepResult has no truth value; use .ok")


@dataclass(frozen=True)
class CaseReport:
    """Verification of one case: case-level checks, then one `StepResult` per record in order."""

    case_id: str
    case_number: str
    case_checks: tuple[CheckResult, ...]
    steps: tuple[StepResult, ...]

    @property
    def ok(self) -> bool:
        """Valid only if there is at least one step and no check failed anywhere."""
        return bool(self.steps) and self.first_failure is None

    @property
    def first_failure(self) -> Failure | None:
        """Case-level failures first (they undermine every step), then the first failing step. A copy of the
        records that differs from them (`projection`, case-level) undermines no record: it comes last."""
        failed_ = Status.FAILED  # the status compared directly: `verify --all` asks this of every case
        copies = None
        for c in self.case_checks:
            if c.status is failed_:
                if c.check is not Check.PROJECTION:
                    return Failure(None, c.check, c.reason)
                copies = copies or Failure(None, c.check, c.reason)
        for step in self.steps:
            for c in step.checks:
                if c.status is failed_:
                    return Failure(step.seq, c.check, c.reason)
        if not self.steps:
            return Failure(None, Check.RECORDS, "no step records: nothing to verify")
        return copies

    def failures(self) -> list[Failure]:
        """Every failure, in report order (the GUI lists them all; the CLI names the first)."""
        out = [Failure(None, c.check, c.reason) for c in self.case_checks if c.failed]
        out += [Failure(s.seq, c.check, c.reason) for s in self.steps for c in s.checks if c.failed]
        return out

    def step(self, seq: int) -> StepResult:
        """The result for the record at position `seq` (1-based)."""
        return self.steps[seq - 1]

    def case_check(self, name: Check) -> CheckResult:
        """One case-level check by name (KeyError if absent)."""
        for c in self.case_checks:
            if c.check is name:
                return c
        raise KeyError(name)

    def __bool__(self) -> bool:
        raise TypeError("a CaseReport has no truth value; use .ok or .first_failure")

    def to_json_obj(self) -> dict[str, Any]:
        """Machine-readable report (the CLI's --json)."""
        first = self.first_failure
        return {
            "case_id": self.case_id, "case_number": self.case_number, "ok": self.ok,
            "first_failure": None if first is None else
            {"seq": first.seq, "check": first.check.value, "reason": first.reason},
            "case_checks": [c.to_json_obj() for c in self.case_checks],
            "steps": [{"seq": s.seq, "task_spec_id": s.task_spec_id, "task_name": s.task_name, "actor": s.actor,
                       "ok": s.ok,
                       "checks": [c.to_json_obj() for c in s.checks]} for s in self.steps],
        }

    def to_text(self) -> str:
        """Human-readable report: one line per step, failures spelled out."""
        lines = [f"case {self.case_number or self.case_id}: {'VALID' if self.ok else 'INVALID'}"]
        lines += [f"  [{c.status.value}] {c.check.value}: {c.reason}" for c in self.case_checks if not c.passed]
        for s in self.steps:
            lines.append(f"  step {s.seq} {s.task_spec_id} by {s.actor}: {'ok' if s.ok else 'FAILED'}")
            lines += [f"    [{c.status.value}] {c.check.value}: {c.reason}" for c in s.checks if not c.passed]
        first = self.first_failure
        if first is not None:
            lines.append(f"first failure: {first}")
        return "\n".join(lines)
