"""The agencies a hand-over form offers (web/pickers.py): those the jurisdiction rules let receive the case.

Apart from engine/usecases/handover.py, which completing a step imports: this reads the case's data through
engine/usecases/cases.py, which imports the completion."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.db.repositories import Cases
from engine.rules.jurisdiction import AgencyFacts
from engine.services import Services
from engine.usecases.cases import case_data
from engine.usecases.handover import agency_choices, agency_field


def agency_choices_for(svc: Services, *, schema: Mapping[str, Any] | None,
                       case_id: int | None) -> dict[str, list[AgencyFacts]]:
    """For a form's agency field (by key): the agencies a picker offers for the case — those the jurisdiction
    rules let receive it (the engine checks the choice again, whatever is sent)."""
    field = agency_field(schema)
    if field is None or case_id is None:
        return {}
    data = case_data(svc, case_id)
    with svc.uow.read() as session:
        case = Cases(session).get(case_id)
        return {field: agency_choices(session, svc, case, data)}


__all__ = ["agency_choices_for"]
