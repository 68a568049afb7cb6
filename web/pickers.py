"""Person pickers: a form's `x-person` fields drawn for one case with the people the engine says are eligible
(engine `person_choices`: role, active, a valid 执法证 where the role needs one, not barred by 回避)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from engine import agency_choices_for, person_choices
from web.schema_form import PERSON_CHOICES, PERSON_KEYWORD
from web.security import svc

AGENCY_KEYWORD = "x-agency"  # a field naming an agency of the platform (engine/usecases/handover.py)


def with_agencies(schema: dict[str, Any] | None, case_id: int | None) -> dict[str, Any] | None:
    """The schema with each agency field drawn as a choice of the agencies the jurisdiction rules let receive the
    case (an `enum` with the agencies' names as titles); the schema itself when it picks no agency."""
    if schema is None or AGENCY_KEYWORD not in str(schema):
        return schema
    choices = agency_choices_for(svc(), schema=schema, case_id=case_id)
    drawn = copy.deepcopy(schema)
    for key, agencies in choices.items():
        field = drawn["properties"][key]
        field["enum"] = [a.code for a in agencies]
        field["x-enum-titles"] = field["x-enum-titles-en"] = [a.name for a in agencies]
    return drawn


def with_people(schema: dict[str, Any] | None, case_id: int | None, at: dt.datetime) -> dict[str, Any] | None:
    """The schema with each person field's choices (`x-person-choices`) for the case on the day of `at`; the
    schema itself when it names nobody (most forms: no query)."""
    if schema is None or PERSON_KEYWORD not in str(schema):
        return schema
    choices = person_choices(svc(), schema=schema, case_id=case_id, at=at)
    if not choices:
        return schema
    drawn = copy.deepcopy(schema)
    for key, people in choices.items():
        drawn["properties"][key][PERSON_CHOICES] = [
            {"id": p.id, "name": p.name, "unit": p.unit, "cert_no": p.cert_no,
             "cert_valid_until": p.cert_valid_until.isoformat() if p.cert_valid_until else None} for p in people]
    return drawn
