"""Which fields of a step's form are confidential, as the model declares them (no list in Python).

A form schema (workflows/forms/*.schema.json) marks a property `"x-confidential": "<class>"`:
- `complainant`: the complainant's identity (投诉举报人身份) — only those who handle the complaint may see it
  (《市场监督管理投诉举报处理暂行办法》第三十三条, applied by analogy);
- `vote`: a panel member's vote, sealed until the step that acts on the deliberation is signed (合议: each member
  votes independently; nobody reads another's vote while the round is open).
A step record signs a salted digest of each such value instead of the value (signatures/sealing.py,
docs/evidence-bundle.md §1a). Pure: a schema in, {JSON Pointer: class} out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from signatures.evidence import EVIDENCE_KEY
from signatures.sealing import format_pointer

KEYWORD = "x-confidential"
COMPLAINANT = "complainant"
VOTE = "vote"
CLASSES = frozenset({COMPLAINANT, VOTE})


def confidential_fields(schema: Mapping[str, Any] | None) -> dict[str, str]:
    """{JSON Pointer into the form data: class} of every property the schema marks confidential.

    Properties of nested objects are followed; array items are not (a sealed field is a member of an object).
    An unknown class is a model error: refused rather than left unsealed."""
    found: dict[str, str] = {}
    _walk(schema or {}, (), found)
    return found


# The fields of each file a record lists that a confidential declaration seals: what a person wrote (the file's
# name, the note) may name the complainant; the number, digest, size and type a verifier needs to re-hash the
# bytes stay readable.
SEALED_FILE_FIELDS = ("name", "note")


def evidence_fields(schema: Mapping[str, Any] | None, entries: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """{JSON Pointer: class} of the file names and notes the record listing `entries` seals, when the form's
    `x-evidence` declares its files confidential (投诉举报登记: the complainant's material); else {}."""
    spec = (schema or {}).get("x-evidence")
    kind = spec.get(KEYWORD) if isinstance(spec, Mapping) else None
    if kind is None:
        return {}
    return {format_pointer((EVIDENCE_KEY, str(i), field)): kind
            for i, entry in enumerate(entries) for field in SEALED_FILE_FIELDS if field in entry}


def _walk(node: Mapping[str, Any], path: tuple[str, ...], found: dict[str, str]) -> None:
    for name, prop in (node.get("properties") or {}).items():
        if not isinstance(prop, Mapping):
            continue
        where = (*path, name)
        kind = prop.get(KEYWORD)
        if kind is not None:
            if kind not in CLASSES:
                raise ValueError(f"{format_pointer(where)}: {KEYWORD} must be one of {sorted(CLASSES)}, not {kind!r}")
            found[format_pointer(where)] = kind
        elif prop.get("type") == "object" or "properties" in prop:
            _walk(prop, where, found)


__all__ = ["CLASSES", "COMPLAINANT", "KEYWORD", "SEALED_FILE_FIELDS", "VOTE", "confidential_fields",
           "evidence_fields"]
