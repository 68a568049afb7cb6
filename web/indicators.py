"""考核指标 (/indicators): the figures of an agency with its subtree for heads (their agency), supervisors and
auditors (their subtree), as a table and charts; each figure opens the cases it counts, and the table downloads
as CSV or XLSX. The figures are the engine's (`indicators`, the same call as `casetrail indicators`); the engine
checks who may read which agency, the role check here only keeps others off the page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from engine import (
    FIGURES,
    RATES,
    IndicatorQuery,
    ValidationError,
    indicator_cases,
    indicators,
    indicators_csv,
    indicators_xlsx,
)
from web.charts import bar_chart
from web.i18n import lang, task_label, translate
from web.security import current_user, now, role_required, svc

bp = Blueprint("indicators", __name__, url_prefix="/indicators")
READERS = ("head", "supervisor", "auditor")
BY = ("agency", "officer", "month")


def _day(name: str) -> dt.date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"日期格式错误 (bad date, want YYYY-MM-DD): {value}") from None


def _query() -> IndicatorQuery:
    by = request.args.get("by", "agency")
    user = current_user()
    return IndicatorQuery(user_id=user.id if user else None, agency=request.args.get("agency") or None,
                          start=_day("from"), end=_day("to"), by=by if by in BY else "agency")


def _filters(report: Any) -> dict[str, str]:
    return {"agency": report.agency, "from": report.start.isoformat(), "to": report.end.isoformat(), "by": report.by}


def _name(figure: Any) -> str:
    return figure.en if lang() == "en" else figure.zh


def _formula(figure: Any) -> str:
    return figure.formula if lang() == "en" else figure.formula_zh


@bp.get("")
@role_required(*READERS)
def index() -> Any:
    report = indicators(_query(), svc=svc(), now=now())
    filters = _filters(report)

    def drill(figure: str, key: str) -> str:
        return url_for("indicators.cases", figure=figure, key=key, **filters)

    rows = (*report.rows, report.total)
    rates = [f for f in FIGURES if f.key in RATES]
    charts = [  # (chart, whether its labels are names: agencies, officers — data, not words of the page)
        (bar_chart(translate("ind.chart_filed"), [(r.label, int(r.values["filed_cases"] or 0)) for r in report.rows],
                   links=[drill("filed_cases", r.key) for r in report.rows]), report.by != "month"),
        (bar_chart(translate("ind.chart_penalties"), [(r.label, round(r.values["penalties_yuan"] or 0))
                                                      for r in report.rows],
                   links=[drill("penalties_yuan", r.key) for r in report.rows]), report.by != "month"),
        (bar_chart(translate("ind.chart_rates"), [(_name(f), round(100 * (report.total.values[f.key] or 0)))
                                                  for f in rates],
                   links=[drill(f.key, "total") for f in rates]), False),
        (bar_chart(translate("ind.chart_overdue"), [(task_label(spec, name), n)
                                                    for spec, name, n in report.overdue_by_step]), False),
    ]
    return render_template("indicators/index.html", report=report, rows=rows, figures=FIGURES, charts=charts,
                           filters=filters, drill=drill, figure_name=_name, formula=_formula,
                           by_options=BY)


@bp.get("/cases")
@role_required(*READERS)
def cases() -> Any:
    figure = request.args.get("figure", "received")
    key = request.args.get("key") or None
    listed = indicator_cases(_query(), figure, key, svc=svc(), now=now())
    named = next((f for f in FIGURES if f.key == figure), None)
    return render_template("indicators/cases.html", listed=listed, figure_name=_name(named) if named else figure,
                           back=url_for("indicators.index", **{k: v for k, v in request.args.items()
                                                               if k in ("agency", "from", "to", "by")}))


@bp.get("/export.csv")
@role_required(*READERS)
def export_csv() -> Any:
    report = indicators(_query(), svc=svc(), now=now())
    return _attachment(indicators_csv(report, lang()).encode("utf-8"), "text/csv; charset=utf-8", report, "csv")


@bp.get("/export.xlsx")
@role_required(*READERS)
def export_xlsx() -> Any:
    report = indicators(_query(), svc=svc(), now=now())
    return _attachment(indicators_xlsx(report, lang()),
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", report, "xlsx")


def _attachment(data: bytes, mimetype: str, report: Any, ext: str) -> Response:
    response = Response(data, mimetype=mimetype)
    name = f"indicators-{report.agency}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.{ext}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
