"""What /public may show of a published decision (双公示), redacted here and nowhere else in the engine.

《政府信息公开条例》第十五条, 行政处罚法 第四十八条 and the local 公示 measures: a natural person's 身份证号,
phone numbers, home address and bank accounts are never published, nor the names of natural persons other
than the penalized party (complainant, witnesses, interviewees, agents); an organisation's bank accounts
neither. The officer's `redacted_summary` is redacted again — defence in depth, a typed number slips easily.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from documents import PartyKind

from .context import AgencyInfo, StepContext
from .decision import public_record

MASK = "＊＊＊"
NAME_MASK = "某某"


@dataclass(frozen=True)
class PublicDecision:
    """The public fields of a 行政处罚决定 (行政处罚信息公示), already redacted."""

    agency: str
    case_number: str
    decision_number: str
    penalty_name: str
    party_name: str
    party_id: str  # 统一社会信用代码 of an organisation; "" for a natural person (never the ID number)
    party_address: str  # an organisation's address; "" for a natural person (home address)
    legal_representative: str
    reason: str
    legal_basis: str
    result: str
    decision_date: dt.date
    withdrawn: bool = False
    withdrawal_reason: str = ""


def redacted_publication(case_data: Mapping[str, Any], *, agency: AgencyInfo, case_number: str,
                         officer_names: Mapping[str, str] | None = None,
                         at: dt.datetime | None = None) -> PublicDecision:
    """The public record of the case's decision, from its data (after 公示信息脱敏), redacted.

    `at` only dates the record when the case has no decision date (it never reaches the public fields
    otherwise).
    """
    moment = at or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    ctx = StepContext(agency=agency, case_number=case_number, step_time=moment, actor_id="", actor_name="",
                      task_spec_id="", case_data=case_data, form_data={},
                      officer_names=dict(officer_names or {}))
    record = public_record(ctx)
    person = record.party.kind is PartyKind.INDIVIDUAL
    names = third_party_names(case_data, exclude=record.party.name)
    places = _private_addresses(case_data, person)

    def clean(text: str) -> str:
        return redact_text(text, names=names, addresses=places)

    return PublicDecision(
        agency=agency.name, case_number=case_number, decision_number=record.decision_number,
        penalty_name=record.penalty_name, party_name=record.party.name,
        party_id=record.public_party_id, party_address=record.public_address,
        legal_representative="" if person else record.party.legal_representative,
        reason=clean(record.reason), legal_basis=clean(record.legal_basis), result=clean(record.result),
        decision_date=record.decision_date,
        withdrawn=bool(case_data.get("withdrawn_at")), withdrawal_reason=clean(str(case_data.get("withdrawal_reason")
                                                                                    or "")),
    )


def third_party_names(case_data: Mapping[str, Any], *, exclude: str = "") -> set[str]:
    """Natural persons the case names besides the party: complainant, interviewee, agents, witnesses, receivers."""
    found: set[str] = set()
    complainant = case_data.get("complainant") or {}
    if isinstance(complainant, Mapping):
        found.add(str(complainant.get("name") or ""))
    for key in ("inquired_person", "witness", "recipient", "person_in_charge"):
        found.add(str(case_data.get(key) or ""))
    signature = case_data.get("party_signature") or {}  # who signed on the screen, or witnessed a refusal
    if isinstance(signature, Mapping):
        found.update(str(signature.get(key) or "") for key in ("signer_name", "witness_name"))
    found.update(str(a) for a in _iter(case_data.get("agents")))
    return {n.strip() for n in found if len(n.strip()) >= 2 and n.strip() != exclude}


def _private_addresses(case_data: Mapping[str, Any], party_is_person: bool) -> set[str]:
    found = set()
    complainant = case_data.get("complainant") or {}
    if isinstance(complainant, Mapping):
        found.add(str(complainant.get("address") or ""))
    respondent = case_data.get("respondent") or {}
    if party_is_person and isinstance(respondent, Mapping):
        found.add(str(respondent.get("address") or ""))
    return {a for a in found if len(a) >= 4}


def _iter(value: Any) -> Iterable[Any]:
    return value if isinstance(value, list | tuple) else ()


# A run of ≥7 digits (spaces/dashes allowed between them, an ID's final X) — mobile (11), ID (15/18),
# bank account (16–19); landlines with an area code. Digits of any script are folded to ASCII first.
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9](?:[ \-]?[0-9]){6,}(?:[ \-]?[Xx])?(?![0-9A-Za-z])")
_LANDLINE = re.compile(r"0\d{2,3}[ \-]?\d{7,8}")


def _mask_run(match: re.Match[str]) -> str:
    digits = re.sub(r"[ \-]", "", match.group(0))
    return MASK if len(digits) >= 11 or _LANDLINE.fullmatch(match.group(0)) else match.group(0)


def _fold(text: str) -> str:
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else {"Ｘ": "X", "ｘ": "x", "－": "-"}.get(c, c)
                   for c in text)


def redact_text(text: str, *, names: Iterable[str] = (), addresses: Iterable[str] = ()) -> str:
    """Mask ID/phone/account numbers, the given private addresses and third-party names in free text."""
    out = _DIGIT_RUN.sub(_mask_run, _fold(text))
    for address in sorted(addresses, key=len, reverse=True):
        out = out.replace(address, MASK)
    for name in sorted(names, key=len, reverse=True):
        out = out.replace(name, name[0] + NAME_MASK)
    return out
