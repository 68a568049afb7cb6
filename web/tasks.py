"""My tasks and my groups' tasks; claiming, (re)assigning, and the task page with its generated form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from engine import (
    DUE_STATES,
    AssignTask,
    CarriedForm,
    ClaimTask,
    CompleteTask,
    Conflict,
    DiscardDraft,
    DraftTooLarge,
    DraftView,
    LegalGateRefused,
    NotFound,
    SaveDraft,
    SealMissing,
    SigningError,
    TaskForViewer,
    TaskView,
    UnclaimTask,
    ValidationError,
    assign_task,
    carried_form,
    claim_task,
    complete_task,
    discard_draft,
    due_state,
    list_evidence,
    load_draft,
    save_draft,
    show_task,
    task_case_summary,
    task_for_viewer,
    task_page,
    unclaim_task,
)
from web.case_context import days_left
from web.drafts import draft_values, posted_fields, saved_at
from web.evidence import form_for_case, with_case_files
from web.i18n import gate_refusal, task_label, translate
from web.labels import intake_schema, person
from web.ops import timed_completion
from web.pickers import with_agencies, with_people
from web.schema_form import Field, build_fields, error_key, parse_form
from web.security import CASE_ROLES, current_user, now, role_required, svc
from web.uploads import evidence_widget

bp = Blueprint("tasks", __name__, url_prefix="/tasks")


@dataclass(frozen=True)
class TaskFilters:
    """The list's filters as the query string gives them (the page's links carry them on)."""

    stage: str = ""
    violation: str = ""
    due: str = ""  # "overdue" | "soon" | ""
    number: str = ""
    party: str = ""
    mine: bool = False


WORK_ROLES = ("intake", "officer", "panel", "legal", "head", "publisher", "supervisor")


def _int_arg(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, default))
    except ValueError:
        return default


@bp.get("")
@role_required(*WORK_ROLES)
def task_list() -> Any:
    user = current_user()
    assert user is not None
    filters = TaskFilters(
        stage=request.args.get("stage", ""), violation=request.args.get("violation", ""),
        due=request.args.get("due", "") if request.args.get("due") in DUE_STATES else "",
        number=request.args.get("number", "")[:64], party=request.args.get("party", "")[:100],
        mine=request.args.get("mine") == "1",
    )
    page = task_page(svc(), user_id=user.id, stage=filters.stage, violation=filters.violation, due=filters.due,
                     case_number=filters.number, party=filters.party, mine=filters.mine, now=now(),
                     page=_int_arg("page", 1), per_page=current_app.config["CASETRAIL_TASKS_PER_PAGE"])
    return render_template("tasks/list.html", page=page, filters=filters, now=now(), days_left=days_left)


def _load(task_id: str) -> TaskForViewer:
    """The task as the logged-in user may see it (the engine refuses a reader outside its lane: 403)."""
    user = current_user()
    assert user is not None
    try:
        return task_for_viewer(svc(), task_id, user.id, at=now())
    except NotFound:
        abort(404)


def _task(task_id: str) -> TaskView:
    """The task a POST acts on (its form's schema, its name for the message): the use case checks the rest."""
    try:
        return show_task(svc(), task_id)
    except NotFound:
        abort(404)


def _render_task(view: TaskForViewer, *, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                 problem: str | None = None, article: str | None = None, status: int = 200,
                 draft: DraftView | None = None, carried: CarriedForm | None = None) -> Any:
    task, ctx = view.task, view.case
    carried = carried or carried_form(svc(), view, at=now())
    schemas = {t.id: ctx.form_schemas.get(t.spec_id) for t in ctx.completed if t.form_data}
    files = list_evidence(svc(), ctx.case.id, ctx.viewer.id)
    upload = evidence_widget(ctx.case.id, task.id, task.form_schema, ctx.viewer.id,
                             url_for("tasks.task_page_view", task_id=task.id)) if view.may_add_evidence else None
    summary = task_case_summary(svc(), view, clock=current_app.extensions["casetrail.clock"], files=files)
    return render_template(
        "tasks/task.html", task=task, view=view, ctx=ctx, summary=summary,
        fields=build_fields(_drawn(task, files, view.may_act)),
        evidence=[f for f in files if f.task_id == task.id and f.state == "staged"],
        values=view.shown(values), errors=errors or {}, problem=problem, article=article, may_act=view.may_act,
        now=now(), days_left=days_left, due_state=due_state(task.due_at, now(), svc().settings.due_soon), build_fields=build_fields,
        schemas=schemas, intake_fields=build_fields(intake_schema()), assignees=view.assignees, upload=upload,
        draft=draft, draft_saved=saved_at(draft.updated_at) if draft else None,
        autosave_seconds=int(svc().settings.drafts.autosave.total_seconds()), carried=carried,
    ), status


def _drawn(task: TaskView, files: list[Any], may_act: bool) -> dict[str, Any] | None:
    """The form as drawn for its case: the case's evidence files to pick, and — for who may act — the people."""
    schema = with_case_files(task.form_schema, files)
    return with_agencies(with_people(schema, task.case_id, now()), task.case_id) if may_act else schema


@bp.get("/<task_id>")
@role_required(*CASE_ROLES)
def task_page_view(task_id: str) -> Any:
    view = _load(task_id)
    carried = carried_form(svc(), view, at=now())  # what the case already recorded: never typed twice
    # What the person typed and left (saved as a draft) fills the form again, as typed; only theirs, only while
    # they may act on the task.
    draft = load_draft(svc(), user_id=view.case.viewer.id, task_id=view.task.id, now=now()) if view.may_act else None
    if draft is not None:
        return _render_task(view, values=draft_values(_fields(view.task), draft), draft=draft, carried=carried)
    return _render_task(view, values=carried.initial(view.task.form_data), carried=carried)


def _fields(task: TaskView) -> tuple[Field, ...]:
    """The task's form as the person acting on it posts it (the case's evidence files to pick from)."""
    user = current_user()
    assert user is not None
    return build_fields(form_for_case(task.form_schema, task.case_id, user.id))


@bp.post("/<task_id>/draft")
@role_required(*WORK_ROLES)
def save_task_draft(task_id: str) -> Any:
    """The form's "save draft" button (without JavaScript; the page autosaves through /api): keep what was typed,
    as typed, and come back to it. Refused (too large, a closed task): the page again with it, unsaved."""
    task = _task(task_id)
    user = current_user()
    assert user is not None
    try:
        draft = save_draft(SaveDraft(user_id=user.id, task_id=task.id, fields=posted_fields(request.form)),
                           svc=svc(), clock=current_app.extensions["casetrail.clock"])
    except (DraftTooLarge, ValidationError, Conflict) as exc:
        values = parse_form(_fields(task), request.form).data
        return _render_task(_load(task.id), values=values, problem=translate("draft.not_saved", detail=exc.message),
                            status=exc.http_status)
    flash(translate("draft.saved_at", time=saved_at(draft.updated_at)), "success")
    return redirect(url_for("tasks.task_page_view", task_id=task.id))


@bp.post("/<task_id>/draft/discard")
@role_required(*WORK_ROLES)
def discard_task_draft(task_id: str) -> Any:
    task = _task(task_id)
    user = current_user()
    assert user is not None
    if discard_draft(DiscardDraft(user_id=user.id, task_id=task.id), svc=svc(),
                     clock=current_app.extensions["casetrail.clock"]):
        flash(translate("draft.discarded"), "info")
    return redirect(url_for("tasks.task_page_view", task_id=task.id))


@bp.post("/<task_id>")
@role_required(*WORK_ROLES)
def complete(task_id: str) -> Any:
    task = _task(task_id)  # the engine checks who may complete it
    user = current_user()
    assert user is not None
    parsed = parse_form(_fields(task), request.form)
    pin = request.form.get("pin") or None
    try:
        with timed_completion():
            complete_task(CompleteTask(task_id=task.id, user_id=user.id, data=parsed.data, pin=pin), svc=svc(),
                          clock=current_app.extensions["casetrail.clock"])
    except ValidationError as exc:
        errors = {error_key(k): v for k, v in exc.errors.items()}
        errors.update(parsed.errors)  # our own wording for values that were not even numbers
        problem = translate("form.invalid") if errors else exc.message
        return _render_task(_load(task.id), values=parsed.data, errors=errors, problem=problem, status=422)
    except LegalGateRefused as exc:
        problem, article = gate_refusal(exc)
        return _render_task(_load(task.id), values=parsed.data, problem=problem, article=article, status=422)
    except SigningError as exc:  # wrong PIN, revoked or expired certificate: nothing signed, nothing written
        return _render_task(_load(task.id), values=parsed.data, errors={"pin": exc.message}, problem=exc.message,
                            status=403)
    except SealMissing as exc:  # the case's agency has no seal yet: the form is kept for when it has one
        return _render_task(_load(task.id), values=parsed.data, problem=exc.message, status=409)
    except Conflict as exc:
        return _render_task(_load(task.id), values=parsed.data,
                            problem=translate("task.conflict", detail=exc.message), status=409)
    flash(translate("task.completed", name=task_label(task.spec_id, task.name), number=task.case_number), "success")
    return redirect(url_for("tasks.task_list"))


def _back(task: TaskView) -> Any:
    target = request.form.get("back")
    if target == "task":
        return redirect(url_for("tasks.task_page_view", task_id=task.id))
    return redirect(url_for("tasks.task_list"))


@bp.post("/<task_id>/claim")
@role_required(*WORK_ROLES)
def claim(task_id: str) -> Any:
    task = _task(task_id)
    user = current_user()
    assert user is not None
    claim_task(ClaimTask(task.id, user.id), svc=svc(), clock=current_app.extensions["casetrail.clock"])
    flash(translate("task.claimed", name=task_label(task.spec_id, task.name)), "success")
    return _back(task)


@bp.post("/<task_id>/unclaim")
@role_required(*WORK_ROLES)
def unclaim(task_id: str) -> Any:
    task = _task(task_id)
    user = current_user()
    assert user is not None
    unclaim_task(UnclaimTask(task.id, user.id), svc=svc(), clock=current_app.extensions["casetrail.clock"])
    flash(translate("task.unclaimed", name=task_label(task.spec_id, task.name)), "info")
    return _back(task)


@bp.post("/<task_id>/assign")
@role_required("head")
def assign(task_id: str) -> Any:
    task = _task(task_id)
    user = current_user()
    assert user is not None
    assignee = request.form.get("assignee", "").strip()
    if not assignee:
        abort(400)
    assign_task(AssignTask(task.id, assignee, by=user.id, pin=request.form.get("pin", ""),
                           reason=request.form.get("reason", "")[:500]),
                svc=svc(), clock=current_app.extensions["casetrail.clock"])
    flash(translate("task.assigned", name=task_label(task.spec_id, task.name), user=person(assignee)), "success")
    return _back(task)
