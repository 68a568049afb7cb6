"""Model document code (the `document` property of a user task) -> `documents` kind + builder.

The codes are the model's vocabulary (workflows/*.bpmn); the kinds are the documents library's. One
code may be produced by several steps (立案报告: drafted at 初步核查, approved at 立案审批) — each step
produces its own signed version, signed by whoever did that step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from documents import DocumentData

from . import decision, intake
from .context import StepContext

Builder = Callable[[StepContext], DocumentData | None]

#: the start event's code (投诉举报登记): its "form data" is the intake.
START_DOCUMENT = "complaint_register"


@dataclass(frozen=True)
class DocumentSpec:
    code: str  # model code
    kind: str  # documents.DOCUMENT_TYPES key
    builder: Builder


def _spec(code: str, kind: str, builder: Builder) -> DocumentSpec:
    return DocumentSpec(code, kind, builder)


MODEL_DOCUMENTS: dict[str, DocumentSpec] = {s.code: s for s in [
    _spec("complaint_register", "complaint_registration", intake.complaint_registration),
    _spec("acceptance_record", "case_acceptance", intake.case_acceptance),
    _spec("complainant_feedback", "complaint_result_notice", intake.complaint_result_notice),
    _spec("transfer_letter", "case_transfer", intake.case_transfer),
    _spec("case_filing_report", "case_filing_report", intake.case_filing_report),
    _spec("not_filed_notice", "non_filing_notice", intake.non_filing_notice),
    _spec("summary_penalty_decision", "on_the_spot_penalty_decision", decision.on_the_spot_penalty_decision),
    _spec("onsite_record", "on_site_record", intake.on_site_record),
    _spec("inquiry_record", "inquiry_record", intake.inquiry_record),
    _spec("evidence_preservation_decision", "evidence_preservation_decision", intake.evidence_preservation_decision),
    _spec("investigation_final_report", "investigation_final_report", intake.investigation_final_report),
    _spec("deliberation_record", "collegial_deliberation_record", decision.collegial_deliberation_record),
    _spec("prior_notice", "penalty_prior_notice", decision.penalty_prior_notice),
    _spec("service_receipt", "service_receipt", decision.service_receipt),
    _spec("statement_record", "statement_defense_record", decision.statement_defense_record),
    _spec("hearing_notice", "hearing_notice", decision.hearing_notice),
    _spec("hearing_record", "hearing_record", decision.hearing_record),
    _spec("hearing_report", "hearing_report", decision.hearing_report),
    _spec("legal_review_opinion", "legal_review_opinion", decision.legal_review_opinion),
    _spec("collective_discussion_record", "major_case_discussion_record", decision.major_case_discussion_record),
    _spec("penalty_decision", "penalty_decision", decision.penalty_decision),
    _spec("no_penalty_decision", "no_penalty_decision", decision.no_penalty_decision),
    _spec("publication_record", "publication_record", decision.publication_record),
    _spec("closing_report", "case_closing_report", decision.case_closing_report),
]}


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
