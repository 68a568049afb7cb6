"""挂牌督办's 文书 from a step: the supervisor's 督办通知书, the officers' 督办情况报告 and the supervisor's 销号 on it.

The agencies' names are in the step's data: the flag step records them (engine/usecases/supervision.py), so the
signed record and the 文书 name the same two agencies."""

from __future__ import annotations

import datetime as dt

from documents import DocumentData
from documents.kinds.supervision import SupervisionNotice, SupervisionReport

from .context import VIOLATIONS, StepContext, label, party


def _common(ctx: StepContext) -> dict[str, object]:
    return {"agency": ctx.text("supervising_agency", ctx.agency.name), "case_number": ctx.case_number,
            "doc_number": ctx.doc_number, "date": ctx.date,
            "supervising_agency": ctx.text("supervising_agency", ctx.agency.name),
            "handling_agency": ctx.text("handling_agency", ctx.agency.name), "party": party(ctx),
            "cause": ctx.text("case_cause") or label(VIOLATIONS, ctx.get("violation_type"))}


def supervision_notice(ctx: StepContext) -> DocumentData:
    """督办通知书: signed by the supervisor who flags the case."""
    return SupervisionNotice(
        **_common(ctx), reason=ctx.text("supervision_reason"), instructions=ctx.text("supervision_instructions"),
        due_date=dt.date.fromisoformat(ctx.text("supervision_due_date")),
        report_cycle=ctx.text("supervision_report_cycle"), supervisor=ctx.actor_name,
    )


def supervision_report(ctx: StepContext) -> DocumentData:
    """督办情况报告: drafted and signed by the reporting officer; at 销号 (`approval`) the supervisor adds the opinion."""
    closing = ctx.variant == "approval"
    reporter = ctx.name(ctx.case_data.get("_actor")) if closing else ctx.actor_name
    return SupervisionReport(
        **_common(ctx), instructions=ctx.text("supervision_instructions"), progress=ctx.text("supervision_progress"),
        next_steps=ctx.text("supervision_next_steps"), final=bool(ctx.get("supervision_final_report")),
        reporter=reporter, closing_opinion=ctx.text("supervision_opinion") if closing else "",
        closed=bool(ctx.get("supervision_closed")) if closing else None,
        supervisor=ctx.actor_name if closing else "",
    )
