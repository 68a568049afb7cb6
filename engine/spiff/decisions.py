"""A DMN decision of a definition evaluated on given data, outside any running case.

The case summary measures a proposed fine against the 裁量基准 range (discretion_benchmark.dmn). The range the
workflow computed sits in the case's workflow state, which no signature covers; the summary recomputes it from
the signed steps' data with the case's own version of the decision table (part of the definition's sha256) —
the same rows, the same restricted expressions, so it is the range the model gave.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser

from engine.rules.settings import Settings
from engine.rules.workdays import WorkingCalendar
from engine.spiff.definitions import LoadedDefinition
from engine.spiff.scripting import CasetrailScriptEngine
from engine.spiff.validation import parse_xml

# (definition sha256, decision id) -> the decision table's engine: parsed once per process and version.
_ENGINES: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()


class DecisionUnavailable(Exception):
    """The decision cannot be evaluated on this data (unknown decision, a missing input, an expression error)."""


def _engine(definition: LoadedDefinition, decision_id: str) -> Any:
    key = (definition.sha256, decision_id)
    with _LOCK:
        found = _ENGINES.get(key)
    if found is not None:
        return found
    parser = BpmnDmnParser()
    for name, content in sorted(definition.files.items()):
        if name.endswith(".dmn"):
            parser.add_dmn_xml(parse_xml(name, content), filename=name)
    if decision_id not in parser.dmn_parsers:
        raise DecisionUnavailable(f"决策表不存在 (no decision {decision_id})")
    engine = parser.get_engine(decision_id, None)
    with _LOCK:
        _ENGINES.setdefault(key, engine)
    return engine


def decide(definition: LoadedDefinition, decision_id: str, data: Mapping[str, Any], *,
           clock: Callable[[], dt.datetime], settings: Settings, calendar: WorkingCalendar) -> dict[str, Any]:
    """The outputs of the first matching rule of `decision_id` for `data` ({} when no rule matches).

    The rules run in the restricted environment of the model's scripts (a task-like value carries the data and
    the script engine, which is all SpiffWorkflow's DMN engine reads of a task)."""
    engine = _engine(definition, decision_id)
    names = {"settings": settings.for_process(), **data}
    task = SimpleNamespace(data=names, workflow=SimpleNamespace(
        script_engine=CasetrailScriptEngine(clock, settings, calendar)))
    try:
        return dict(engine.result(task))
    except Exception as exc:  # a missing input or a failing expression: no range rather than a wrong one
        raise DecisionUnavailable(f"决策无法求值 (decision {decision_id} cannot be evaluated): {exc}") from exc


__all__ = ["DecisionUnavailable", "decide"]
