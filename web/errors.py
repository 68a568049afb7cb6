"""Engine errors and HTTP errors as pages (or JSON under /api), each with a message a user understands."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine import CasetrailError, DatabaseUnavailable, LegalGateRefused, ValidationError
from web.i18n import gate_refusal, translate

TITLES = {400: "error.400", 401: "error.401", 403: "error.403", 404: "error.404", 405: "error.405",
          409: "error.409", 413: "error.413", 422: "error.422", 500: "error.500", 503: "error.503"}


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/uploads"))


def error_page(status: int, message: str, *, article: str | None = None, errors: dict[str, str] | None = None,
               extra: dict[str, str] | None = None) -> Any:
    """The error as a page, or as JSON under /api (with `extra`: what only a program reads, in both languages)."""
    if _wants_json():
        body: dict[str, Any] = {"error": message, "status": status, **(extra or {})}
        if article:
            body["article"] = article
        if errors:
            body["errors"] = errors
        return jsonify(body), status
    title = translate(TITLES.get(status, "error.generic"))
    return render_template("error.html", status=status, title=title, message=message, article=article,
                           errors=errors or {}), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DatabaseUnavailable)
    def _database_down(exc: DatabaseUnavailable) -> Any:
        # The cause (host, database, file) is for the operator's log, not for every visitor of the public page.
        current_app.logger.error("database unavailable: %s", exc.message)
        response = make_response(error_page(503, translate("error.503.detail")))
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(LegalGateRefused)
    def _gate_refused(exc: LegalGateRefused) -> Any:
        if _wants_json():  # a program gets both languages; the message itself is "中文 (English)"
            extra = {"reason": exc.reason, "reason_en": exc.reason_en, "article_en": exc.article_en}
            return error_page(exc.http_status, exc.message, article=exc.article, extra=extra)
        reason, article = gate_refusal(exc)
        return error_page(exc.http_status, reason, article=article)

    @app.errorhandler(CasetrailError)
    def _engine_error(exc: CasetrailError) -> Any:
        errors = exc.errors if isinstance(exc, ValidationError) else None
        return error_page(exc.http_status, exc.message, errors=errors)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        return error_page(400, translate("error.csrf"))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        status = exc.code or 500
        key = TITLES.get(status)
        message = translate(f"{key}.detail") if key else (exc.description or "")
        return error_page(status, message)
