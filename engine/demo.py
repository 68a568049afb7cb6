"""Playing scenarios through the engine's use cases, task by task: the demo seed and the end-to-end tests.

Unlike `engine.spiff.scenarios.run_scenario` (in memory), every step here goes through `complete_task`
with its authorisation, validation, gates, locking and task table — exactly what a person does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.demo_users import DEMO_PIN
from engine.errors import CasetrailError
from engine.services import Services
from engine.spiff.clocks import MutableClock
from engine.spiff.driving import TIMER, Context, Scenario, Step, resolve, sample_form_data
from engine.spiff.scenarios import SCENARIOS
from engine.usecases.cases import case_data, open_case, show_case
from engine.usecases.tasks import complete_task, list_tasks, show_task
from engine.usecases.timers import run_timers
from engine.values import CaseView, CompleteTask, OpenCase, TaskView

INTAKE_USER = "clerk"
ROLE_DEFAULTS = {"intake": "clerk", "officer": "officer1", "legal": "legal", "head": "head",
                 "publisher": "publisher", "panel": "panel1"}


# Called before each step a person does, with the case number, the step and the clock: the demo seed adds
# evidence files to the steps whose forms take them.
BeforeStep = Callable[[str, Step, MutableClock], None]


@dataclass(frozen=True)
class Played:
    case: CaseView
    steps: int


# The demo's people are the city's (engine/demo_users.py); a cast plays a scenario with another agency's: the
# city's user id -> the one who stands in for them (in the scenario's actors and the people its forms name).
Cast = Mapping[str, str]


def pick_actor(task: TaskView, step: Step, cast: Cast | None = None) -> str:
    """Who does the step: the scenario's actor, else the assignee, a named candidate, or the role's default."""
    cast = cast or {}
    if step.actor:
        return cast.get(step.actor, step.actor)
    if task.assignee:
        return task.assignee
    default = ROLE_DEFAULTS.get(task.role, task.role)
    default = cast.get(default, default)
    if task.candidates and default not in task.candidates:
        return task.candidates[0]
    return default


def ready_task(svc: Services, case_number: str, step: Step, cast: Cast | None = None) -> TaskView:
    tasks = [t for t in list_tasks(svc, case=case_number) if t.spec_id == step.spec_id]
    if step.actor:
        actor = (cast or {}).get(step.actor, step.actor)
        tasks = [t for t in tasks if t.assignee in (None, actor)]
    if not tasks:
        ready = sorted({t.spec_id for t in list_tasks(svc, case=case_number)})
        raise CasetrailError(f"{case_number}: {step.spec_id} is not ready; ready: {ready}")
    return show_task(svc, tasks[0].id)


def play_step(svc: Services, case_number: str, step: Step, clock: MutableClock, *, pin: str | None = DEMO_PIN,
              cast: Cast | None = None) -> None:
    if step.spec_id == TIMER:
        case = show_case(svc, case_number)
        from engine.db.tables import CaseRow

        with svc.uow.read() as session:
            row = session.get(CaseRow, case.id)
            target = row.next_timer_at if row else None
        if step.until is not None:
            target = step.until(Context(clock(), case_data(svc, case_number), svc.settings, svc.calendar))
        if target is None:
            raise CasetrailError(f"{case_number}: no timer is waiting")
        clock.advance_to(target + dt.timedelta(seconds=1))
        run_timers(svc, clock=clock)
        return
    task = ready_task(svc, case_number, step, cast)
    ctx = Context(clock(), case_data(svc, case_number), svc.settings, svc.calendar)
    data = sample_form_data(task.form_schema, _cast(resolve(step.overrides, ctx), cast or {}), now=clock())
    complete_task(CompleteTask(task_id=task.id, user_id=pick_actor(task, step, cast), data=data, pin=pin),
                  svc=svc, clock=clock)


def _cast(value: Any, cast: Cast) -> Any:
    """The people a scenario's form values name (["officer1", "officer2"], "legal"), as the cast has them."""
    if isinstance(value, str):
        return cast.get(value, value)
    if isinstance(value, list):
        return [_cast(v, cast) for v in value]
    if isinstance(value, dict):
        return {k: _cast(v, cast) for k, v in value.items()}
    return value


def play(svc: Services, scenario: Scenario, *, start: dt.datetime, stop_before: int | None = None,
         step_gap: dt.timedelta = dt.timedelta(hours=1), pin: str | None = DEMO_PIN,
         before_step: BeforeStep | None = None, cast: Cast | None = None) -> Played:
    """Open a case with the scenario's intake and play its steps (all, or those before `stop_before`).

    Every actor signs with `pin` (the demo users all share DEMO_PIN); `before_step` is called before each step a
    person does. `cast`: another agency's people in place of the city's (its clerk registers the case, so the
    case is that agency's)."""
    clock = MutableClock(start)
    opened = open_case(OpenCase(user_id=(cast or {}).get(INTAKE_USER, INTAKE_USER), data=scenario.intake_data(now=start), pin=pin), svc=svc,
                       clock=clock)
    count = play_steps(svc, opened.number, scenario.steps[:stop_before], clock, step_gap=step_gap, pin=pin,
                       before_step=before_step, cast=cast)
    return Played(case=show_case(svc, opened.number), steps=count)


def play_steps(svc: Services, case_number: str, steps: Sequence[Step], clock: MutableClock, *,
               step_gap: dt.timedelta = dt.timedelta(hours=1), pin: str | None = DEMO_PIN,
               before_step: BeforeStep | None = None, cast: Cast | None = None) -> int:
    """Play `steps` on a case that is open already, each `step_gap` after the clock's time then; the steps played.

    For what a scenario leaves to its caller in between: a superior agency's flag for 挂牌督办, or the case a
    hand-over opened at another agency (played by that agency's `cast`)."""
    for step in steps:
        clock.advance_to(clock() + step_gap)
        if before_step is not None and step.spec_id != TIMER:
            before_step(case_number, step, clock)
        play_step(svc, case_number, step, clock, pin=pin, cast=cast)
    return len(steps)


__all__ = ["SCENARIOS", "BeforeStep", "Cast", "Played", "pick_actor", "play", "play_step", "play_steps", "ready_task"]
