"""The 文书 of a step: rendered and signed before the step's write lock, stored in the step's transaction.

Rendering and PAdES signing are the slow part of a step (~100 ms) and pure: `prepare_step_documents` does
them from the case as read, with the next free 文号 as of that read; `store_step_documents` then claims the
number and stores the documents inside the step's one write transaction (engine/usecases/completion.py). A
rendering or signing failure raises before anything is written; a number taken meanwhile makes the step
prepare again. No step without its document, no document without its step. The sha256 of the stored (signed)
bytes goes into the step record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from documents import DOCUMENT_TYPES, PdfSigner, RenderMeta
from engine.agency_seals import seal_for
from engine.db.document_tables import DocumentRow
from engine.db.tables import UserRow
from engine.numbering import NumberClaim, claim_number, hold_number, peek_number
from engine.paperwork import AgencyInfo, ProducedDocument, StepContext, produce_documents
from engine.paperwork.table import MODEL_DOCUMENTS
from engine.rules.settings import Settings
from engine.services import Services
from engine.values import RecordedDocument
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
    document_variant: str | None = None  # the step's TaskMeta.document_variant / signature_block
    signature_block: str | None = None
    agency_code: str | None = None  # the agency handling the case, whose seal its 告知书/决定书 bear (None: home)
    # The drawn images the form records by digest, read from the store: digest -> PNG data URL.
    drawn_images: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PreparedDocuments:
    """A step's signed 文书 and the 文号 printed on them, not yet stored."""

    step: StepDocumentsInput
    produced: tuple[ProducedDocument, ...] = ()
    number: NumberClaim | None = None

    @property
    def refs(self) -> tuple[RecordedDocument, ...]:
        """What the step record lists (kind, file name, bytes)."""
        return tuple(RecordedDocument(kind=d.kind, file_name=d.file_name, data=d.pdf) for d in self.produced)


def _people(session: Session, step: StepDocumentsInput) -> tuple[dict[str, str], dict[str, str]]:
    """The display name, and the 执法证号 where the profile has one, of everyone the step's 文书 can name: the actor
    and any user id the data holds (a 文书 names people only by the ids its data gives). One read of those rows,
    not of every account on the platform."""
    named = {step.actor}
    _strings((step.case_data, step.form_data, step.case_data_after), into=named)
    names: dict[str, str] = {}
    certs: dict[str, str] = {}
    for uid, name, cert_no in session.execute(_PEOPLE, {"ids": sorted(named)}):
        names[uid] = name
        if cert_no:
            certs[uid] = cert_no
    return names, certs


def _strings(value: Any, *, into: set[str]) -> None:
    """Every string in `value` (keys too) short enough to be a user id; numbers as text (`name` looks up str())."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if len(item) <= USER_ID_MAX:
                into.add(item)
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif isinstance(item, int | float) and not isinstance(item, bool):
            into.add(str(item))


USER_ID_MAX = UserRow.__table__.c.id.type.length or 64
_PEOPLE = select(UserRow.id, UserRow.name, UserRow.cert_no).where(UserRow.id.in_(bindparam("ids", expanding=True)))


def pdf_signer(signer: KeySigner, name: str, chain: tuple[Any, ...] = ()) -> PdfSigner:
    return PdfSigner(name=name, private_key=signer.private_key, certificate=signer.certificate, chain=chain)


def document_sealed(kind: str) -> bool:
    """Whether the law wants the agency's seal on this kind (告知书, 决定书: 《行政处罚法》第五十九条)."""
    cls = DOCUMENT_TYPES.get(kind)
    return bool(cls is not None and cls.SEALED)


