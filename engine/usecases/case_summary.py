"""The case summary (案情摘要) above a judgement: a read-only projection of the signed steps, for one viewer.

The panel's vote, the legal review and the head's decision each open with it (the forms that say
`"x-case-summary": true`): the facts found, the evidence with its files, the violation and its legal basis, the
proposed measure against the 裁量基准 range, the party's statement or the hearing's result, the panel's tally
once its round has closed, the legal opinion once given. What goes in each section is declared by the forms
(engine/rules/case_summary.py).

Built from what was signed, never from a copy that can be edited unseen: the steps' values are those of their
step records (`CaseForViewer.history` reads them from step_records, engine/usecases/signed.py), the files are
those the records list, and the range is the model's own decision table run again on the signed values (the
range the workflow computed lives in its unsigned state) — the 裁量基准 among them, as the 调查终结报告 recorded
it for the case's agency, so changing an agency's benchmark later changes no summary of a case already reported. Built from the viewer's view of the case, so a vote
still sealed to them is not there to leak; a round is tallied only once it has closed. The complainant's
identity is in none of it: the sections take no intake field, and the material handed in with the complaint is
left out of the file list (who needs the complainant's identity reads it on the case page, where the duties
allow it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.db.repositories import Cases
from engine.rules import case_summary as rules
from engine.rules.redaction import redact_identity
from engine.services import Services
from engine.usecases.evidence import INTAKE_SEQ, list_evidence
from engine.usecases.viewer import CaseForViewer, TaskForViewer
from engine.values import Clock, EvidenceFileView, TaskView


@dataclass(frozen=True)
class SummaryEntry:
    """What one signed step says for one section: its fields marked for it, as signed."""

    section: str
    task_id: str
    spec_id: str
    name: str
    completed_at: dt.datetime | None
    record_seq: int
    values: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"section": self.section, "task_id": self.task_id, "spec_id": self.spec_id, "name": self.name,
                "completed_at": self.completed_at.isoformat() if self.completed_at else None,
                "record_seq": self.record_seq, "values": dict(self.values)}


@dataclass(frozen=True)
class BenchmarkRange:
    """The 裁量基准 range of the case's violation and 情节, and the latest proposed fine measured against it."""

    fine_min: float
    fine_max: float
    basis: str
    fine: float | None
    fine_task_id: str | None
    fine_field: str | None
    # Which published 裁量基准 the range is (《行政处罚法》第三十四条): the one the case recorded as its agency's.
    benchmark_id: str = ""
    benchmark_name: str = ""

    @property
    def within(self) -> bool | None:
        return rules.within(self.fine, self.fine_min, self.fine_max)

    def to_json(self) -> dict[str, Any]:
        return {"fine_min": self.fine_min, "fine_max": self.fine_max, "basis": self.basis, "fine": self.fine,
                "within": self.within, "benchmark": self.benchmark_id, "benchmark_name": self.benchmark_name}


@dataclass(frozen=True)
class PanelTally:
    """The last closed 合议 round: each option's votes and the majority (None: none)."""

    spec_id: str
    field: str  # the vote's field in the panel's form
    tally: rules.Tally

    def to_json(self) -> dict[str, Any]:
        return {"spec_id": self.spec_id, "field": self.field, "counts": [list(c) for c in self.tally.counts],
                "decision": self.tally.decision, "size": self.tally.size}


@dataclass(frozen=True)
class CaseSummary:
    case_id: int
    case_number: str
    respondent: str
    violation: str
    entries: tuple[SummaryEntry, ...] = ()
    evidence: tuple[EvidenceFileView, ...] = ()  # the files the signed steps took (not the complaint's material)
    benchmark: BenchmarkRange | None = None
    tally: PanelTally | None = None
    schemas: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)  # by spec id: the labels

    def section(self, name: str) -> tuple[SummaryEntry, ...]:
        return tuple(e for e in self.entries if e.section == name)

    def to_json(self) -> dict[str, Any]:
        return {"case": self.case_number, "respondent": self.respondent, "violation": self.violation,
                "sections": {s: [e.to_json() for e in self.section(s)] for s in rules.SECTIONS if s != rules.VOTE},
                "evidence": [{"id": f.id, "name": f.name, "sha256": f.sha256, "seq": f.seq} for f in self.evidence],
                "benchmark": self.benchmark.to_json() if self.benchmark else None,
                "tally": self.tally.to_json() if self.tally else None}


def task_case_summary(svc: Services, view: TaskForViewer, *, clock: Clock,
                      files: Sequence[EvidenceFileView] | None = None) -> CaseSummary | None:
    """The summary a task page opens with, if its form declares one (`x-case-summary`), else None."""
    if not rules.shows_summary(view.task.form_schema):
        return None
    return case_summary(svc, view.case, clock=clock, files=files)


