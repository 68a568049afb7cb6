"""What /public may show, as the engine's redaction rules say (engine/rules/redaction.py); the pages that show
a case get it already redacted from the engine's read (engine/usecases/viewer.py)."""

from __future__ import annotations

from engine import public_search_term, redact_public, redact_public_text

__all__ = ["public_search_term", "redact_public", "redact_public_text"]
