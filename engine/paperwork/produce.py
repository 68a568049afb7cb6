"""Completed step -> its 文书 as PDF: render, the actor's PAdES signature, the agency seal where required.

Errors from rendering/signing are `documents.DocumentError` subclasses and propagate unchanged: the
engine's use case rolls the whole step back, so a step never has a half-signed document.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace

from documents import (
    DocumentData,
    PdfSignatureError,
    PdfSigner,
    RenderMeta,
    render_document,
    verification_code,
)
from documents.render import SignatureBox

from .context import StepContext
from .table import build_document

OFFICER_FIELD = "OfficerSignature"
SEAL_FIELD = "AgencySeal"


@dataclass(frozen=True)
class ProducedDocument:
    """One signed 文书 of a step; `sha256` is over the exact signed bytes (recorded in the step record)."""

    kind: str
    title: str
    file_name: str
    pdf: bytes
    sha256: str
    page_count: int
    doc_number: str = ""
    verification_code: str = ""  # printed on each page; recomputable from `document`
    document: DocumentData | None = None


def produce_documents(ctx: StepContext, *, officer: PdfSigner | None, seal: PdfSigner | None,
                      meta: RenderMeta) -> list[ProducedDocument]:
    """Render and sign the 文书 of a completed step ([] for steps without one).

    `ctx.document_code` is the task's `document` property (``TaskMeta.document``). The PDF's time is the
    step's time (`meta.time` is replaced) so an auditor re-rendering the stored data gets the same bytes.
    `officer=None` and `seal=None` give an unsigned preview; a sealed kind (告知书, 决定书 — 行政处罚法
    第五十九条: 必须盖有印章) with an officer but no seal is refused.
    """
    doc = build_document(ctx.document_code, ctx)
    if doc is None:
        return []
    if doc.SEALED and officer is not None and seal is None:
        raise PdfSignatureError(f"{doc.TITLE}须加盖机关印章，但未提供电子印章 (a sealed document needs the agency seal)")
    rendered = render_document(doc, meta=replace(meta, time=ctx.step_time))
    pdf = rendered.pdf
    if officer is not None:
        pdf = _sign(pdf, doc, ctx, officer, signature_box(ctx, rendered.boxes), meta)
    if seal is not None and doc.SEALED:
        from documents import seal_pdf

        pdf = seal_pdf(pdf, seal=seal, signing_time=ctx.local_time, location=ctx.agency.name,
                       box=rendered.boxes.get("sig-seal"), field_name=SEAL_FIELD, font_cache_dir=meta.font_cache_dir)
    return [ProducedDocument(
        kind=doc.KIND, title=doc.TITLE, file_name=file_name(ctx, doc), pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(),
        page_count=rendered.page_count, doc_number=doc.doc_number, verification_code=verification_code(doc),
        document=doc,
    )]


def _sign(pdf: bytes, doc: DocumentData, ctx: StepContext, officer: PdfSigner, box: SignatureBox | None,
          meta: RenderMeta) -> bytes:
    from documents import sign_pdf

    # The same instant as the step's time, in the agency's zone: the visible stamp shows local time, never UTC.
    return sign_pdf(pdf, signer=officer, field_name=OFFICER_FIELD, reason=f"{ctx.task_name or ctx.task_spec_id}：{doc.TITLE}",
                    location=ctx.agency.name, signing_time=ctx.local_time, box=box,
                    font_family=meta.font_family, font_cache_dir=meta.font_cache_dir)


#: the model's signature blocks (`signatureBlock`) signed in one block of the 文书, not a numbered one
_ONE_BLOCK = {"head": "sig-head", "approver": "sig-approver", "recorder": "sig-recorder"}


def signature_box(ctx: StepContext, boxes: dict[str, SignatureBox]) -> SignatureBox | None:
    """The block where the step's actor signs, as the model's `signatureBlock` says: head/approver/recorder,
    a panel member's or a handler's numbered block, else the 承办人's "sig-officer" (numbered by 承办人 order).

    None puts the signature in the documents library's default place (letters without a signing block:
    告知书, 决定书 carry the seal block only).
    """
    wanted = _ONE_BLOCK.get(ctx.signature_block or "") or _numbered_box(ctx)
    for candidate in (wanted, "sig-officer"):
        if candidate and candidate in boxes:
            return boxes[candidate]
    return None


def _numbered_box(ctx: StepContext) -> str:
    if ctx.signature_block == "member":
        ballots = (ctx.case_data_after or {}).get("ballots") or (ctx.case_data_after or {}).get("tally", {}).get(
            "dissent") or ()
        members = [str(b.get("member")) for b in ballots if isinstance(b, dict)]
        return f"sig-member-{members.index(ctx.actor_id) + 1}" if ctx.actor_id in members else ""
    officers = [str(u) for u in (ctx.case_data.get("case_officers") or ())]
    if ctx.signature_block == "handler":
        return f"sig-handler-{officers.index(ctx.actor_id) + 1 if ctx.actor_id in officers else 1}"
    if ctx.actor_id in officers and officers.index(ctx.actor_id) > 0:
        return f"sig-officer-{officers.index(ctx.actor_id) + 1}"
    return "sig-officer"


_UNSAFE = re.compile(r"[^\w〔〕\-]+")


def file_name(ctx: StepContext, doc: DocumentData) -> str:
    """e.g. 呈卫投〔2026〕0012号-行政处罚决定书-make_decision.pdf (no path separators, no spaces)."""
    stem = "-".join(_UNSAFE.sub("_", part).strip("_") for part in (ctx.case_number, doc.TITLE, ctx.task_spec_id))
    return f"{stem}.pdf"
