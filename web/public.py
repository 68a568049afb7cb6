"""/public — published penalty decisions (双公示), no login. Every value passes `redact_public` first.

政府信息公开条例 第十五条 and local 双公示 rules: ID numbers, phone numbers, addresses, bank accounts of
natural persons and the complainant never appear here; minors' cases are never listed. The rows come from
the engine's `publications` table (written when the publication steps complete), one query per page.

A visitor sees the agency's name in the header (settings.json `agency.name`), not the internal product's name or a
login link (public/_base.html); each decision with its 公示期限 (settings.json `publication_period`) and the redacted
decision as a PDF (engine.public_decision_pdf: rendered from the same redacted values the page shows).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from flask import Blueprint, Response, abort, render_template, request

from engine import (
    MAX_ID,
    CasetrailError,
    DatabaseUnavailable,
    NotFound,
    PublicationView,
    get_publication,
    list_publications,
    period_of,
    public_decision_pdf,
)
from web.i18n import translate
from web.labels import violation_titles
from web.redaction import public_search_term, redact_public
from web.security import svc

bp = Blueprint("public", __name__, url_prefix="/public")

PER_PAGE = 20


@dataclasses.dataclass(frozen=True)
class Page:
    page: int
    pages: int
    total: int


def _public(p: PublicationView) -> PublicationView:
    """The one gate to /public: every string field is redacted, whatever typed it."""
    return PublicationView(**redact_public(dataclasses.asdict(p)))


def _date(name: str) -> dt.date | None:
    text = request.args.get(name, "").strip()[:10]
    return dt.date.fromisoformat(text) if text else None


@bp.get("")
def index() -> Any:
    raw_q = request.args.get("q", "").strip()[:100]
    violation = request.args.get("violation", "").strip()[:64]
    args = {"q": raw_q, "violation": violation, "from": request.args.get("from", "")[:10],
            "to": request.args.get("to", "")[:10]}
    context = {"q": raw_q, "violation": violation, "date_from": args["from"], "date_to": args["to"],
               "titles": violation_titles(), "args": {k: v for k, v in args.items() if v}}
    query = public_search_term(raw_q)
    if query is None:
        return _refused(context, translate("public.no_numbers"))
    try:
        filters = {"query": query or None, "violation": violation or None, "date_from": _date("from"),
                   "date_to": _date("to")}
    except ValueError:
        return _refused(context, translate("public.bad_date"))
    # Bounded: a page of 40 digits is an offset no database takes (the last page is shown instead).
    page_no = min(max(1, request.args.get("page", 1, type=int) or 1), MAX_ID // PER_PAGE)
    try:
        found = list_publications(svc(), **filters, limit=PER_PAGE, offset=(page_no - 1) * PER_PAGE)
        pages = max(1, -(-found.total // PER_PAGE))
        if page_no > pages:  # a stale link past the end: the last page instead
            page_no = pages
            found = list_publications(svc(), **filters, limit=PER_PAGE, offset=(page_no - 1) * PER_PAGE)
    except DatabaseUnavailable:
        raise  # the 503 page: which database failed is for the operator's log, not the public page
    except CasetrailError as exc:
        return _refused(context, exc.message)
    items = [_public(p) for p in found.items]
    return render_template("public/index.html", items=items, periods={p.case_id: period_of(svc(), p) for p in items},
                           page=Page(page_no, pages, found.total), problem=None, agency=_agency(), **context)


def _refused(context: dict[str, Any], problem: str) -> Any:
    return render_template("public/index.html", items=[], periods={}, page=Page(1, 1, 0), problem=problem,
                           agency=_agency(), **context), 422


def _agency() -> str:
    return svc().settings.agency.name


@bp.get("/<int:case_id>")
def detail(case_id: int) -> Any:
    try:
        found = get_publication(svc(), case_id)
    except NotFound:
        abort(404)
    shown = _public(found)
    return render_template("public/detail.html", p=shown, period=period_of(svc(), shown), titles=violation_titles(),
                           agency=_agency())


@bp.get("/<int:case_id>/decision.pdf")
def decision_pdf(case_id: int) -> Any:
    """The redacted decision (行政处罚信息公示) as a PDF, from the values the page shows."""
    try:
        shown, pdf = public_decision_pdf(svc(), case_id)
    except NotFound:
        abort(404)
    response = Response(pdf, mimetype="application/pdf")
    name = f"public-decision-{case_id}.pdf"  # ASCII: the decision number's 〔〕 are not safe in every browser
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return response
