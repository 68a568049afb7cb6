"""Workflow state without the spec: old, long cases restore as fast as new ones.

Spiff's default serializer writes the whole parsed process spec (every task spec, every DMN table) into
each workflow's state and parses it back on every restore. Here the spec objects of a loaded definition
are shared by all cases on that definition (cached per sha256), and a case's state holds only its task
tree and data. Restoring binds the state to the spec objects already in memory.
"""

from __future__ import annotations

import json
import zlib
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from engine.spiff.timers import register_timer_converter

COMPRESSED = b"Z1\n"
STATE_FORMAT = "casetrail-state/1"


_FINISHED = TaskState.COMPLETED | TaskState.CANCELLED


def keeps_data(task: Task) -> bool:
    """Whether any task may still read this task's data.

    A finished task whose children are all finished is history: no task will inherit from it again.
    Cancelled tasks never pass data on. Finished leaves are history too, except the end events (a
    sub-process hands its end data to the call activity) and multi-instance instances (their output is
    merged into the parent). Predicted tasks have no data yet.
    """
    if not task.data or task.has_state(TaskState.CANCELLED):
        return False
    if not task.has_state(TaskState.COMPLETED):
        return True
    if task.children:
        return not all(c.has_state(_FINISHED) for c in task.children)
    parent = task.parent
    return isinstance(task.task_spec, EndEvent) or (parent is not None and isinstance(parent.task_spec, LoopTask))


class TrimmingTaskConverter(TaskConverter):
    """Stores data only where a task may still need it; history keeps state and spec, not data.

    The step records in the database are the history of who entered what; the workflow state only has
    to carry what the process still needs. This keeps restore and serialize cost flat as a case grows.
    """

    def to_dict(self, task: Task) -> dict[str, Any]:
        if not keeps_data(task):
            data: dict[str, Any] = {}
            delta: dict[str, Any] = {}
        elif task.parent is None or not keeps_data(task.parent):
            data, delta = self.registry.convert(task.data), {}
        else:
            data = {}
            delta = {"updates": DeepMerge.get_updated_keys(task.parent.data, task.data),
                     "deletions": DeepMerge.get_deleted_keys(task.parent.data, task.data)}
        return {
            "id": str(task.id), "parent": str(task._parent) if task.parent is not None else None,
            "children": [str(child) for child in task._children], "last_state_change": task.last_state_change,
            "state": task.state, "task_spec": task.task_spec.name, "triggered": task.triggered,
            "internal_data": self.registry.convert(task.internal_data), "data": data, "delta": delta,
        }


class StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    def __init__(self, target_class: type, registry: Any, spec: Any, subprocess_specs: dict[str, Any]) -> None:
        self.spec = spec
        self.subprocess_specs = subprocess_specs
        super().__init__(target_class, registry)

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        # A finished call activity's sub-workflow is history too: its result is already in the parent task.
        active = {k: v for k, v in workflow.subprocesses.items() if not v.completed}
        dct["subprocesses"] = self.mapping_to_dict(active)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        workflow = self.target_class(self.spec, self.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class StateSerializer:
    """Serializes the state of workflows that run on one definition (identified by its sha256)."""

    def __init__(self, spec: Any, subprocess_specs: dict[str, Any], sha256: str) -> None:
        registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
        register_timer_converter(registry)
        TrimmingTaskConverter(Task, registry)
        StateOnlyWorkflowConverter(BpmnWorkflow, registry, spec, subprocess_specs)
        self._serializer = BpmnWorkflowSerializer(registry)
        self.sha256 = sha256

    def dumps(self, workflow: BpmnWorkflow) -> bytes:
        body = self._serializer.serialize_json(workflow)
        header = json.dumps({"format": STATE_FORMAT, "definition": self.sha256})
        # The JSON state compresses ~6x; level 1 costs well under a millisecond and keeps 100,000 cases small.
        return COMPRESSED + zlib.compress((header + "\n" + body).encode("utf-8"), 1)

    def loads(self, state: bytes) -> BpmnWorkflow:
        if state.startswith(COMPRESSED):
            state = zlib.decompress(state[len(COMPRESSED):])
        header_text, _, body = state.decode("utf-8").partition("\n")
        header = json.loads(header_text)
        if header.get("format") != STATE_FORMAT:
            raise ValueError(f"未知的流程状态格式 (unknown state format): {header.get('format')}")
        if header.get("definition") != self.sha256:
            raise ValueError("流程状态属于另一个流程定义版本 (state belongs to another definition version)")
        return self._serializer.deserialize_json(body)
