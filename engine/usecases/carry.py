"""What a task's form starts with: the values the case already recorded (issue 15, engine/rules/carry.py).

The 事先告知书 and the 处罚决定书 start from the 调查终结报告, the 合议's tally and the 裁量基准 DMN; a 送达回执 shows
the 文号 of the 文书 it serves. The values come from the case's data as the ready step sees it (the workflow's
own data, so DMN outputs and script results too), redacted for the viewer like everything else they are
shown, and only for the person who may complete the step: a page only reads, it never writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.agencies import case_settings
from engine.db.repositories import Cases
from engine.errors import Conflict
from engine.rules import carry
from engine.rules.redaction import redact_identity
from engine.services import Services
from engine.spiff.benchmarks import in_force
from engine.usecases.viewer import TaskForViewer
from engine.values import TaskView

CASE_RECORD = ("案件记录", "The case record")  # a variable no step's form recorded (a DMN's or script's result)


@dataclass(frozen=True)
class CarriedFrom:
    """Where a carried value comes from: a step of the case (its spec id, for its name in the page's
    language) or a named source of the model (合议, 听证权利, the agency's wording)."""

    name: str
    name_en: str
    spec_id: str | None = None


@dataclass(frozen=True)
class FineRange:
    """The 裁量基准's range beside a fine (行政处罚法 Art 34), with the rule it comes from."""

    low: float
    high: float
    basis: str = ""


@dataclass(frozen=True)
class CarriedForm:
    """A task form's first values, each with where it came from; the 裁量基准 ranges; the fields shown, not typed."""

    values: Mapping[str, Any] = field(default_factory=dict)
    sources: Mapping[str, CarriedFrom] = field(default_factory=dict)
    ranges: Mapping[str, FineRange] = field(default_factory=dict)
    fixed: frozenset[str] = frozenset()  # readOnly: shown from the case, never an input
    numbered: str | None = None  # the field the engine writes the step's 文号 into when it is signed

    def initial(self, typed: Mapping[str, Any] | None) -> dict[str, Any]:
        """The form's values: what was typed wins over what was carried; fixed fields are never typed."""
        return {**self.values, **{k: v for k, v in (typed or {}).items() if k not in self.fixed}}


NOTHING = CarriedForm()


def carried_form(svc: Services, view: TaskForViewer, *, at: dt.datetime) -> CarriedForm:
    """The carried values of `view`'s form, for the viewer the engine let act on it (else nothing).

    One read of the case's workflow state, only for a form that declares where its values come from."""
    task = view.task
    schema = task.form_schema
    if not view.may_act or task.status != "ready" or not _carries(schema):
        return NOTHING
    with svc.uow.read() as session:
        case = Cases(session).get(task.case_id)
        definition = svc.definition(session, case.definition_id)
        data = _step_data(svc, definition, case.state, task.id, at)
        settings = case_settings(session, svc.settings, case.agency_code)  # its agency's
    wording = settings.raw.get("wording") or {}
    data = dict(redact_identity(data, identity_shown=view.case.identity_shown))
    data["wording"] = {k: v for k, v in wording.items() if not k.startswith("$")}
    found = carry.carried(schema, data)
    history = view.case.completed
    try:  # what signing will record as in force (the 裁量基准), shown beforehand; signing refuses what cannot be
        shown = in_force(definition, settings, schema)
    except Conflict:
        shown = {}
    return CarriedForm(
        values={**{c.key: c.value for c in found}, **shown},
        sources={c.key: _origin(c.source, history) for c in found},
        ranges={r.key: FineRange(r.low, r.high, r.basis) for r in carry.ranges(schema, data)},
        fixed=carry.read_only_fields(schema), numbered=carry.document_number_field(schema),
    )


def _carries(schema: Mapping[str, Any] | None) -> bool:
    nodes = ((schema or {}).get("properties") or {}).values()
    return any(isinstance(n, Mapping) and (carry.FROM in n or carry.RANGE_FROM in n or carry.READ_ONLY in n)
               for n in nodes)


def _step_data(svc: Services, definition: Any, state: bytes, task_id: str, at: dt.datetime) -> dict[str, Any]:
    """The data the ready step `task_id` sees (the case's data when it is no longer ready)."""
    from engine.spiff.instance import ProcessInstance

    instance = ProcessInstance.restore(definition, state, clock=lambda: at, settings=svc.settings,
                                       calendar=svc.calendar)
    return next((t.data for t in instance.ready_user_tasks() if t.id == task_id), instance.data)


def _origin(source: carry.Source, history: tuple[TaskView, ...]) -> CarriedFrom:
    """The latest step whose form recorded the source's variable; else the source's own title; else the case."""
    step = next((t for t in reversed(history) if t.form_data and source.root in t.form_data), None)
    if step is not None:
        return CarriedFrom(step.name, step.name, step.spec_id)
    if source.title:
        return CarriedFrom(source.title, source.title_en or source.title)
    return CarriedFrom(*CASE_RECORD)


__all__ = ["CarriedForm", "CarriedFrom", "FineRange", "carried_form"]
