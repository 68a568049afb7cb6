"""The documents library's one small error tree.

Callers (the engine, the CLI) map `DocumentError` to a user-facing failure: nothing is written when any
of these is raised, so a step never ends up with a half-rendered or half-signed document.
"""

from __future__ import annotations


class DocumentError(Exception):
    """Anything that stops a 文书 from being rendered, signed, verified or bound into a dossier."""


class DocumentDataError(DocumentError, ValueError):
    """The data for a 文书 is missing a field or has a wrong value; `field` names it (dotted path)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class PdfSignatureError(DocumentError):
    """A PDF could not be signed, or a signature could not be read at all."""
