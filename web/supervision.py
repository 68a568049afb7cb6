"""挂牌督办 pages (issue 16): the supervised cases of the viewer's agency (the supervisor's list, or the handling
agency's), and the flag form's POST from a case page. The engine decides who may flag which case
(engine/usecases/supervision.py); the reports, the 催报 and the 销号 are tasks on the task pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from engine import (
    Conflict,
    FlagCase,
    LegalGateRefused,
    SigningError,
    ValidationError,
    flag_case,
    supervised_cases,
)
from web.i18n import gate_refusal, translate
from web.security import CASE_ROLES, current_user, now, role_required, svc

bp = Blueprint("supervision", __name__, url_prefix="/supervision")
#: the flag form's fields (the model's flag form: workflows/forms/supervision_flag.schema.json)
FLAG_FIELDS = ("supervision_instructions", "supervision_due_date", "supervision_reason")


@bp.get("")
@role_required(*CASE_ROLES)
def index() -> Any:
    user = current_user()
    assert user is not None
    moment = now()
    return render_template("supervision/index.html", items=supervised_cases(svc(), viewer_id=user.id, now=moment),
                           now=moment)


@bp.post("/flag/<ref>")
@role_required("supervisor")
def flag(ref: str) -> Any:
    """挂牌督办 from the case page's form: signed with the supervisor's PIN, or refused with the reason."""
    user = current_user()
    assert user is not None
    data = {k: v.strip() for k in FLAG_FIELDS if (v := request.form.get(k, "")).strip()}
    back = url_for("cases.case_page", ref=ref)
    try:
        view = flag_case(FlagCase(case_ref=ref, user_id=user.id, data=data, pin=request.form.get("pin") or None),
                         svc=svc(), clock=current_app.extensions["casetrail.clock"])
    except LegalGateRefused as exc:
        problem, article = gate_refusal(exc)
        flash(f"{problem}（{article}）", "error")
        return redirect(back, code=303)
    except ValidationError as exc:
        flash(translate("supervision.invalid", detail=str(exc)), "error")
        return redirect(back, code=303)
    except (SigningError, Conflict) as exc:  # a wrong PIN, a closed case, a model version without 挂牌督办
        flash(exc.message, "error")
        return redirect(back, code=303)
    flash(translate("supervision.flagged", number=view.case_number), "success")
    return redirect(url_for("supervision.index"), code=303)
