"""Login and logout. Passwords are checked by the engine (argon2); repeated failures lock the account."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

from engine.usecases.users import LoginRefused, authenticate
from web.i18n import safe_next, translate
from web.security import current_user, has_role, svc

bp = Blueprint("auth", __name__)


def home_for_roles() -> str:
    """Where a user starts: the work list, or the page of the role that has no tasks."""
    if has_role("intake", "officer", "panel", "legal", "head", "publisher"):
        return url_for("tasks.task_list")
    if has_role("auditor"):
        return url_for("audit.index")
    if has_role("admin"):
        return url_for("admin.users")
    return url_for("public.index")


@bp.get("/")
def home() -> Any:
    if current_user() is None:
        return redirect(url_for("auth.login"))
    return redirect(home_for_roles())


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    user_id = ""
    status = 200
    if request.method == "POST":
        user_id = request.form.get("user_id", "").strip()
        password = request.form.get("password", "")
        try:
            user = authenticate(svc(), user_id, password, clock=current_app.extensions["casetrail.clock"])
        except LoginRefused as exc:
            error = translate("login.locked") if exc.locked_until else translate("login.failed")
            status = 429 if exc.locked_until else 401
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session on login: no fixation
            session["user_id"] = user.id
            if lang:
                session["lang"] = lang
            session.permanent = True
            target = request.args.get("next")
            return redirect(safe_next(target) if target else url_for("auth.home"))
    return render_template("login.html", error=error, user_id=user_id), status


@bp.post("/logout")
def logout() -> Any:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(translate("login.logged_out"), "info")
    return redirect(url_for("auth.login"))
