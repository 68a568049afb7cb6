"""casetrail.documents — the 文书 as typed data, rendered to PDF, signed (PAdES), bound into the 案卷.

A pure library: jinja2 + WeasyPrint + pyHanko + cryptography; no Flask, SQLAlchemy, SpiffWorkflow or
engine imports. Plain data in, PDF bytes out. See docs/documents.md.
"""

from __future__ import annotations

import warnings
from importlib import import_module
from typing import Any

from .errors import DocumentDataError, DocumentError, PdfSignatureError
from .model import (
    QA,
    AttachedFile,
    DocumentData,
    Evidence,
    Officer,
    Opinion,
    Party,
    PartyKind,
    PartySignature,
    Penalty,
    Vote,
)
from .registry import DOCUMENT_TYPES, build
from .render import (
    RenderedDocument,
    RenderMeta,
    SignatureBox,
    render,
    render_document,
    render_html,
    verification_code,
)

# pyHanko imports cryptography's DSA key class, which cryptography deprecates; we sign with ECDSA (or RSA) only.
# Without this every command that loads the signing code would print that warning on stderr before its own line.
warnings.filterwarnings("ignore", message="DSA is deprecated", module="pyhanko")

_LAZY = {  # pyHanko/pypdf are imported only when signing, verifying or binding a dossier
    "PdfSigner": "signing", "sign_pdf": "signing", "seal_pdf": "signing",
    "PdfSignatureStatus": "verify", "verify_pdf_signatures": "verify",
    "DossierCover": "dossier", "DossierEntry": "dossier", "ManifestRow": "dossier", "build_dossier": "dossier",
    "bpmn_to_svg": "diagram",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'documents' has no attribute {name!r}")


__all__ = [
    "DOCUMENT_TYPES", "QA", "AttachedFile", "DocumentData", "DocumentDataError", "DocumentError", "DossierCover", "DossierEntry",
    "Evidence", "ManifestRow", "Officer", "Opinion", "Party", "PartyKind", "PartySignature", "PdfSignatureStatus", "PdfSigner",
    "Penalty", "RenderMeta", "RenderedDocument", "SignatureBox", "PdfSignatureError", "Vote", "bpmn_to_svg", "build",
    "build_dossier", "render", "render_document", "render_html", "seal_pdf", "sign_pdf", "verification_code",
    "verify_pdf_signatures",
]
