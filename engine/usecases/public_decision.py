"""/public's own views of a published decision: its 公示期限, and the redacted decision as a PDF.

The PDF is the 行政处罚信息公示 record (documents' `publication_record`, the national 双公示 fields) rendered from
the publication as /public shows it: every value through `redact_public` first (engine/rules/redaction.py — ID,
phone and account numbers masked, complainant fields dropped), and a natural person's address and ID never printed
(the record prints a credit code and address for an organisation only). Rendered on request from the stored
publication (deterministic: its time is the release's), never the signed 文书 of the case, which is not redacted.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from engine.agencies import case_settings
from engine.db.tables import CaseRow
from engine.rules.publication_period import PublicationPeriod, publication_period
from engine.rules.redaction import redact_public
from engine.services import Services
from engine.usecases.publications import PublicationView, get_publication


def period_of(svc: Services, view: PublicationView) -> PublicationPeriod:
    """The decision's 公示期限, in the agency's calendar."""
    zone = svc.settings.zone
    withdrawn = view.withdrawn_at.astimezone(zone).date() if view.withdrawn and view.withdrawn_at else None
    return publication_period(svc.settings.raw, released_on=view.released_at.astimezone(zone).date(),
                              withdrawn_on=withdrawn)


def public_decision_pdf(svc: Services, case_id: int) -> tuple[PublicationView, bytes]:
    """(the publication as /public shows it, its PDF). NotFound when the case has no published decision."""
    from documents import Party, PartyKind, RenderMeta, render
    from documents.kinds.closing import PublicationRecord

    view = PublicationView(**redact_public(dataclasses.asdict(get_publication(svc, case_id))))
    with svc.uow.read(lagging=True) as session:  # the public page tolerates the replica's lag
        case_number, agency_code = session.execute(select(CaseRow.number, CaseRow.agency_code)
                                                   .where(CaseRow.id == case_id)).one()
        agency = case_settings(session, svc.settings, agency_code).agency  # the agency that decided
    period = period_of(svc, view)
    released = view.released_at.astimezone(svc.settings.zone)
    kind = PartyKind.ORGANIZATION if view.party_credit_code else PartyKind.INDIVIDUAL
    penalties = [p for p in ("警告" if view.warning else "", "罚款" if view.fine else "", view.other_measures) if p]
    result = "，".join(p for p in ("警告" if view.warning else "",
                                  f"罚款人民币{view.fine:,.2f}元" if view.fine else "", view.other_measures) if p)
    if view.withdrawn:
        when = view.withdrawn_at.astimezone(svc.settings.zone) if view.withdrawn_at else released
        result = f"（已于{when:%Y年%m月%d日}撤回公示：{view.withdrawal_reason}）{result}"
    record = PublicationRecord(
        agency=agency.name, case_number=case_number, doc_number="", date=released.date(),
        decision_number=view.decision_number, penalty_name="；".join(penalties) or "—",
        party=Party(name=view.party, kind=kind, credit_code=view.party_credit_code),
        reason=view.summary or "—", legal_basis=view.basis or "—", result=result or "—",
        decision_date=view.decision_date or released.date(),
        publication_period=f"{period.start:%Y年%m月%d日}至{period.end:%Y年%m月%d日}",
    )
    return view, render(record, meta=RenderMeta(time=view.released_at, font_cache_dir=svc.font_cache_dir))
