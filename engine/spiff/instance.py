"""A running case: start, restore, complete user tasks, fire due timers, serialize.

The clock is a parameter: timers compare with it (engine.spiff.timers), and `now()`/`due()` in the model
read it, so tests and replays are deterministic and a worker fires a deadline exactly when it is due.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.enums import CaseOutcome
from engine.errors import Conflict
from engine.rules.settings import Settings
from engine.rules.workdays import WorkingCalendar
from engine.spiff.definitions import LoadedDefinition
from engine.spiff.history import PrunedStep, prune
from engine.spiff.scripting import CasetrailScriptEngine, ScriptRejected
from engine.spiff.timers import ClockTimeDateEventDefinition, MovedTimer, parse_moment, recompute_timer
from engine.spiff.validation import Gate

__all__ = ["MovedTimer", "ProcessInstance", "ReadyTask", "TaskNotReady", "UnmergedInstances"]

# The stage of a case whose process has ended (the model's stages are its tasks' `stage` properties).
ENDED_STAGE = "closed"


class TaskNotReady(Conflict):
    """The task is not (or no longer) waiting for a person: completed, cancelled or unknown."""


@dataclass(frozen=True)
class ReadyTask:
    id: str
    spec_id: str
    name: str
    role: str
    stage: str | None
    document: str | None
    form_schema_name: str | None
    assignee_hint: str | None
    candidates_hint: list[str] | None
    due: dt.datetime | None
    mi_index: int | None
    data: dict[str, Any]


@dataclass(frozen=True)
class UnmergedInstances:
    """A loop or multi-instance task (a 合议's votes) whose finished instances never reached it.

    Before the merges were wired at load (engine.spiff.definitions.wire_instance_merges), an instance
    completed in another process than the one that created it was never merged: its parent waits for ever.
    """

    spec_id: str
    instance_ids: tuple[str, ...]  # the finished, unmerged instances, in the order they finished


class ProcessInstance:
    def __init__(self, definition: LoadedDefinition, workflow: BpmnWorkflow, engine: CasetrailScriptEngine) -> None:
        self.definition = definition
        self.workflow = workflow
        self.engine = engine
        self._front: tuple[list[Any], list[Any]] | None = None  # (ready user tasks, ready+waiting), per change
        # finished history dropped from the tree since this instance was made (engine.spiff.history)
        self._pruned: list[PrunedStep] = []

    # -- life cycle
    @classmethod
    def start(cls, definition: LoadedDefinition, data: dict[str, Any], *, clock: Callable[[], dt.datetime],
              settings: Settings, calendar: WorkingCalendar) -> ProcessInstance:
        """Start a case with the intake data and run engine steps to the first wait."""
        engine = CasetrailScriptEngine(clock, settings, calendar)
        workflow = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=engine)
        start_data = dict(data)
        start_data.setdefault("settings", settings.for_process())
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(start_data)
        instance = cls(definition, workflow, engine)
        instance._advance()
        return instance

    @classmethod
    def restore(cls, definition: LoadedDefinition, state: bytes, *, clock: Callable[[], dt.datetime],
                settings: Settings, calendar: WorkingCalendar) -> ProcessInstance:
        engine = CasetrailScriptEngine(clock, settings, calendar)
        workflow = definition.serializer.loads(state)
        workflow.script_engine = engine
        instance = cls(definition, workflow, engine)
        instance._prune()  # a state written before the history was pruned is as deep as its case is long
        return instance

    def serialize(self) -> bytes:
        return self.definition.serializer.dumps(self.workflow)

    def _advance(self) -> None:
        self._front = None
        self.workflow.do_engine_steps()
        self._prune()
        self._front = None

    def _prune(self) -> None:
        self._pruned.extend(prune(self.workflow))

    def _scan(self) -> tuple[list[Any], list[Any]]:
        """One walk over the task tree per change of the case (long cases have long trees)."""
        if self._front is None:
            metas = self.definition.metas
            active = [t for t in self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
                      if t.task_spec.bpmn_id is not None]
            ready = [t for t in active if t.state == TaskState.READY and t.task_spec.manual
                     and t.task_spec.bpmn_id in metas]
            self._front = (ready, active)
        return self._front

    # -- user tasks
    def _ready_tasks(self) -> list[Any]:
        return self._scan()[0]

    def ready_user_tasks(self) -> list[ReadyTask]:
        return [self._ready(t) for t in self._ready_tasks()]

    def ready_task_data(self, task_id: str) -> dict[str, Any] | None:
        """A copy of the data of the ready user task `task_id` (as `ready_user_tasks` gives it); None if it is not
        one. Without making every ready task's view: their deadlines are walked from the tree."""
        return next((dict(t.data) for t in self._ready_tasks() if str(t.id) == task_id), None)

    def _ready(self, task: Any) -> ReadyTask:
        meta = self.definition.metas[task.task_spec.bpmn_id]
        data = task.data
        assignee = data.get(meta.assignee_from) if meta.assignee_from else None
        candidates = data.get(meta.candidates_from) if meta.candidates_from else None
        mi_index = None
        if meta.multi_instance:
            key = task.internal_data.get("key_or_index")
            mi_index = int(key) if isinstance(key, int) else None
        return ReadyTask(
            id=str(task.id), spec_id=meta.spec_id, name=meta.name, role=meta.role, stage=meta.stage,
            document=meta.document, form_schema_name=meta.form,
            assignee_hint=assignee if isinstance(assignee, str) else None,
            candidates_hint=[c for c in candidates if isinstance(c, str)] if isinstance(candidates, list) else None,
            due=self._due_of(task), mi_index=mi_index, data=dict(data),
        )

    def _due_of(self, task: Any) -> dt.datetime | None:
        """The statutory deadline of a step: from a timer attached to it (or to its multi-instance parent)."""
        node = task
        for _ in range(2):
            parent = node.parent
            if parent is None:
                return None
            dues = [parse_moment(c._get_internal_data("deadline")) for c in parent.children
                    if c is not node and isinstance(getattr(c.task_spec, "event_definition", None),
                                                    ClockTimeDateEventDefinition)
                    and c._get_internal_data("deadline")]
            if dues:
                return min(dues)
            node = parent
        return None

    def _task(self, task_id: str) -> Any:
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except (ValueError, KeyError):
            task = None
        if task is None or task.state != TaskState.READY or task.task_spec.bpmn_id not in self.definition.metas:
            raise TaskNotReady(f"任务不存在或不处于待办状态 (task is not ready): {task_id}")
        return task

    def complete(self, task_id: str, form_data: dict[str, Any]) -> None:
        """Set the form data on the task, complete it and run engine steps to the next wait."""
        task = self._task(task_id)
        task.set_data(**dict(form_data))
        task.run()
        self._advance()

    def evaluate_gates(self, task_id: str, form_data: dict[str, Any], actor: str | None = None) -> Gate | None:
        """The first legal gate that refuses this submission. A gate that cannot be evaluated refuses.

        `actor` (or `_actor` in form_data) is the user submitting; an `_actor` inherited from an earlier
        step's data is never taken for the current one. The gate reads the task's data over the case's: what a
        parallel branch set and this task's branch has not (an open 挂牌督办's `supervision_open`) is read too.
        """
        task = self._task(task_id)
        return self._gate(task.task_spec.bpmn_id, {**self.data, **task.data}, form_data, actor)

    def evaluate_message_gates(self, start_id: str, form_data: dict[str, Any], actor: str) -> Gate | None:
        """The gates of a message start event (a step taken without a task): over the case's data."""
        if self.completed:
            raise TaskNotReady(f"案件流程已结束 (the case's process has ended): {start_id}")
        return self._gate(start_id, self.data, form_data, actor)

    def _gate(self, spec_id: str, data: dict[str, Any], form_data: dict[str, Any], actor: str | None) -> Gate | None:
        names = {k: v for k, v in data.items() if k != "_actor"}
        names.update(form_data)
        if actor is not None:
            names["_actor"] = actor
        for gate in self.definition.gates(spec_id):
            try:
                refused = bool(self.engine.restricted.evaluate(gate.refuse_if, names))
            except (ScriptRejected, KeyError, TypeError, ValueError) as exc:
                return replace(gate, message=f"{gate.message}（无法核对：{exc}）",
                               message_en=gate.message_en and f"{gate.message_en}; it could not be checked: {exc}")
            if refused:
                return gate.worded(names)
        return None

    def receive(self, start_id: str, form_data: dict[str, Any]) -> None:
        """Send the BPMN message of the message start event `start_id` with the form as its payload (`_actor` in
        it: who took the step), and run engine steps to the next wait. The event sub-process it starts runs beside
        the procedure; a case whose process has ended, or a version without that start, refuses."""
        start = self.definition.message_starts.get(start_id)
        if start is None or self.completed:
            raise TaskNotReady(f"此环节不可用 (the step cannot be taken on this case now): {start_id}")
        before = {t.id for t in self.workflow.get_tasks(state=TaskState.COMPLETED)}
        subprocesses = set(self.workflow.subprocesses)
        case_data = self.data
        self._front = None
        self.workflow.catch(BpmnEvent(MessageEventDefinition(start.message), payload=dict(form_data)))
        # BPMN gives an event sub-process the process's data as it is when the event comes; SpiffWorkflow starts it
        # from the data the process started with (the intake only). Its tasks take the case's data of now, under
        # what the event itself brought (the message's payload).
        for key, sub in self.workflow.subprocesses.items():
            if key in subprocesses:
                continue
            base = self.workflow.get_task_from_id(sub.parent_task_id).data if sub.parent_task_id else {}
            for task in sub.get_tasks():
                brought = {k: v for k, v in task.data.items() if k not in base or base[k] != v}
                task.data = {**deepcopy(case_data), **brought}
        self._advance()
        started = [t for t in self.workflow.get_tasks(state=TaskState.COMPLETED | TaskState.STARTED)
                   if t.task_spec.bpmn_id == start_id and t.id not in before]
        if not started:
            raise TaskNotReady(f"流程未接收此消息 (the process did not take the message): {start.message}")

    # -- instances that never reached their parent (cases written before the merges were wired)
    def unmerged_instances(self) -> list[UnmergedInstances]:
        found = []
        for task in self.workflow.get_tasks(state=TaskState.STARTED):
            spec = task.task_spec
            if not isinstance(spec, LoopTask):
                continue
            merged = set(task.internal_data.get("merged", ()))
            done = sorted((c for c in task.children if c.task_spec.name == spec.task_spec
                           and c.state == TaskState.COMPLETED and str(c.id) not in merged),
                          key=lambda c: c.last_state_change)
            if done:
                found.append(UnmergedInstances(spec.bpmn_id or spec.name, tuple(str(c.id) for c in done)))
        return found

    def merge_unmerged_instances(self) -> list[UnmergedInstances]:
        """Merge what SpiffWorkflow would have merged, in the order the instances finished, then run on."""
        found = self.unmerged_instances()
        for stuck in found:
            for instance_id in stuck.instance_ids:
                child = self.workflow.get_task_from_id(UUID(instance_id))
                parent = child.parent
                parent.task_spec.merge_child(parent.workflow, child)
        if found:
            self._advance()
        return found

    # -- timers
    def _waiting_timers(self) -> list[Any]:
        return [t for t in self._scan()[1] if t.state == TaskState.WAITING
                and isinstance(getattr(t.task_spec, "event_definition", None), ClockTimeDateEventDefinition)]

    def next_timer_due(self) -> dt.datetime | None:
        moments = [parse_moment(v) for t in self._waiting_timers()
                   if (v := t._get_internal_data("event_value")) is not None]
        return min(moments) if moments else None

    def recompute_timers(self, since: dt.datetime) -> list[MovedTimer]:
        """Evaluate again the waiting timers whose deadline is at or after `since` (the start of a year
        whose holiday schedule just became known) under the current calendar; the moved ones."""
        moved = [m for t in self._waiting_timers()
                 if (d := t._get_internal_data("deadline")) is not None and parse_moment(d) >= since
                 and (m := recompute_timer(t)) is not None]
        self._front = None
        return moved

    def fire_due_timers(self) -> list[str]:
        """Fire every timer due by the clock; return the ids of the timer events fired."""
        fired: list[str] = []
        for _ in range(100):  # a fired timer may lead to another that is already due
            before = {t.id: t for t in self._waiting_timers()}
            self._front = None
            self.workflow.refresh_timers()
            self._advance()
            # A fired timer leaves WAITING and is not cancelled (timers interrupted by it are).
            now_fired = [t for t in before.values() if t.state in (TaskState.READY, TaskState.COMPLETED)]
            if not now_fired:
                break
            fired.extend(t.task_spec.bpmn_id for t in now_fired)
        return fired

    # -- what the case looks like
    @property
    def completed(self) -> bool:
        return bool(self.workflow.is_completed())

    def _active(self) -> list[Any]:
        return self._scan()[1]

    @property
    def data(self) -> dict[str, Any]:
        """The case's data as the model sees it: merged from the tasks at the front of the process."""
        if self.completed:
            return dict(self.workflow.data)
        merged: dict[str, Any] = {}
        active = sorted(self._active(), key=lambda t: t.last_state_change)
        if not active and self.workflow.last_task is not None:
            active = [self.workflow.last_task]
        for task in active:
            merged.update(task.data)
        return merged

    @property
    def outcome(self) -> str:
        return str(self.data.get("outcome") or CaseOutcome.OPEN)

    @property
    def stage(self) -> str:
        if self.completed:
            return ENDED_STAGE
        ready = [t for t in self._ready_tasks() if not self.definition.metas[t.task_spec.bpmn_id].supervision]
        for task in ready:
            stage = self.definition.metas[task.task_spec.bpmn_id].stage
            if stage:
                return stage
        for task in self._active():
            stage = self._enclosing_stage(task)
            if stage:
                return stage
        return str(self.definition.start_meta.get("stage", "intake"))

    def _enclosing_stage(self, task: Any) -> str | None:
        workflow = task.workflow
        while workflow.parent_task_id is not None:
            parent = self.workflow.get_task_from_id(workflow.parent_task_id)
            stage = self.definition.call_stages.get(parent.task_spec.bpmn_id)
            if stage:
                return stage
            workflow = parent.workflow
        return None

    def completed_path(self) -> list[str]:
        """Flow node ids completed, in order (multi-instance children and engine glue left out); of the history
        pruned from the tree (engine.spiff.history), what this instance pruned itself."""
        done = [PrunedStep(t.last_state_change, t.task_spec.bpmn_id)
                for t in self.workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id is not None]
        done.extend(self._pruned)
        done.sort(key=lambda t: t.at)
        path: list[str] = []
        for step in done:
            bpmn_id = step.bpmn_id
            if path and path[-1] == bpmn_id:
                continue  # the instances of a multi-instance task and its parent count once
            path.append(bpmn_id)
        return path