def case_summary(svc: Services, view: CaseForViewer, *, clock: Clock,
                 files: Sequence[EvidenceFileView] | None = None) -> CaseSummary:
    """The case's summary as `view`'s viewer may see it. `files`: the case's files as `list_evidence` gave them
    to this viewer (read again when not given)."""
    signed = [t for t in view.completed if t.record_seq is not None and t.form_data is not None]
    schemas = view.form_schemas
    entries = tuple(_entries(signed, schemas))
    if files is None:
        files = list_evidence(svc, view.case.id, view.viewer.id)
    taken = tuple(f for f in files if f.state == "attached" and f.seq is not None and f.seq != INTAKE_SEQ)
    return CaseSummary(case_id=view.case.id, case_number=view.case.number, respondent=view.case.respondent,
                       violation=view.case.violation, entries=entries, evidence=taken,
                       benchmark=_benchmark(svc, view, signed, clock), tally=_tally(svc, view),
                       schemas={t.spec_id: schemas.get(t.spec_id) for t in signed})


def _entries(signed: Sequence[TaskView], schemas: Mapping[str, Any]) -> list[SummaryEntry]:
    out = []
    for task in signed:
        marked = rules.summary_fields(schemas.get(task.spec_id))
        data = redact_identity(dict(task.form_data or {}), identity_shown=False)  # need-to-know: never here
        for section in rules.SECTIONS:
            if section == rules.VOTE:
                continue  # a vote is tallied, never listed
            values = {k: data[k] for k, s in marked.items() if s == section and data.get(k) not in (None, "", [])}
            if values:
                out.append(SummaryEntry(section, task.id, task.spec_id, task.name, task.completed_at,
                                        task.record_seq or 0, values))
    return out


def _tally(svc: Services, view: CaseForViewer) -> PanelTally | None:
    """The last round of the latest step whose form has a `vote` field — only once it has closed: while a vote of
    it is open, or sealed to this viewer, nothing (engine.rules.duties.sealing_for decides when a round closes)."""
    rounds: dict[str, tuple[str, list[TaskView]]] = {}
    for task in view.completed:
        marked = rules.summary_fields(view.form_schemas.get(task.spec_id))
        vote = next((k for k, s in marked.items() if s == rules.VOTE), None)
        if vote is not None:
            rounds.setdefault(task.spec_id, (vote, []))[1].append(task)
    for spec_id, (vote, tasks) in reversed(list(rounds.items())):
        if spec_id in view.sealing.open_specs:
            return None  # the latest deliberation is still voting: no earlier tally stands for it
        if any(view.sealing.hides(t.id) or t.form_data is None or t.record_seq is None for t in tasks):
            return None
        votes = [(t.form_data or {}).get(vote) for t in tasks]
        return PanelTally(spec_id, vote, rules.tally(rules.last_round(votes, svc.settings.panel_size)))
    return None


def _benchmark(svc: Services, view: CaseForViewer, signed: Sequence[TaskView], clock: Clock) -> BenchmarkRange | None:
    """The range of the decision the latest signed fine field names, run on the signed values in order."""
    fine: tuple[TaskView, str, rules.BenchmarkSpec] | None = None
    data: dict[str, Any] = dict(view.intake)
    for task in signed:
        data.update(task.form_data or {})
        for key, spec in rules.benchmark_fields(view.form_schemas.get(task.spec_id)).items():
            if isinstance((task.form_data or {}).get(key), int | float):
                fine = (task, key, spec)
    if fine is None:
        return None
    from engine.spiff.decisions import DecisionUnavailable, decide

    task, key, spec = fine
    with svc.uow.read() as session:
        definition = svc.definition(session, Cases(session).get(view.case.id).definition_id)
    try:
        out = decide(definition, spec.decision, data, clock=clock, settings=svc.settings, calendar=svc.calendar)
        low, high = float(out[spec.min]), float(out[spec.max])
    except (DecisionUnavailable, KeyError, TypeError, ValueError):
        return None
    basis = str(out.get(spec.basis) or "") if spec.basis else ""
    value = (task.form_data or {}).get(key)
    policy = svc.settings.discretion
    named = policy.outputs if policy is not None and policy.decision == spec.decision else {}
    return BenchmarkRange(low, high, basis, float(value) if isinstance(value, int | float) else None, task.id, key,
                          benchmark_id=str(out.get(named.get("id", "")) or ""),
                          benchmark_name=str(out.get(named.get("name", "")) or ""))


__all__ = ["BenchmarkRange", "CaseSummary", "PanelTally", "SummaryEntry", "case_summary", "task_case_summary"]
