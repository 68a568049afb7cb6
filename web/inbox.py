"""The inbox (issue 15): a person's notices, marking them read, and what they want by mail. Every read and
write is the engine's (engine/usecases/inbox.py) and bounded by the logged-in person's own id: nobody reaches
another's notices by changing an id in a form."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for

from engine import (
    MAX_ID,
    NOTICE_WORDS,
    CasetrailError,
    MarkNoticesRead,
    NoticeKind,
    SetNoticeChoices,
    ValidationError,
    get_notice,
    list_notices,
    mark_notices_read,
    notice_choices,
    set_notice_choices,
    unread_count,
)
from web.i18n import lang, translate
from web.security import current_user, login_required, svc

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


def _clock() -> Any:
    return current_app.extensions["casetrail.clock"]


def notice_label(kind: str) -> str:
    """What a kind of notice says, in the page's language (the words the mail uses too)."""
    try:
        zh, en = NOTICE_WORDS[NoticeKind(kind)]
    except ValueError:
        return kind
    return zh if lang() == "zh" else en


def _me() -> str:
    user = current_user()
    assert user is not None  # login_required
    return user.id


@bp.get("")
@login_required
def index() -> Any:
    unread = request.args.get("unread") == "1"
    return render_template("inbox/index.html", notices=list_notices(svc(), _me(), unread=unread), unread=unread)


def _ids() -> tuple[int, ...]:
    try:
        ids = tuple(int(v) for v in request.form.getlist("id"))
    except ValueError:
        abort(400)
    if any(not 0 < i <= MAX_ID for i in ids):
        abort(400)
    return ids


@bp.post("/read")
@login_required
def read() -> Any:
    """Mark the notices chosen (or, with all=1, every unread one) read."""
    everything = request.form.get("all") == "1"
    try:
        changed = mark_notices_read(MarkNoticesRead(user_id=_me(), ids=() if everything else _ids(),
                                                    everything=everything), svc=svc(), clock=_clock())
    except ValidationError as exc:
        flash(exc.message, "error")
        return redirect(url_for("inbox.index"))
    flash(translate("inbox.marked", n=changed), "success")
    return redirect(url_for("inbox.index", unread=request.args.get("unread") or None))


@bp.post("/<int:notice_id>/open")
@login_required
def open_notice(notice_id: int) -> Any:
    """Open what a notice is about (its task, else its case) and mark it read on the way."""
    me = _me()
    notice = get_notice(svc(), me, notice_id)  # NotFound (404) for another person's notice
    mark_notices_read(MarkNoticesRead(user_id=me, ids=(notice_id,)), svc=svc(), clock=_clock())
    if notice.task_id:
        return redirect(url_for("tasks.task_page_view", task_id=notice.task_id))
    if notice.case_id:
        return redirect(url_for("cases.case_page", ref=notice.case_id))
    return redirect(url_for("inbox.index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> Any:
    """The person's address for notice mail and which kinds are mailed (the inbox always has every notice)."""
    me = _me()
    if request.method == "GET":
        return render_template("inbox/settings.html", choices=notice_choices(svc(), me), errors={}, problem=None,
                               kinds=list(NoticeKind))
    email = request.form.get("email", "")
    mailed = frozenset(request.form.getlist("mailed"))
    try:
        set_notice_choices(SetNoticeChoices(user_id=me, email=email, mailed=mailed), svc=svc(), clock=_clock())
    except CasetrailError as exc:
        errors = exc.errors if isinstance(exc, ValidationError) else {}
        choices = notice_choices(svc(), me)
        shown = type(choices)(user_id=me, email=email, mailed={k.value: k.value in mailed for k in NoticeKind})
        return render_template("inbox/settings.html", choices=shown if errors else choices, errors=errors,
                               problem=exc.message, kinds=list(NoticeKind)), exc.http_status
    flash(translate("inbox.settings_saved"), "success")
    return redirect(url_for("inbox.settings"))


def _unread_notices() -> int:
    user = current_user()
    return 0 if user is None else unread_count(svc(), user.id)


def init_inbox(app: Flask) -> None:
    """The header's unread count: a function the page calls (one indexed count), only where it is shown."""
    app.jinja_env.globals.update(unread_notices=_unread_notices, notice_label=notice_label)
