"""Model document code (the `document` property of a user task) -> `documents` kind + builder.

The codes are the model's vocabulary (workflows/*.bpmn) and the kind each produces is data beside the model
(workflows/documents.json); the builders here are keyed by the documents library's classes. So no Python
names a code — several are also step ids of the default model — and a province's model with other codes
needs a line of data, not code. One code may be produced by several steps (立案报告: drafted at 初步核查,
approved at 立案审批) — each step produces its own signed version, signed by whoever did that step.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from documents import DOCUMENT_TYPES, DocumentData
from documents.kinds.closing import (
    CaseClosingReport,
    ComplaintResultNotice,
    PublicationRecord,
    ServiceReceipt,
)
from documents.kinds.decision import (
    NoPenaltyDecision,
    OnTheSpotPenaltyDecision,
    PenaltyDecision,
    PenaltyPriorNotice,
)
from documents.kinds.hearing import HearingNotice, HearingRecord, HearingReport
from documents.kinds.intake import (
    CaseAcceptance,
    CaseFilingReport,
    CaseTransfer,
    ComplaintRegistration,
    NonFilingNotice,
)
from documents.kinds.investigation import (
    EvidencePreservationDecision,
    InquiryRecord,
    InvestigationFinalReport,
    OnSiteRecord,
)
from documents.kinds.review import (
    CollegialDeliberationRecord,
    LegalReviewOpinion,
    MajorCaseDiscussionRecord,
    StatementDefenseRecord,
)
from documents.kinds.supervision import SupervisionNotice, SupervisionReport

from . import decision, intake, supervision
from .context import StepContext

Builder = Callable[[StepContext], DocumentData | None]

#: the start event's code (投诉举报登记): its "form data" is the intake.
START_DOCUMENT = "complaint_register"
#: model document code -> documents kind (a data file shipped with the model, read once at import like the code)
CODES_FILE = Path(__file__).resolve().parents[2] / "workflows" / "documents.json"


@dataclass(frozen=True)
class DocumentSpec:
    code: str  # model code
    kind: str  # documents.DOCUMENT_TYPES key
    builder: Builder


#: documents kind -> the function that builds its data from a step
BUILDERS: dict[str, Builder] = {cls.KIND: builder for cls, builder in [
    (ComplaintRegistration, intake.complaint_registration),
    (CaseAcceptance, intake.case_acceptance),
    (ComplaintResultNotice, intake.complaint_result_notice),
    (CaseTransfer, intake.case_transfer),
    (CaseFilingReport, intake.case_filing_report),
    (NonFilingNotice, intake.non_filing_notice),
    (OnTheSpotPenaltyDecision, decision.on_the_spot_penalty_decision),
    (OnSiteRecord, intake.on_site_record),
    (InquiryRecord, intake.inquiry_record),
    (EvidencePreservationDecision, intake.evidence_preservation_decision),
    (InvestigationFinalReport, intake.investigation_final_report),
    (CollegialDeliberationRecord, decision.collegial_deliberation_record),
    (PenaltyPriorNotice, decision.penalty_prior_notice),
    (ServiceReceipt, decision.service_receipt),
    (StatementDefenseRecord, decision.statement_defense_record),
    (HearingNotice, decision.hearing_notice),
    (HearingRecord, decision.hearing_record),
    (HearingReport, decision.hearing_report),
    (LegalReviewOpinion, decision.legal_review_opinion),
    (MajorCaseDiscussionRecord, decision.major_case_discussion_record),
    (PenaltyDecision, decision.penalty_decision),
    (NoPenaltyDecision, decision.no_penalty_decision),
    (PublicationRecord, decision.publication_record),
    (CaseClosingReport, decision.case_closing_report),
    (SupervisionNotice, supervision.supervision_notice),
    (SupervisionReport, supervision.supervision_report),
]}


def read_codes(path: Path = CODES_FILE) -> dict[str, DocumentSpec]:
    """The model's document codes with their kind and builder; a kind without a builder is refused here, at
    import, not at the step that would produce it."""
    codes = {code: kind for code, kind in json.loads(path.read_text(encoding="utf-8")).items()
             if not code.startswith("$")}
    unknown = sorted(f"{code}: {kind}" for code, kind in codes.items() if kind not in BUILDERS or kind not in DOCUMENT_TYPES)
    if unknown:
        raise ValueError(f"{path.name}: 文书种类未配置 (no builder for the kind): {', '.join(unknown)}")
    return {code: DocumentSpec(code, kind, BUILDERS[kind]) for code, kind in codes.items()}


MODEL_DOCUMENTS: dict[str, DocumentSpec] = read_codes()


def document_spec(code: str | None) -> DocumentSpec | None:
    """The spec for a model code; None for steps without a 文书. An unknown code is a model error."""
    if not code:
        return None
    try:
        return MODEL_DOCUMENTS[code]
    except KeyError:
        from documents import DocumentDataError

        raise DocumentDataError(f"模型中的文书代码未配置 (unmapped model document code): {code}",
                                field="document") from None


def build_document(code: str | None, ctx: StepContext) -> DocumentData | None:
    spec = document_spec(code)
    return None if spec is None else spec.builder(ctx)
