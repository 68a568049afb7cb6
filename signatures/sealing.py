"""Sealed fields: a record signs a salted digest of a confidential value, and the value travels separately.

docs/evidence-bundle.md §1a specifies it: a version-2 record's `sealed` maps an RFC 6901 JSON Pointer into its
`form_data` to hex(SHA-256(JCS({"salt": s, "value": v}))), and the sealed field is absent from `form_data`. A
*disclosure* ({pointer: {salt, value}}) opens the record: each digest is recomputed, and the *opened form* is
`form_data` with the disclosed values put back. The salt (16 random bytes, fresh per field) is what keeps a
phone number or a vote from being found by hashing every candidate value.
"""

from __future__ import annotations

import copy
import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from signatures.canonical import canonical_json
from signatures.errors import VerificationError

SALT_BYTES = 16
_SALT = re.compile(r"[0-9a-f]{32}")
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Disclosure:
    """A sealed field's value and the salt its digest was made with."""

    salt: str
    value: Any

    def to_json_obj(self) -> dict[str, Any]:
        return {"salt": self.salt, "value": self.value}


def seal_digest(salt: str, value: Any) -> str:
    """hex(SHA-256(JCS({"salt": salt, "value": value}))): what a version-2 record signs for a sealed field."""
    return hashlib.sha256(canonical_json({"salt": salt, "value": value})).hexdigest()


def new_salt() -> str:
    """16 fresh random bytes as 32 lower-case hex characters."""
    return secrets.token_hex(SALT_BYTES)


def parse_pointer(pointer: str) -> tuple[str, ...]:
    """The reference tokens of an RFC 6901 pointer to a member of an object (at least one token)."""
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        raise VerificationError(f"sealed field {pointer!r} is not a JSON Pointer (RFC 6901)")
    tokens = pointer[1:].split("/")
    if any(re.search(r"~(?![01])", t) for t in tokens):
        raise VerificationError(f"sealed field {pointer!r} has an invalid '~' escape")
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in tokens)


def format_pointer(tokens: Iterable[str]) -> str:
    """The RFC 6901 spelling of these member names."""
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens)


_INDEX = re.compile(r"0|[1-9][0-9]*")  # an array index as RFC 6901 spells it (no leading zeros, no "-")


def parent_of(form: Mapping[str, Any], tokens: tuple[str, ...]) -> Any:
    """The object that holds the member `tokens` points at (None when the path does not lead to an object).

    The path may pass through arrays by index (`/_evidence_files/0/name`: the name of a step's first file);
    the sealed member itself is always a member of an object."""
    node: Any = form
    for token in tokens[:-1]:
        if isinstance(node, Mapping):
            node = node.get(token)
        elif isinstance(node, list) and _INDEX.fullmatch(token) and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


def check_sealed(form: Mapping[str, Any], sealed: Mapping[str, str]) -> None:
    """Raise `VerificationError` unless `sealed` is well formed for `form`: pointers to members of objects of
    the form that the form does not hold, each with a 64-hex digest."""
    for pointer, digest in sealed.items():
        tokens = parse_pointer(pointer)
        if type(digest) is not str or not _HEX64.fullmatch(digest):
            raise VerificationError(f"sealed field {pointer}: the digest is not 64 lower-case hex digits")
        parent = parent_of(form, tokens)
        if not isinstance(parent, Mapping):
            raise VerificationError(f"sealed field {pointer}: its parent is not an object of form_data")
        if tokens[-1] in parent:
            raise VerificationError(f"sealed field {pointer} is also in form_data")


def seal_form(form: Mapping[str, Any], pointers: Iterable[str], *,
              salt: Any = new_salt) -> tuple[dict[str, Any], dict[str, str], dict[str, Disclosure]]:
    """(form without the sealed fields, {pointer: digest}, {pointer: disclosure}) for the `pointers` the form
    holds; a pointer whose field is absent (an optional field left empty) seals nothing."""
    out = copy.deepcopy(dict(form))
    sealed: dict[str, str] = {}
    disclosed: dict[str, Disclosure] = {}
    for pointer in sorted(set(pointers)):
        tokens = parse_pointer(pointer)
        parent = parent_of(out, tokens)
        if not isinstance(parent, dict) or tokens[-1] not in parent:
            continue
        value = parent.pop(tokens[-1])
        disclosure = Disclosure(salt(), value)
        sealed[pointer] = seal_digest(disclosure.salt, value)
        disclosed[pointer] = disclosure
    return out, sealed, disclosed


def disclosure_problem(pointer: str, sealed: Mapping[str, str], disclosure: Any) -> str | None:
    """Why this disclosure does not open the field (None: it does)."""
    digest = sealed.get(pointer)
    if digest is None:
        return f"{pointer}: disclosed, but the record seals no such field"
    if not isinstance(disclosure, Disclosure) or type(disclosure.salt) is not str \
            or not _SALT.fullmatch(disclosure.salt):
        return f"{pointer}: the salt is not 32 lower-case hex digits"
    try:
        computed = seal_digest(disclosure.salt, disclosure.value)
    except (TypeError, ValueError, VerificationError):
        return f"{pointer}: the disclosed value is not plain JSON"
    if computed != digest:
        return f"{pointer}: the value or salt does not give the signed digest"
    return None


def open_form(form: Mapping[str, Any], sealed: Mapping[str, str],
              disclosures: Mapping[str, Disclosure]) -> tuple[dict[str, Any], list[str], list[str]]:
    """(opened form, problems, withheld pointers): `form` with every disclosure that opens its field put back.

    A disclosure that does not open its field is a problem (and its value is left out); a sealed field with no
    disclosure is withheld."""
    opened = copy.deepcopy(dict(form))
    problems, withheld = [], []
    for pointer in sorted(set(sealed) | set(disclosures)):
        if pointer not in disclosures:
            withheld.append(pointer)
            continue
        problem = disclosure_problem(pointer, sealed, disclosures[pointer])
        if problem is not None:
            problems.append(problem)
            continue
        tokens = parse_pointer(pointer)
        parent = parent_of(opened, tokens)
        if isinstance(parent, dict):
            parent[tokens[-1]] = copy.deepcopy(disclosures[pointer].value)
    return opened, problems, withheld


def disclosures_to_json(disclosures: Mapping[str, Disclosure]) -> bytes:
    """A record's disclosure as a bundle carries it (`disclosures/NNNN.json`): canonical JSON."""
    return canonical_json({p: d.to_json_obj() for p, d in disclosures.items()})


def disclosures_from_json_obj(obj: Any) -> dict[str, Disclosure]:
    """Parse `{pointer: {"salt", "value"}}`; anything else raises `VerificationError`."""
    if not isinstance(obj, dict):
        raise VerificationError("a disclosure must be a JSON object of sealed fields")
    out = {}
    for pointer, item in obj.items():
        parse_pointer(pointer)
        if not isinstance(item, dict) or set(item) != {"salt", "value"}:
            raise VerificationError(f"{pointer}: a disclosed field must have exactly salt and value")
        out[pointer] = Disclosure(item["salt"], item["value"])
    return out
