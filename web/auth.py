"""Login, logout and the user's own password. Passwords, throttling and sessions are the engine's
(engine/usecases/logins.py, sessions.py): the cookie carries only the id of a session kept on the server."""

from __future__ import annotations

import math
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from engine import (
    CasetrailError,
    ChangePassword,
    EndSession,
    LogIn,
    LoginRefused,
    ValidationError,
    change_password,
    end_session,
    log_in,
)
from web.i18n import safe_next, translate
from web.security import SESSION_ID, current_user, forget_login, has_role, login_required, svc

bp = Blueprint("auth", __name__)


def home_for_roles() -> str:
    """Where a user starts: the work list, or the page of the role that has no tasks."""
    if has_role("intake", "officer", "panel", "legal", "head", "publisher"):
        return url_for("tasks.task_list")
    if has_role("auditor"):
        return url_for("audit.index")
    if has_role("supervisor"):
        return url_for("dashboard.index")
    if has_role("admin"):
        return url_for("admin.users")
    return url_for("public.index")


def _clock() -> Any:
    return current_app.extensions["casetrail.clock"]


@bp.get("/")
def home() -> Any:
    if current_user() is None:
        return redirect(url_for("auth.login"))
    return redirect(home_for_roles())


def wait_text(seconds: int) -> str:
    """A wait as people say it: seconds up to two minutes, then minutes."""
    if seconds < 120:
        return translate("login.wait_seconds", n=seconds)
    return translate("login.wait_minutes", n=math.ceil(seconds / 60))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("login.html", error=None, user_id="")
    user_id = request.form.get("user_id", "").strip()
    try:
        done = log_in(LogIn(user_id=user_id, password=request.form.get("password", ""),
                            source=request.remote_addr or ""), svc=svc(), clock=_clock())
    except LoginRefused as exc:
        if exc.retry_after is None:
            return render_template("login.html", error=translate("login.failed"), user_id=user_id), 401
        # OWASP: growing delays, told to the user and to scripts alike (RFC 9110 §10.2.3 Retry-After).
        page = render_template("login.html", error=translate("login.throttled", wait=wait_text(exc.retry_after)),
                               user_id=user_id)
        response = make_response(page, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    forget_login()  # a fresh cookie on login: nothing from before survives it (fixation)
    session[SESSION_ID] = done.session_id
    session.permanent = True
    target = request.args.get("next")
    return redirect(safe_next(target) if target else url_for("auth.home"))


@bp.post("/logout")
def logout() -> Any:
    session_id = session.get(SESSION_ID)
    if session_id:
        end_session(EndSession(str(session_id)),
                    svc=svc(), clock=_clock())  # ended on the server: a copied cookie is worthless
    forget_login()
    flash(translate("login.logged_out"), "info")
    return redirect(url_for("auth.login"))


def _password_page(errors: dict[str, str], problem: str | None) -> str:
    return render_template("account_password.html", errors=errors, problem=problem,
                           min_length=svc().settings.security.password_min_length)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> Any:
    """The user's own password: the current one again, the new one twice. Every session of the user ends with
    the change (a copied cookie too), and this browser logs in again with the new password."""
    if request.method == "GET":
        return _password_page({}, None)
    user = current_user()
    assert user is not None
    new, again = request.form.get("new", ""), request.form.get("new_again", "")
    if new != again:
        problem = translate("account.passwords_differ")
        return _password_page({"new_again": problem}, problem), 422
    try:
        change_password(ChangePassword(user_id=user.id, current=request.form.get("current", ""), new=new),
                        svc=svc(), clock=_clock())
    except CasetrailError as exc:
        errors = exc.errors if isinstance(exc, ValidationError) else {}
        if "password" in errors:  # the engine's name for the new password's field
            errors = dict(errors)
            errors["new"] = errors.pop("password")
        return _password_page(errors, exc.message), exc.http_status
    forget_login()
    flash(translate("account.password_changed"), "success")
    return redirect(url_for("auth.login"))
