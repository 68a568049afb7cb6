"""Reading a case's 文书: the list, and one signed PDF exactly as stored (its sha256 is in the step record)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from documents import DOCUMENT_TYPES
from engine.db.document_tables import DocumentRow
from engine.db.repositories import Cases
from engine.errors import NotFound
from engine.services import Services
from engine.values import DocumentView


def list_documents(svc: Services, case_ref: str | int) -> list[DocumentView]:
    """Every 文书 of the case, in the order the steps produced them. NotFound for an unknown case."""
    with svc.uow.read() as session:
        return documents_of(session, Cases(session).find(case_ref, with_state=False).id)


def documents_of(session: Session, case_id: int) -> list[DocumentView]:
    rows = session.scalars(select(DocumentRow).where(DocumentRow.case_id == case_id)
                           .options(defer(DocumentRow.pdf)).order_by(DocumentRow.id))  # not the PDFs
    return [_view(r) for r in rows]


def get_document(svc: Services, doc_id: int) -> tuple[DocumentView, bytes]:
    """One 文书 and its signed PDF bytes. NotFound for an unknown id."""
    with svc.uow.read() as session:
        row = session.get(DocumentRow, doc_id)
        if row is None:
            raise NotFound(f"文书不存在 (no such document): {doc_id}")
        return _view(row), bytes(row.pdf)


def _view(row: DocumentRow) -> DocumentView:
    kind = DOCUMENT_TYPES.get(row.kind)
    return DocumentView(
        id=row.id, case_id=row.case_id, task_id=row.task_id, spec_id=row.spec_id, kind=row.kind, title=row.title,
        doc_number=row.doc_number, file_name=row.file_name, sha256=row.sha256,
        verification_code=row.verification_code, page_count=row.page_count, signed_by=row.signed_by,
        created_at=row.created_at, title_en=kind.TITLE_EN if kind is not None else "",
    )
