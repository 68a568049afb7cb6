"""Who is asking: the logged-in user, loaded on every request, and the role checks as decorators.

Roles are checked here on every request, not only hidden in the templates: a URL typed by hand gets 403.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface

from engine import Services, UserView, resume_session

F = TypeVar("F", bound=Callable[..., Any])

# Roles that work on cases (everyone but the administrator, who manages users and models only).
CASE_ROLES = ("intake", "officer", "panel", "legal", "head", "publisher", "auditor", "supervisor")


def svc() -> Services:
    return current_app.extensions["casetrail.services"]


def now() -> dt.datetime:
    return current_app.extensions["casetrail.clock"]()


def current_user() -> UserView | None:
    return g.get("user")


def user_roles() -> frozenset[str]:
    user = current_user()
    return frozenset(user.roles) if user else frozenset()


def has_role(*roles: str) -> bool:
    return bool(user_roles() & set(roles))


SESSION_ID = "sid"  # the only thing about the login the cookie carries: the server-side session's id


def forget_login() -> None:
    """Drop the login from the cookie, keeping the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _load_user() -> None:
    """The user of the request's session, if it still counts on the server (engine/usecases/sessions.py): a
    session ended by logout, a password change, deactivation, revocation or an administrator is gone for
    every worker at once."""
    g.user = None
    if request.endpoint == "static":
        return
    session_id = session.get(SESSION_ID)
    if not session_id:
        if "user_id" in session:  # a cookie of an earlier release, which carried the user id itself
            forget_login()
        return
    user = resume_session(svc(), str(session_id), clock=current_app.extensions["casetrail.clock"])
    if user is None:
        forget_login()
        return
    g.user = user


def _security_headers(response: Response) -> Response:
    # No inline script anywhere, nothing from another origin: the strictest policy that still works.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        # Over HTTPS (directly, or as a trusted proxy says): browsers keep to HTTPS for a year (RFC 6797).
        response.headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE}")
    if g.get("user") is not None:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


HSTS_MAX_AGE = 365 * 24 * 3600


class SessionCookies(SecureCookieSessionInterface):
    """The session cookie is `Secure` whenever the request came over HTTPS (or SESSION_COOKIE_SECURE says so
    always): a browser never sends it over plain HTTP, where anyone on the way could copy it."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app)) or (has_request_context() and request.is_secure)


def init_security(app: Flask) -> None:
    app.session_interface = SessionCookies()
    app.before_request(_load_user)
    app.after_request(_security_headers)
    app.context_processor(lambda: {"current_user": current_user(), "has_role": has_role})


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            if request.method == "GET":
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            abort(401)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def role_required(*roles: str) -> Callable[[F], F]:
    """The user must hold at least one of `roles`; otherwise 403, whatever the page showed."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user() is None:
                if request.method == "GET":
                    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
                abort(401)
            if not has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
