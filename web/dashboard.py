"""The heads' dashboard: open cases per stage, overdue steps, cases per violation type and month; every bar
opens the case list filtered to the cases it counts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for

from engine import CaseStatus, blocked_signing_pins
from engine import dashboard as dashboard_data
from web.case_context import days_left
from web.charts import bar_chart
from web.i18n import stage_label, status_label, translate
from web.labels import violation_label
from web.security import current_user, now, role_required, svc

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.get("")
@role_required("head", "supervisor")
def index() -> Any:
    """Of the agencies the user oversees (a head: theirs; a supervisor: theirs and those under it), narrowed to
    one of them and those under it by `agency`."""
    user = current_user()
    assert user is not None
    agency = request.args.get("agency", "")[:32]
    data = dashboard_data(svc(), now=now(), viewer_id=user.id, agency=agency or None)

    def cases(**filters: str) -> str:
        return url_for("cases.case_list", **filters, **({"agency": agency} if agency else {}))

    charts = [
        bar_chart(translate("dash.by_stage"), [(stage_label(s), n) for s, n in data.open_by_stage],
                  links=[cases(stage=s, status=CaseStatus.OPEN) for s, _ in data.open_by_stage]),
        bar_chart(translate("dash.by_violation"), [(violation_label(v), n) for v, n in data.by_violation],
                  links=[cases(violation=v) for v, _ in data.by_violation]),
        bar_chart(translate("dash.by_month"), list(data.by_month), links=[cases(month=m) for m, _ in data.by_month]),
        bar_chart(translate("dash.by_outcome"), [(status_label(o), n) for o, n in data.by_outcome],
                  links=[cases(outcome=o) for o, _ in data.by_outcome]),
    ]
    return render_template("dashboard.html", data=data, charts=charts, now=now(), days_left=days_left, agency=agency,
                           blocked_pins=len(blocked_signing_pins(svc(), user.id)))
