"""The Flask workbench: a thin layer that turns HTTP into calls of the engine's use cases.

`create_app(config=None, services=None)` builds the app; one blueprint per area. Nothing here talks to
the database or the workflow library directly: every read and write is an engine function.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from engine import MAX_ID, Clock, ConfigurationError, Services, system_clock

csrf = CSRFProtect()

DEFAULT_CONFIG: dict[str, Any] = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_NAME": "casetrail_session",
    "PERMANENT_SESSION_LIFETIME": dt.timedelta(hours=8),
    "WTF_CSRF_TIME_LIMIT": None,  # bound to the session instead; a long form must not expire mid-typing
    "MAX_CONTENT_LENGTH": 50 * 1024 * 1024,
    "CASETRAIL_TASKS_PER_PAGE": 20,
    # Proxies in front of the app whose X-Forwarded-For and X-Forwarded-Proto are believed (README: behind a
    # proxy). 0: none — a client could otherwise claim any address (the login throttle) or HTTPS.
    "CASETRAIL_TRUSTED_PROXIES": 0,
}


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: at most MAX_ID, so an id no row can have is a 404 from the router, never a
    database error (a 500) — /public/2147483648 on PostgreSQL, thirty digits on SQLite."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def create_app(config: Mapping[str, Any] | None = None, services: Services | None = None) -> Flask:
    """Build the workbench. `services` defaults to the configured database (CASETRAIL_DATABASE_URL)."""
    app = Flask("web")  # the package: its templates and static files, its logger
    app.url_map.converters["int"] = IdConverter  # before any route is added: every blueprint's ids are bounded
    app.config.update(DEFAULT_CONFIG)
    app.config["SECRET_KEY"] = os.environ.get("CASETRAIL_SECRET_KEY") or secrets.token_hex(32)
    if os.environ.get("CASETRAIL_SECURE_COOKIES") == "1":
        app.config["SESSION_COOKIE_SECURE"] = True
    if os.environ.get("CASETRAIL_TRUSTED_PROXIES"):
        app.config["CASETRAIL_TRUSTED_PROXIES"] = os.environ["CASETRAIL_TRUSTED_PROXIES"]
    if config:
        app.config.update(config)
    proxies = _trusted_proxies(app.config["CASETRAIL_TRUSTED_PROXIES"])
    if proxies:
        # The client's address and scheme as the nearest `proxies` proxies saw them, and nothing further back.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    if services is None:
        from engine import build_services

        services = build_services()
    app.extensions["casetrail.services"] = services
    app.extensions.setdefault("casetrail.clock", app.config.get("CASETRAIL_CLOCK") or system_clock)
    csrf.init_app(app)

    from web import (
        admin,
        agencies,
        api,
        audit,
        auth,
        cases,
        dashboard,
        deliberation,
        drafts,
        evidence,
        inbox,
        indicators,
        public,
        supervision,
        tasks,
        team,
        uploads,
    )
    from web.errors import register_error_handlers
    from web.i18n import init_i18n
    from web.inbox import init_inbox
    from web.labels import init_labels
    from web.security import init_security

    init_i18n(app)
    init_labels(app)
    init_security(app)
    init_inbox(app)
    register_error_handlers(app)
    from web import ops  # probes, metrics and the request log: first, so its hooks time every other request

    app.register_blueprint(ops.bp)
    for module in (auth, tasks, cases, evidence, deliberation, audit, public, admin, agencies, dashboard, indicators,
                   team, api, drafts, uploads, inbox, supervision):
        app.register_blueprint(module.bp)
    for view in uploads.TOKEN_IN_HEADER:  # tus requests carry the token as a header, checked by web/uploads.py
        csrf.exempt(view)
    return app


def _trusted_proxies(value: object) -> int:
    try:
        count = int(str(value))
    except ValueError:
        count = -1
    if not 0 <= count <= 10:
        raise ConfigurationError(f"CASETRAIL_TRUSTED_PROXIES 须为 0 到 10 的整数 (must be a number of proxies, 0-10): {value}")
    return count


def services_of(app: Flask) -> Services:
    return app.extensions["casetrail.services"]


def clock_of(app: Flask) -> Clock:
    return app.extensions["casetrail.clock"]
