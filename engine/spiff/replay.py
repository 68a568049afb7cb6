"""The auditor's question: is this recorded sequence of steps a path the model allows?

The recorded (task_spec_id, form_data) steps are re-run through a fresh instance of the definition. Time
is not recorded as steps, so when the next recorded step is not ready the replay lets the earliest pending
timer fire (only timers can move a case without a person) and tries again. Gates are checked as well: a
path that passes the model's structure but breaks a legal gate is not a path the model allows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.rules.deadlines import calendar_for
from engine.rules.settings import Settings, load_settings
from engine.rules.workdays import WorkingCalendar

if TYPE_CHECKING:
    from engine.spiff.definitions import LoadedDefinition

MAX_TIMER_HOPS = 50


@dataclass(frozen=True)
class PathResult:
    ok: bool
    failing_index: int | None
    reason: str | None
    outcome: str | None = None


def _start_moment(data: dict[str, Any]) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(data.get("received_at")))
        if moment.tzinfo is not None:
            return moment
    except ValueError:
        pass
    return dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)


def replay_path(definition: LoadedDefinition, steps: list[tuple[str, dict[str, Any]]], *,
                settings: Settings | None = None, calendar: WorkingCalendar | None = None,
                start_data: dict[str, Any] | None = None) -> PathResult:
    """Re-run the steps. The first step may be the start event (its id and the intake data)."""
    from engine.spiff.instance import ProcessInstance
    from engine.spiff.scenarios import MutableClock

    settings = settings or load_settings()
    calendar = calendar or calendar_for(settings)
    steps = list(steps)
    start_id = definition.start_meta.get("id", "start")
    offset = 0
    if start_data is None:
        if not steps or steps[0][0] not in (start_id, "start"):
            return PathResult(False, 0, "缺少立案登记（开始事件）数据 (the path must begin with the start event)")
        start_data = steps[0][1]
        offset = 1
    clock = MutableClock(_start_moment(start_data))
    try:
        instance = ProcessInstance.start(definition, dict(start_data), clock=clock, settings=settings,
                                         calendar=calendar)
    except Exception as exc:  # a model failing on this data is a failed replay, not a crash of the auditor
        return PathResult(False, 0, f"开始事件失败 (start failed): {exc}")
    for index, (spec_id, form_data) in enumerate(steps[offset:], start=offset):
        task = _ready_for(instance, spec_id, form_data, clock)
        if task is None:
            ready = sorted({t.spec_id for t in instance.ready_user_tasks()})
            return PathResult(False, index, f"模型不允许此步骤 (step not allowed here): {spec_id}; "
                                            f"当时待办 (ready then): {', '.join(ready) or '-'}")
        gate = instance.evaluate_gates(task.id, form_data)
        if gate is not None:
            return PathResult(False, index, f"法定关卡拒绝 (legal gate refused): {gate.article} {gate.message}")
        try:
            instance.complete(task.id, dict(form_data))
        except Exception as exc:
            return PathResult(False, index, f"流程执行出错 (the model failed): {exc}")
        clock.advance_to(clock() + dt.timedelta(minutes=1))
    return PathResult(True, None, None, instance.outcome)


def _ready_for(instance: Any, spec_id: str, form_data: dict[str, Any], clock: Any) -> Any:
    for _ in range(MAX_TIMER_HOPS):
        ready = [t for t in instance.ready_user_tasks() if t.spec_id == spec_id]
        actor = form_data.get("_actor")
        if actor is not None:
            ready = [t for t in ready if t.assignee_hint in (None, actor)] or ready
        if ready:
            return ready[0]
        due = instance.next_timer_due()
        if due is None:
            return None
        clock.advance_to(due + dt.timedelta(seconds=1))
        instance.fire_due_timers()
    return None
