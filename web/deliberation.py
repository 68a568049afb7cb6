"""合议 (collegial deliberation): each panel member records an opinion and a vote; votes stay sealed from
the others until all have voted; then the result, with the dissenting opinions (不同意见) recorded."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template

from engine import PANEL_ROLE, TaskStatus, TaskView, case_for_viewer, list_tasks, show_task
from web.schema_form import Field, build_fields, display_value
from web.security import current_user, role_required, svc

# Named for the panel (合议组) it serves; its URLs keep /deliberation.
bp = Blueprint("panel", __name__, url_prefix="/deliberation")

VIEW_ROLES = ("panel", "head", "officer", "legal")


@dataclass(frozen=True)
class Round:
    spec_id: str
    name: str
    fields: tuple[Field, ...]
    done: tuple[TaskView, ...]
    waiting: tuple[TaskView, ...]
    sealed: bool
    tally: tuple[tuple[str, int], ...]
    majority: str | None
    dissent: tuple[TaskView, ...]
    vote_field: Field | None


def _vote_field(fields: tuple[Field, ...]) -> Field | None:
    by_key = {f.key: f for f in fields}
    return by_key.get("vote") or next((f for f in fields if f.kind in ("enum", "boolean")), None)


def rounds_of(history: tuple[TaskView, ...], sealed_specs: frozenset[str]) -> list[Round]:
    specs: dict[str, list[TaskView]] = {}
    for task in history:
        if task.role == PANEL_ROLE:
            specs.setdefault(task.spec_id, []).append(task)
    rounds = []
    for spec, tasks in specs.items():
        fields = build_fields(show_task(svc(), tasks[0].id).form_schema)
        vote = _vote_field(fields)
        done = tuple(t for t in tasks if t.status == TaskStatus.COMPLETED)
        sealed = spec in sealed_specs
        tally: Counter[str] = Counter()
        if vote is not None and not sealed:
            tally.update(display_value(vote, (t.form_data or {}).get(vote.key)) for t in done)
        ranked = tally.most_common()
        majority = ranked[0][0] if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]) else None
        dissent = tuple(t for t in done if vote is not None and majority is not None
                        and display_value(vote, (t.form_data or {}).get(vote.key)) != majority)
        waiting = tuple(t for t in tasks if t.status == TaskStatus.READY)
        rounds.append(Round(spec, tasks[0].name, fields, done, waiting, sealed, tuple(ranked), majority, dissent, vote))
    return rounds


@bp.get("")
@role_required(*VIEW_ROLES)
def index() -> Any:
    user = current_user()
    assert user is not None
    mine = [t for t in list_tasks(svc(), user_id=user.id) if t.role == PANEL_ROLE]
    return render_template("deliberation/index.html", mine=mine)


@bp.get("/<int:case_id>")
@role_required(*VIEW_ROLES)
def case_round(case_id: int) -> Any:
    user = current_user()
    assert user is not None
    ctx = case_for_viewer(svc(), case_id, user.id)
    rounds = rounds_of(ctx.history, ctx.sealing.open_specs)
    my_form = show_task(svc(), ctx.owed_vote) if ctx.owed_vote else None  # the vote the engine says they owe
    return render_template("deliberation/case.html", ctx=ctx, case=ctx.case, rounds=rounds, my_task=my_form,
                           fields=build_fields(my_form.form_schema) if my_form else (), values={}, errors={},
                           display_value=display_value)
