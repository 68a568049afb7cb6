"""One small error tree. The CLI maps every CasetrailError to exit 2, the web to a 4xx page.

Each message is written for a case officer first (Chinese), with the English in brackets.
"""

from __future__ import annotations


class CasetrailError(Exception):
    """Base of every error a user can cause and be told about."""

    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(CasetrailError):
    http_status = 500


class DatabaseUnavailable(CasetrailError):
    """The database cannot be reached, logged into, opened or written: nothing was done (CLI exit 2, web 503).

    Not the user's doing and not a verdict: `verify` that meets it reports the data unusable, not invalid.
    """

    http_status = 503


class ValidationError(CasetrailError):
    """Bad input: `errors` maps a field path to what is wrong with it."""

    http_status = 422

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}

    def __str__(self) -> str:
        if not self.errors:
            return self.message
        details = "; ".join(f"{field}: {err}" for field, err in self.errors.items())
        return f"{self.message} — {details}"


class NotFound(CasetrailError):
    http_status = 404


class Forbidden(CasetrailError):
    http_status = 403


class Conflict(CasetrailError):
    """Someone else changed the case or completed the task first; nothing of ours was written."""

    http_status = 409


class LegalGateRefused(CasetrailError):
    """A hard legal gate: refused with the article that forbids the action, in Chinese and, when the model gives
    it, in English (`article_en`, `reason_en`: empty otherwise)."""

    http_status = 422

    def __init__(self, article: str, message: str, article_en: str = "", message_en: str = "") -> None:
        english = f" ({message_en}; basis: {article_en})" if message_en and article_en else ""
        super().__init__(f"{message}（依据：{article}）{english}")
        self.article = article
        self.reason = message
        self.article_en = article_en
        self.reason_en = message_en


class DefinitionInvalid(CasetrailError):
    """A BPMN/DMN/form file failed validation; `location` is file:line element."""

    http_status = 422


class SigningError(CasetrailError):
    """Wrong PIN, revoked or expired certificate: nothing was signed, nothing written."""

    http_status = 403


class WrongSigningPin(SigningError):
    """The PIN did not open the key; the try was counted. `tries_left` before the key is blocked."""

    def __init__(self, message: str, tries_left: int) -> None:
        super().__init__(message)
        self.tries_left = tries_left


class SigningKeyBlocked(SigningError):
    """Too many wrong PINs in a row: the key refuses every PIN until a head or an administrator unblocks it."""


class EvidenceDamaged(CasetrailError):
    """An attached evidence file's stored bytes are missing or do not give the digest its signed record names: the
    store must be repaired from a backup (`casetrail verify` names every such file). Nothing was exported."""

    http_status = 500


class EvidenceRefused(CasetrailError):
    """An evidence file not taken, nothing kept: `http_status` 413 too large, 415 a type not accepted, 403 not a
    member of the case, 404 no such case or task, 422 a step that takes no evidence (CLI exit 2)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.http_status = status


class DraftTooLarge(CasetrailError):
    """A form's draft over settings.json `drafts.max_bytes`: not kept (HTTP 413, CLI exit 2)."""

    http_status = 413


class BackupRefused(CasetrailError):
    """A backup that cannot be made or restored (issue 17): a directory that cannot be read or holds a file its
    manifest does not vouch for, a target that is not empty, a stored file missing while backing up. Nothing was
    written (CLI exit 2)."""

    http_status = 409
