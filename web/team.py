"""The heads' team view: every open task of the agency's officers, batch hand-overs (改派) and 督办.

Thin: the engine decides whose tasks a head sees, who may take them, and what may be urged
(engine/usecases/team.py); this turns the query string and the forms into its calls and renders its answers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from engine import (
    TEAM_DUE,
    TEAM_SORTS,
    Conflict,
    Forbidden,
    NotFound,
    ReassignTasks,
    SigningError,
    UrgeTask,
    ValidationError,
    reassign_tasks,
    team_page,
    urge_preview,
    urge_task,
)
from web.case_context import days_left
from web.casedata import case_data
from web.i18n import field_error, task_label, translate
from web.security import current_user, now, role_required, svc

bp = Blueprint("team", __name__, url_prefix="/team")

TEAM_PER_PAGE = 50


@dataclass(frozen=True)
class TeamFilters:
    """The view's filters and order as the query string (or the batch form's hidden fields) gives them."""

    holder: str = ""
    stage: str = ""
    due: str = ""  # a key of TEAM_DUE, or "" for all
    sort: str = "due"
    dir: str = ""  # "desc" or ""

    @classmethod
    def read(cls, args: Any) -> TeamFilters:
        due = args.get("due", "")
        sort = args.get("sort", "due")
        return cls(holder=args.get("holder", "")[:64], stage=args.get("stage", "")[:32],
                   due=due if due in TEAM_DUE else "", sort=sort if sort in TEAM_SORTS else "due",
                   dir="desc" if args.get("dir") == "desc" else "")

    def args(self, **changed: str) -> dict[str, str]:
        return {k: v for k, v in {**asdict(self), **changed}.items() if v}


def _page_arg(args: Any) -> int:
    try:
        return int(args.get("page", 1))
    except ValueError:
        return 1


def _render(filters: TeamFilters, page_no: int, *, problem: str | None = None, errors: dict[str, str] | None = None,
            chosen: tuple[str, ...] = (), values: dict[str, str] | None = None, status: int = 200) -> Any:
    user = current_user()
    assert user is not None
    page = team_page(svc(), head_id=user.id, holder=filters.holder, stage=filters.stage, due=filters.due,
                     sort=filters.sort, descending=filters.dir == "desc", now=now(), page=page_no,
                     per_page=current_app.config.get("CASETRAIL_TEAM_PER_PAGE", TEAM_PER_PAGE))
    return render_template("team/list.html", page=page, filters=filters, now=now(), days_left=days_left,
                           problem=problem, errors=errors or {}, chosen=set(chosen), values=values or {},
                           sorts=TEAM_SORTS), status


@bp.get("")
@role_required("head")
def index() -> Any:
    return _render(TeamFilters.read(request.args), _page_arg(request.args))


@bp.post("/reassign")
@role_required("head")
def reassign() -> Any:
    """The batch hand-over: every chosen task to one person, for one reason, signed with the head's PIN — all or
    none. The answer lists each task with its previous and new holder by name."""
    user = current_user()
    assert user is not None
    filters = TeamFilters.read(request.form)
    chosen = tuple(request.form.getlist("task"))[:200]
    values = {"assignee": request.form.get("assignee", "").strip()[:64], "reason": request.form.get("reason", "")[:500]}
    try:
        done = reassign_tasks(ReassignTasks(task_ids=chosen, assignee=values["assignee"], by=user.id,
                                            pin=request.form.get("pin") or None, reason=values["reason"]),
                              svc=svc(), clock=current_app.extensions["casetrail.clock"])
    except ValidationError as exc:
        errors = {k: field_error(v) for k, v in exc.errors.items()}
        return _render(filters, _page_arg(request.form), problem=field_error(exc.message), errors=errors,
                       chosen=chosen, values=values, status=422)
    except SigningError as exc:
        return _render(filters, _page_arg(request.form), problem=field_error(exc.message),
                       errors={"pin": field_error(exc.message)}, chosen=chosen, values=values, status=403)
    except (Forbidden, Conflict, NotFound) as exc:
        return _render(filters, _page_arg(request.form), problem=field_error(exc.message), chosen=chosen,
                       values=values, status=exc.http_status)
    return render_template("team/reassigned.html", done=done, reason=values["reason"].strip(),
                           back=filters.args())


def _urge_back(task_case_id: int) -> str:
    if request.values.get("back") == "case":
        return url_for("cases.case_page", ref=task_case_id)
    return url_for("team.index")


@bp.route("/tasks/<task_id>/urge", methods=["GET", "POST"])
@role_required("head")
def urge(task_id: str) -> Any:
    """督办: the task, whom it would press, and a note; the PIN signs it into the case's record."""
    user = current_user()
    assert user is not None
    item, refusal = urge_preview(svc(), task_id=task_id, head_id=user.id, now=now())
    note = request.form.get("note", "")[:500]
    problem, errors, status = None, {}, 200
    if request.method == "POST":
        try:
            urged = urge_task(UrgeTask(task_id=item.task.id, by=user.id, pin=request.form.get("pin") or None,
                                       note=note), svc=svc(), clock=current_app.extensions["casetrail.clock"])
        except ValidationError as exc:
            problem, status = field_error(exc.message), 422
            errors = {k: field_error(v) for k, v in exc.errors.items()}
        except SigningError as exc:
            problem, status, errors = field_error(exc.message), 403, {"pin": field_error(exc.message)}
        except (Forbidden, Conflict) as exc:
            problem, status = field_error(exc.message), exc.http_status
        else:
            people = Markup(translate("list.sep")).join(case_data(h.name) for h in urged.holders)
            flash(translate("team.urged", name=task_label(urged.spec_id, urged.task_name),
                            number=case_data(urged.case_number), people=people), "success")
            return redirect(_urge_back(urged.case_id))
    return render_template("team/urge.html", item=item, refusal=refusal and field_error(refusal), note=note,
                           problem=problem, errors=errors, now=now(), days_left=days_left,
                           back=request.values.get("back", "")), status
