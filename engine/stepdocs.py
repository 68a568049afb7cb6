"""The 文书 of a completed step, produced and stored inside the step's transaction.

A rendering or signing failure raises and rolls the whole step back: no step without its document,
no document without its step. The sha256 of the stored (signed) bytes goes into the step record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents import PdfSigner, RenderMeta
from engine.db.document_tables import DocumentRow
from engine.db.session import data_dir
from engine.db.tables import UserRow
from engine.numbering import next_number
from engine.paperwork import AgencyInfo, ProducedDocument, StepContext, produce_documents
from engine.paperwork.table import MODEL_DOCUMENTS
from engine.rules.settings import Settings
from engine.services import Services
from engine.values import ProducedDocument as ProducedRef
from signatures.keys import KeySigner


@dataclass(frozen=True)
class StepDocumentsInput:
    case_id: int
    case_number: str
    task_id: str | None
    spec_id: str
    task_name: str
    document_code: str | None
    actor: str
    case_data: Mapping[str, Any]
    form_data: Mapping[str, Any]
    case_data_after: Mapping[str, Any] | None
    due: dt.datetime | None
    now: dt.datetime


def _names(session: Session) -> dict[str, str]:
    return {uid: name for uid, name in session.execute(select(UserRow.id, UserRow.name))}


def pdf_signer(signer: KeySigner, name: str, chain: tuple[Any, ...] = ()) -> PdfSigner:
    return PdfSigner(name=name, private_key=signer.private_key, certificate=signer.certificate, chain=chain)


def documents_for_step(session: Session, svc: Services, step: StepDocumentsInput,
                       officer: KeySigner) -> tuple[ProducedRef, ...]:
    """Produce and store the step's documents; what the step record lists (kind, file name, bytes)."""
    if not step.document_code or step.document_code not in MODEL_DOCUMENTS:
        return ()
    certificates = svc.agency_keys.certificates()
    rows = produce_step_documents(
        session, step, settings=svc.settings, officer=officer, seal=svc.agency_keys.seal_signer(),
        chain=(certificates["root"],), font_cache_dir=data_dir() / "cache" / "fonts",
    )
    return tuple(ProducedRef(kind=r.kind, file_name=r.file_name, data=r.pdf) for r in rows)


def produce_step_documents(
    session: Session, step: StepDocumentsInput, *, settings: Settings, officer: KeySigner, seal: KeySigner | None,
    chain: tuple[Any, ...] = (), font_cache_dir: Any = None,
) -> list[DocumentRow]:
    """Render, sign (officer; agency seal on 告知书/决定书), number and store the step's documents."""
    if not step.document_code:
        return []
    spec = MODEL_DOCUMENTS.get(step.document_code)
    if spec is None:
        return []
    names = _names(session)
    prefix = settings.document_prefix(spec.kind)
    year = step.now.astimezone(ZoneInfo(settings.agency.timezone)).year
    doc_number = next_number(session, prefix, year, width=3) if prefix else ""
    ctx = StepContext(
        agency=AgencyInfo.from_settings(settings), case_number=step.case_number, doc_number=doc_number,
        step_time=step.now, actor_id=step.actor, actor_name=names.get(step.actor, step.actor),
        task_spec_id=step.spec_id, task_name=step.task_name, document_code=step.document_code,
        case_data=step.case_data, form_data=step.form_data, officer_names=names,
        case_data_after=step.case_data_after, due=step.due,
    )
    produced = produce_documents(
        ctx, officer=pdf_signer(officer, names.get(step.actor, step.actor), chain),
        seal=pdf_signer(seal, settings.agency.name, chain) if seal is not None else None,
        meta=RenderMeta(time=step.now, font_cache_dir=font_cache_dir),
    )
    rows = [_row(step, doc) for doc in produced]
    for row in rows:
        session.add(row)
    return rows


def _row(step: StepDocumentsInput, doc: ProducedDocument) -> DocumentRow:
    return DocumentRow(
        case_id=step.case_id, task_id=step.task_id, spec_id=step.spec_id, kind=doc.kind, title=doc.title,
        doc_number=doc.doc_number, file_name=doc.file_name, sha256=doc.sha256,
        verification_code=doc.verification_code, page_count=doc.page_count, signed_by=step.actor,
        created_at=step.now, pdf=doc.pdf,
    )
