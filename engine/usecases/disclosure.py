"""What an evidence bundle discloses of a case's sealed fields and 文书 (docs/evidence-bundle.md §5 "Which bundle").

A version-2 record signs a salted digest of each confidential field; the value and salt travel only where they
may: the complainant's identity (投诉举报人身份) to those who handle the complaint, a vote once the step acting on
its deliberation is signed (that record lists it under `_signed_votes`). A bundle that withholds a field also
withholds the 文书 that print it — a signed PDF cannot be redacted — and its seal-signed manifest says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from engine.db.repositories import Users
from engine.db.tables import CaseRow
from engine.errors import Forbidden
from engine.journal import VOTES_KEY
from engine.rules.confidential import COMPLAINANT, VOTE, confidential_fields
from engine.rules.duties import IDENTITY_DOCUMENT_KINDS, may_see_identity, refusal_to_see_case
from engine.usecases.access import case_facts, person_of
from engine.usecases.cases import history_rows
from engine.usecases.evidence import INTAKE_SEQ
from signatures.bundle import Withheld
from signatures.records import SignedRecord, is_model_step
from signatures.sealing import Disclosure, parent_of, parse_pointer

NAMES_COMPLAINANT = "names the complainant (投诉举报人身份保密)"
OPEN_VOTES = "prints votes of a deliberation not yet acted on (合议表决尚未生效)"
HANDED_IN_BY_COMPLAINANT = "taken with the complaint, may identify the complainant (投诉举报人身份保密)"


@dataclass(frozen=True)
class BundleDisclosure:
    """The sealed values a bundle carries (by seq), the documents it leaves out, and the records whose evidence
    files it leaves out (by seq: why) — the files of a step whose record keeps a field from this bundle's reader
    go with it: what the complainant handed in (the registration's files, whether or not the complaint was
    anonymous), or a panel's material before its vote is acted on."""

    disclosures: dict[int, dict[str, Disclosure]]
    withheld: list[Withheld]
    withheld_files: dict[int, str] = field(default_factory=dict)


def require_case_reader(session: Session, user_id: str, case: CaseRow) -> None:
    """Refuse (Forbidden, the duties' words) unless `user_id` is an active user who may read the case at all —
    an auditor of its agency or one above it (engine.rules.duties `may_see_case`)."""
    user = Users(session).active(user_id)
    refused = refusal_to_see_case(person_of(user), case_facts(session, case, history_rows(session, case.id), user_id))
    if refused is not None:
        raise Forbidden(refused.message)


def require_identity_entitlement(session: Session, user_id: str, case: CaseRow) -> None:
    """Refuse (Forbidden) unless `user_id` is an active user who may see this case's complainant (the duties
    module's rule, as on the pages: a member of the case who handles it)."""
    user = Users(session).find(user_id)
    facts = case_facts(session, case, history_rows(session, case.id), user_id) if user is not None else None
    if user is None or facts is None or not may_see_identity(person_of(user), facts):
        raise Forbidden(f"{user_id} 无权查看投诉举报人身份，不能导出含身份的证据包 (not entitled to the complainant's "
                        "identity of this case: no disclosing bundle)")


def acted_on_votes(records: Sequence[SignedRecord]) -> set[int]:
    """The seqs of votes a later record lists under `_signed_votes`: their deliberation has been acted on."""
    seqs: set[int] = set()
    for signed in records:
        listed = signed.record.form_data.get(VOTES_KEY)
        if isinstance(listed, list):
            seqs.update(v["seq"] for v in listed if isinstance(v, dict) and isinstance(v.get("seq"), int))
    return seqs


def plan(records: Sequence[SignedRecord], seals: Mapping[int, Mapping[str, tuple[str, Disclosure]]],
         definition: Any, *, identity: bool) -> BundleDisclosure:
    """What a bundle of these records carries; `identity`: for a user entitled to the complainant's identity.

    A version-1 record (signed before fields were sealed) holds such values in its signed bytes: a bundle that
    must withhold one is refused (Forbidden), since cutting it out would break the signature."""
    acted = acted_on_votes(records)

    def shown(kind: str, seq: int) -> bool:
        return (kind == COMPLAINANT and identity) or (kind == VOTE and seq in acted)

    disclosures: dict[int, dict[str, Disclosure]] = {}
    withheld: list[Withheld] = []
    withheld_files: dict[int, str] = {}
    for signed in records:
        rec = signed.record
        stored = seals.get(rec.seq, {})
        given = {p: d for p, (kind, d) in stored.items() if shown(kind, rec.seq)}
        if given:
            disclosures[rec.seq] = given
        if not rec.sealed:
            _refuse_unsealed(signed, definition, shown)
        hidden_kinds = {kind for p, (kind, _) in stored.items() if p not in given}
        hidden_kinds |= {VOTE for p in rec.sealed if p not in stored}  # no stored value: nothing to disclose
        for doc in rec.documents:
            if VOTE in hidden_kinds:
                withheld.append(Withheld(rec.seq, doc.sha256, OPEN_VOTES))
            elif (COMPLAINANT in hidden_kinds or doc.kind in IDENTITY_DOCUMENT_KINDS) and not identity:
                withheld.append(Withheld(rec.seq, doc.sha256, NAMES_COMPLAINANT))
        if VOTE in hidden_kinds:
            withheld_files[rec.seq] = OPEN_VOTES
        elif (COMPLAINANT in hidden_kinds or rec.seq == INTAKE_SEQ) and not identity:
            # The registration's files, an anonymous complaint's too: a letter's hand, a voice, a photo's GPS
            # may say who complained (duties.may_see_complaint_material).
            withheld_files[rec.seq] = HANDED_IN_BY_COMPLAINANT
    return BundleDisclosure(disclosures, withheld, withheld_files)


def _refuse_unsealed(signed: SignedRecord, definition: Any, shown: Any) -> None:
    rec = signed.record
    if rec.seq == 1:
        schema = definition.start_form_schema()
    elif is_model_step(rec.task_spec_id):
        schema = definition.form_schema(rec.task_spec_id)
    else:
        return
    for pointer, kind in confidential_fields(schema).items():
        if _holds(rec.form_data, pointer) and not shown(kind, rec.seq):
            raise Forbidden(f"第 {rec.seq} 步的签名记录早于密封字段，含 {pointer}，不能导出不含该值的证据包；请在线核验 "
                            f"(casetrail verify) 或由有权人员导出 (step {rec.seq} was signed before sealed fields and "
                            f"holds {pointer} in its signed bytes: verify it online, or have an entitled user export "
                            "the disclosing bundle)")


def _holds(form: Mapping[str, Any], pointer: str) -> bool:
    tokens = parse_pointer(pointer)
    parent = parent_of(form, tokens)
    return isinstance(parent, Mapping) and tokens[-1] in parent


__all__ = ["BundleDisclosure", "acted_on_votes", "plan",
           "require_identity_entitlement"]
