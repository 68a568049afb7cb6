"""Finished history cut out of a case's task tree, so that a long case steps as fast as a fresh one.

SpiffWorkflow keeps every task a case ever ran in one tree, and a loop of the model (证据登记 again and again,
法制审核 sent back for 补正 again and again) hangs each round under the one before: the tree is as deep as the case
is long (~1,000 tasks deep at 300 steps). SpiffWorkflow walks it from its root at every task completion
(`Workflow.update_waiting_tasks`), at every engine step (`get_tasks(state=READY)`) and in the end join, so a step
costs O(history) and a replay (verify) O(steps²); and `Task.is_descendant_of` / `find_ancestor` call themselves
once per ancestor — a boundary event's join asks it of itself up to the root — so at ~1,000 levels a step fails
with RecursionError (and `TaskIterator` stops descending at depth 1,000). SpiffWorkflow is a dependency: rather
than patch those, the tree is kept shallow.

What SpiffWorkflow and the engine read of finished tasks is near the unfinished ones: a task inherits its
parent's data; a boundary event's join looks up its split (its grandparent) and the split's children; a step's
deadline comes from the timers beside it (`ProcessInstance._due_of`: parent and grandparent); a multi-instance
parent reads its finished instances; a sub-process's end hands over its `last_task`'s data; an end join waiting
since an early warning path keeps its end event's data. Everything else of the past is read by nothing: the
legal history is the signed step records, and the state's serializer already drops finished tasks' data.

So after each change `prune` keeps, per (sub)workflow: the root; every unfinished task and all its descendants;
the `last_task`; up to `KEPT_LEVELS` ancestors of each of those, with their direct children. Every other task
is finished and is dropped; each kept task hangs from its nearest kept ancestor, in the order of the original
depth-first walk. That keeps every ancestor relation between kept tasks and the order in which SpiffWorkflow's
walks meet them (the order decides which of several ready tasks runs first), so the case runs on exactly as
before, over a tree whose size no longer grows with the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

__all__ = ["KEPT_LEVELS", "PrunedStep", "prune"]

# Ancestors kept above each unfinished task: the parent (data), the grandparent (a boundary event's split, a
# multi-instance parent's deadline timers), and one more for margin.
KEPT_LEVELS = 3
_LIVE = TaskState.NOT_FINISHED_MASK | TaskState.ERROR


@dataclass(frozen=True)
class PrunedStep:
    """A completed flow node dropped from the tree (for `ProcessInstance.completed_path`)."""

    at: float  # its last_state_change
    bpmn_id: str


def prune(workflow: BpmnWorkflow) -> list[PrunedStep]:
    """Drop the finished history of the workflow and of its active sub-processes; the completed flow nodes
    dropped (completed sub-processes dropped with their call activity included)."""
    dropped: list[PrunedStep] = []
    for wf in [workflow, *workflow.get_active_subprocesses()]:
        dropped.extend(_prune_one(workflow, wf))
    return dropped


def _prune_one(top: BpmnWorkflow, wf: Any) -> list[PrunedStep]:
    tasks: dict[UUID, Any] = wf.tasks
    root = wf.task_tree
    if root is None or root.has_state(_LIVE) or wf.completed:
        return []
    seeds = [t for t in tasks.values() if t._state & _LIVE]
    if not seeds:
        return []
    if wf.last_task is not None and wf.last_task.id in tasks:
        seeds.append(wf.last_task)
    keep = {root.id}
    for task in seeds:
        keep.add(task.id)
        node = task
        for _ in range(KEPT_LEVELS):
            parent_id = node._parent
            if parent_id is None:
                break
            node = tasks[parent_id]
            keep.add(node.id)
            keep.update(node._children)
    if len(keep) == len(tasks):  # a tree pruned before (a restored state): everything is kept, no walk needed
        return []
    order = _preorder(root, tasks)
    # the descendants of an unfinished task: a multi-instance parent's finished instances, predicted branches
    live_roots = {t.id for t in seeds if t._state & _LIVE}
    under_live: set[UUID] = set()
    for task in order:
        if task.id in live_roots or task._parent in under_live:
            under_live.add(task.id)
    keep |= under_live
    if len(keep) == len(tasks):
        return []
    return _contract(top, wf, order, keep)


def _preorder(root: Any, tasks: dict[UUID, Any]) -> list[Any]:
    """The tasks in SpiffWorkflow's depth-first order (children in their order), without recursion."""
    order, stack = [], [root]
    while stack:
        task = stack.pop()
        order.append(task)
        stack.extend(tasks[c] for c in reversed(task._children))
    return order


def _contract(top: BpmnWorkflow, wf: Any, order: list[Any], keep: set[UUID]) -> list[PrunedStep]:
    tasks: dict[UUID, Any] = wf.tasks
    dropped = [t for t in order if t.id not in keep]
    if any(t._state & _LIVE for t in dropped):  # cannot happen (every unfinished task is kept); never lose one
        return []
    for task in dropped:
        if task.id in top.subprocesses and not top.subprocesses[task.id].completed:
            return []  # an unfinished sub-process under a finished call activity: leave the tree as it is
    # each kept task's nearest kept ancestor, its new children in the original depth-first order
    nearest: dict[UUID, UUID | None] = {}
    children: dict[UUID, list[UUID]] = {t.id: [] for t in order if t.id in keep}
    for task in order:
        parent = task._parent
        above = None if parent is None else (parent if parent in keep else nearest[parent])
        nearest[task.id] = above
        if task.id in keep and above is not None:
            children[above].append(task.id)
    for task_id, kids in children.items():
        task = tasks[task_id]
        task._children = kids
        task._parent = nearest[task_id]
    steps = []
    for task in dropped:
        del tasks[task.id]
        top.event_manager.tasks.pop(task.id, None)
        steps.extend(_completed([task]))
        steps.extend(_drop_subprocesses(top, task.id))
    return steps


def _completed(tasks: Any) -> list[PrunedStep]:
    return [PrunedStep(t.last_state_change, t.task_spec.bpmn_id) for t in tasks
            if t.has_state(TaskState.COMPLETED) and t.task_spec.bpmn_id is not None]


def _drop_subprocesses(top: BpmnWorkflow, task_id: UUID) -> list[PrunedStep]:
    """A dropped call activity's completed sub-process (and any it called) goes with it."""
    steps: list[PrunedStep] = []
    pending = [task_id]
    while pending:
        sub = top.subprocesses.pop(pending.pop(), None)
        if sub is not None:
            steps.extend(_completed(sub.tasks.values()))
            pending.extend(sub.tasks)
    return steps