def document_number(session: Session, settings: Settings, document_code: str | None,
                    now: dt.datetime, *, held: bool = False) -> NumberClaim | None:
    """The next free 文号 of the 文书 a step makes, as of this read (no lock): numbered per document kind (its
    prefix in settings.json `document_numbers`, which names the agency: 呈卫罚告, 呈卫罚) and per year in the
    agency's time zone, so every kind starts again at 001 each year. `settings`: the case's (engine/agencies.py
    `case_settings`), whose prefixes are its agency's. None: the kind carries the case number only. `held`: the
    number under its row lock until the transaction ends (a step prepared inside its write transaction)."""
    spec = MODEL_DOCUMENTS.get(document_code) if document_code else None
    prefix = settings.document_prefix(spec.kind) if spec is not None else None
    if not prefix:
        return None
    return (hold_number if held else peek_number)(session, prefix, now.astimezone(settings.zone).year, width=3)


def prepare_step_documents(session: Session, svc: Services, step: StepDocumentsInput,
                           officer: KeySigner, *, settings: Settings,
                           recorded: NumberClaim | None = None, held: bool = False) -> PreparedDocuments:
    """Render and sign (officer; the case's agency's seal on 告知书/决定书) the step's 文书 with the next free 文号.
    An agency without a seal is refused (SealMissing) when the 文书 needs one, before anything is produced.

    `recorded`: the 文号 the step already wrote into its form data (`x-document-number`), printed and claimed
    whatever is produced — a number in a signed record is never given out again. `settings`: the case's (its
    agency's name, 复议机关 and 文号 prefixes). `held`: `session` is the step's write transaction, and the 文号 is
    held under its row lock, not peeked (`document_number`).
    `session` only reads (names, the number); nothing is written."""
    if not step.document_code:
        return PreparedDocuments(step, number=recorded)
    spec = MODEL_DOCUMENTS.get(step.document_code)
    if spec is None:
        return PreparedDocuments(step, number=recorded)
    names, certs = _people(session, step)
    number = recorded or document_number(session, settings, step.document_code, step.now, held=held)
    chain = (svc.agency_keys.certificates()["root"],)
    seal = seal_for(svc, step.agency_code) if document_sealed(spec.kind) else None
    ctx = StepContext(
        agency=AgencyInfo.from_settings(settings), case_number=step.case_number,
        doc_number=number.text if number else "", step_time=step.now, actor_id=step.actor,
        actor_name=names.get(step.actor, step.actor), task_spec_id=step.spec_id, task_name=step.task_name,
        document_code=step.document_code, variant=step.document_variant, signature_block=step.signature_block,
        case_data=step.case_data, form_data=step.form_data, officer_names=names, officer_certs=certs,
        case_data_after=step.case_data_after, due=step.due, drawn_images=step.drawn_images,
    )
    produced = produce_documents(
        ctx, officer=pdf_signer(officer, names.get(step.actor, step.actor), chain),
        seal=None if seal is None else pdf_signer(seal, settings.agency.name, chain),
        meta=RenderMeta(time=step.now, font_cache_dir=svc.font_cache_dir),
    )
    return PreparedDocuments(step, tuple(produced), number if produced or recorded else None)


def store_step_documents(session: Session, prepared: PreparedDocuments, *, case_id: int | None = None) -> None:
    """Claim the 文号 (NumberTaken if another step took it meanwhile) and store the documents."""
    if prepared.number is not None:
        claim_number(session, prepared.number)
    step = prepared.step
    if prepared.produced:  # rows written once and never changed in this transaction: the table's INSERT, built once
        session.execute(_INSERT_DOCUMENTS, [{
            "case_id": case_id if case_id is not None else step.case_id, "task_id": step.task_id,
            "spec_id": step.spec_id, "kind": doc.kind, "title": doc.title, "doc_number": doc.doc_number,
            "file_name": doc.file_name, "sha256": doc.sha256, "verification_code": doc.verification_code,
            "page_count": doc.page_count, "signed_by": step.actor, "created_at": step.now, "pdf": doc.pdf,
        } for doc in prepared.produced])


_INSERT_DOCUMENTS = DocumentRow.__table__.insert()
