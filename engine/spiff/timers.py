"""Timers on the engine's clock instead of `datetime.now()`.

SpiffWorkflow's `TimeDateEventDefinition.has_fired` compares with the wall clock, so a case replayed or
tested with a clock of 2026-09 would fire a 2026-10 deadline at once (and a clock in the past would never
fire one). Parsed timeDate timers are replaced by `ClockTimeDateEventDefinition`, which asks the workflow's
script engine for the time. Duration and cycle timers are refused at load: every statutory limit is a
date computed by `due()`/`warn()` from the province settings and the working-day calendar (行政处罚法
Art 85), never a raw ISO duration that would count holidays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)


def parse_moment(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"定时器时间必须带时区 (timer moment needs a timezone): {value}")
    return moment.astimezone(dt.UTC)


class ClockTimeDateEventDefinition(TimeDateEventDefinition):
    """A timeDate timer that fires when the script engine's clock passes the evaluated moment.

    The first evaluation is frozen in the task's internal data (`event_value`), as Spiff does, so a timer's
    moment never moves once the step is waiting; `deadline` keeps the statutory deadline that a `warn()`
    timer guards, for showing the due date on the task, and `evaluated_at` the clock's moment then, so the
    one deliberate move — an announced holiday schedule entered for a year the deadline was counted into
    (`recompute_timer`) — counts from the same start.
    """

    def has_fired(self, my_task: Any) -> bool:
        engine = my_task.workflow.script_engine
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value, _ = _evaluate(my_task, self.expression, engine.clock())
        if parse_moment(event_value) <= engine.clock():
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


def _evaluate(my_task: Any, expression: str, moment: dt.datetime) -> tuple[str, str]:
    """Evaluate the timer's expression as at `moment` and freeze (event_value, deadline) in the task."""
    engine = my_task.workflow.script_engine
    restricted = engine.restricted
    clock = restricted.clock
    restricted.clock = lambda: moment  # `due()`/`now()` without a start count from this moment
    try:
        restricted.last_deadline = None
        event_value = engine.evaluate(my_task, expression)
        parse_moment(event_value)
        deadline = restricted.last_deadline or event_value
    finally:
        restricted.clock = clock
    my_task._set_internal_data(event_value=event_value, deadline=deadline, evaluated_at=moment.isoformat())
    return event_value, deadline


@dataclass(frozen=True)
class MovedTimer:
    timer: str
    deadline_before: str
    deadline_after: str


def recompute_timer(my_task: Any) -> MovedTimer | None:
    """Evaluate a waiting, unfired timer again under the engine's current calendar, from the moment it was
    first evaluated; None when its deadline stays. Timers frozen before `evaluated_at` was kept count from
    the moment the task last changed state (when it began to wait, which is when it was evaluated)."""
    event = my_task.task_spec.event_definition
    before = my_task._get_internal_data("deadline")
    if before is None or my_task._get_internal_data("event_fired", False):
        return None
    stamp = my_task._get_internal_data("evaluated_at")
    moment = parse_moment(stamp) if stamp else dt.datetime.fromtimestamp(my_task.last_state_change, dt.UTC)
    _, after = _evaluate(my_task, event.expression, moment)
    if parse_moment(after) == parse_moment(before):
        return None
    return MovedTimer(my_task.task_spec.bpmn_id or my_task.task_spec.name, before, after)


def replace_timers(task_specs: Iterator[Any]) -> list[tuple[Any, str]]:
    """Swap timeDate definitions for the clock-aware class; return (spec, kind) of refused timers."""
    refused: list[tuple[Any, str]] = []
    for spec in task_specs:
        event = getattr(spec, "event_definition", None)
        if not isinstance(event, TimerEventDefinition):
            continue
        if isinstance(event, DurationTimerEventDefinition | CycleTimerEventDefinition):
            refused.append((spec, type(event).__name__))
            continue
        if isinstance(event, TimeDateEventDefinition) and not isinstance(event, ClockTimeDateEventDefinition):
            spec.event_definition = ClockTimeDateEventDefinition(
                event.name, event.expression, description=event.description
            )
    return refused


def attached_timers(task_specs: Iterator[Any]) -> dict[str, list[str]]:
    """Activity id -> the timeDate expressions of the boundary timers attached to it.

    Read from SpiffWorkflow's parsed specs (a boundary event follows its activity's `BoundaryEventSplit`),
    so the engine never parses the BPMN text a second time."""
    found: dict[str, list[str]] = {}
    for spec in task_specs:
        event = getattr(spec, "event_definition", None)
        if not isinstance(event, TimeDateEventDefinition):
            continue
        for split in spec.inputs:
            if not split.name.endswith(".BoundaryEventSplit"):
                continue
            for activity in split.outputs:
                if activity is not spec and activity.bpmn_id and not hasattr(activity, "event_definition"):
                    found.setdefault(activity.bpmn_id, []).append(event.expression)
    return found


@dataclass(frozen=True)
class AppliedLimit:
    """The statutory time limit a timer applies, and the start it counts from (None: from when it is set)."""

    limit_id: str
    start: str | None


def applied_limit(expression: str, data: Mapping[str, Any], limit_ids: Collection[str]) -> AppliedLimit | None:
    """Which limit a timer's expression applies to this case's data, and from when: the expression evaluated
    as the model evaluates it (the restricted environment), with due()/warn() noting their arguments
    instead of counting days. A name the case does not have yet reads as None (a clock not started has no
    start). None when no known limit is applied or the expression cannot be read: better no basis shown
    than a wrong one."""
    from engine.spiff.scripting import LimitProbe, ScriptRejected

    try:
        applied = LimitProbe().probe(expression, _Absent(data))
    except (ScriptRejected, TypeError, ValueError, KeyError):
        return None
    if applied is None or applied[0] not in limit_ids:
        return None
    limit, start = applied
    return AppliedLimit(limit, start if isinstance(start, str) and start else None)


class _Absent(dict):  # type: ignore[type-arg]
    """Case data in which a name not set yet reads as None."""

    def __missing__(self, key: str) -> None:
        return None


def register_timer_converter(registry: Any) -> None:
    """Let the serializer convert the subclass like its parent (used if a spec is ever serialized)."""
    TimerConditionalEventDefinitionConverter(ClockTimeDateEventDefinition, registry)
