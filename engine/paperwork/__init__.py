"""From a completed step to its 文书: build the document data, render, sign (and seal), redact for /public.

Pure: imports `documents` and plain engine values, never SQLAlchemy or Flask, so the engine's use case
calls it inside the step's transaction and a `documents.DocumentError` rolls the step back.

    ctx = StepContext(agency=AgencyInfo.from_settings(settings), case_number=..., doc_number=...,
                      step_time=now, actor_id=user.id, actor_name=user.name, task_spec_id=task.spec_id,
                      task_name=task.name, document_code=meta.document, variant=meta.document_variant,
                      signature_block=meta.signature_block, case_data=task.data,
                      form_data=data, officer_names=names, case_data_after=instance.data, due=task.due)
    produced = produce_documents(ctx, officer=officer_signer, seal=seal_signer, meta=render_meta)
"""

from __future__ import annotations

from .context import AgencyInfo, StepContext, default_review_agency
from .produce import ProducedDocument, file_name, produce_documents, signature_box
from .publication import PublicDecision, redact_text, redacted_publication
from .table import MODEL_DOCUMENTS, START_DOCUMENT, DocumentSpec, build_document, document_spec

__all__ = [
    "MODEL_DOCUMENTS", "START_DOCUMENT", "AgencyInfo", "DocumentSpec", "ProducedDocument", "PublicDecision",
    "StepContext", "build_document", "default_review_agency", "document_spec", "file_name", "produce_documents",
    "redact_text", "redacted_publication", "signature_box",
]
