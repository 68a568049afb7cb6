"""Kind code -> document dataclass, and `build()` from the engine's plain form data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .convert import from_mapping
from .errors import DocumentDataError
from .kinds.closing import CaseClosingReport, ComplaintResultNotice, PublicationRecord, ServiceReceipt
from .kinds.decision import NoPenaltyDecision, OnTheSpotPenaltyDecision, PenaltyDecision, PenaltyPriorNotice
from .kinds.hearing import HearingNotice, HearingRecord, HearingReport, HearingRightsNotice
from .kinds.intake import (
    CaseAcceptance,
    CaseFilingReport,
    CaseTransfer,
    ComplaintRegistration,
    NonFilingNotice,
)
from .kinds.investigation import (
    EvidencePreservationDecision,
    InquiryRecord,
    InvestigationFinalReport,
    OnSiteRecord,
)
from .kinds.review import (
    CollegialDeliberationRecord,
    LegalReviewOpinion,
    MajorCaseDiscussionRecord,
    StatementDefenseRecord,
)
from .kinds.supervision import SupervisionNotice, SupervisionReport
from .model import DocumentData

_ALL: tuple[type[DocumentData], ...] = (
    ComplaintRegistration,
    CaseAcceptance,
    CaseTransfer,
    CaseFilingReport,
    NonFilingNotice,
    OnSiteRecord,
    InquiryRecord,
    EvidencePreservationDecision,
    InvestigationFinalReport,
    CollegialDeliberationRecord,
    PenaltyPriorNotice,
    StatementDefenseRecord,
    HearingRightsNotice,
    HearingNotice,
    HearingRecord,
    HearingReport,
    LegalReviewOpinion,
    MajorCaseDiscussionRecord,
    OnTheSpotPenaltyDecision,
    PenaltyDecision,
    NoPenaltyDecision,
    ServiceReceipt,
    CaseClosingReport,
    PublicationRecord,
    ComplaintResultNotice,
    SupervisionNotice,
    SupervisionReport,
)

#: kind code (English snake_case) -> dataclass; the Chinese title is `cls.TITLE`.
DOCUMENT_TYPES: dict[str, type[DocumentData]] = {cls.KIND: cls for cls in _ALL}


def build(kind: str, data: Mapping[str, Any]) -> DocumentData:
    """Validate and convert plain form data into the 文书's dataclass.

    Raises `DocumentDataError` naming the field (``party.name``, ``members[1].vote``) so the engine can
    refuse the step before anything is rendered or signed.
    """
    cls = DOCUMENT_TYPES.get(kind)
    if cls is None:
        raise DocumentDataError(f"unknown document kind {kind!r}", field="kind")
    if not isinstance(data, Mapping):
        raise DocumentDataError(f"{cls.TITLE} ({kind}): data must be an object", field="")
    try:
        return from_mapping(cls, data)
    except DocumentDataError as exc:
        raise DocumentDataError(f"{cls.TITLE} ({kind}): {exc}", field=exc.field) from None
    except TypeError as exc:  # pragma: no cover - a dataclass bug, reported clearly anyway
        raise DocumentDataError(f"{cls.TITLE} ({kind}): {exc}") from exc
