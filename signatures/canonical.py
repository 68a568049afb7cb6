"""Canonical JSON (RFC 8785, JCS) and SHA-256 helpers.

Signatures and hashes are computed over bytes, so every signer and every verifier must produce the
*same* bytes for the same statement. RFC 8785 fixes key order, whitespace, string escaping and number
formatting. Records are small and signed on the hot path, so plain JSON values (str, int within the
IEEE-754 safe range, bool, None, list, dict with BMP-only keys) take a fast path through the C encoder,
whose output for exactly those values is byte-identical to JCS; anything else (floats, astral-plane
keys) goes through the reference `rfc8785` implementation. `tests/unit/signatures/test_canonical.py`
cross-checks both paths.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
from collections.abc import Callable
from typing import Any

import rfc8785

from signatures.errors import VerificationError

_MAX_SAFE = 2**53 - 1
# One configured encoder, reused: building a JSONEncoder per call costs as much as a third of
# encoding a record.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# The string escaper `_ENCODER` uses (ensure_ascii=False): for a str, exactly the JCS string spelling (short
# escapes for \b \t \n \f \r, \u00xx for other controls, nothing else escaped); raises TypeError otherwise.
encode_string: Callable[[str], str] = json.encoder.encode_basestring


def _c_plain_encoder() -> Callable[[Any], str]:
    """`_ENCODER.encode`, minus its per-call set-up: `JSONEncoder.encode` builds a new C encoder (and a dict of
    markers for cycle detection) on every call, a third of the cost of encoding a small object. Callers pass
    only values `_fast_path_ok` walked or `json.loads` built: neither holds a cycle, so markers add nothing. Falls back to
    `_ENCODER.encode` when the C encoder is missing or does not spell a probe exactly as `_ENCODER` does."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _ENCODER.encode
    try:
        encoder = make(None, _ENCODER.default, encode_string, None, ":", ",", True, False, False)
        probe = {"b": [1, -2, "é\n\u2028\x7f\"\\", None, True, False, []], "a": {"z": {}, "\u00e9": "x"}, "": 0}
        if "".join(encoder(probe, 0)) != _ENCODER.encode(probe):
            return _ENCODER.encode
    except Exception:  # another interpreter's private signature: keep the public path
        return _ENCODER.encode

    def encode(obj: Any) -> str:
        return "".join(encoder(obj, 0))

    return encode


encode_plain_text: Callable[[Any], str] = _c_plain_encoder()

_ASTRAL = "\U00010000"
_ASTRAL_LEADS = (b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4")  # substring search is memchr-fast


def _keys_ok(mapping: dict[Any, Any]) -> bool:
    """String keys only, and none astral: JCS sorts keys by UTF-16 code units, Python by code
    points; the two orders agree on the BMP only. One C-level join covers the all-ASCII case."""
    try:
        if "".join(mapping).isascii():
            return True
    except TypeError:  # a non-string key
        return False
    return all(key.isascii() or max(key) < _ASTRAL for key in mapping)


def _fast_path_ok(obj: Any) -> bool:
    """True when the C encoder's output equals JCS for obj (see module docstring).

    An explicit stack instead of recursion, scalars checked inline: this runs for every record
    signed and every record verified, and function calls per value would double its cost.
    """
    stack = [obj]
    pop, extend = stack.pop, stack.extend
    while stack:
        value = pop()
        t = type(value)
        if t is str or t is bool or value is None:
            continue
        if t is dict:
            if not _keys_ok(value):
                return False
            extend(value.values())
        elif t is list or t is tuple:
            extend(value)
        elif t is int:
            if not -_MAX_SAFE <= value <= _MAX_SAFE:
                return False
        else:
            return False
    return True


def plain_json_ok(obj: Any) -> bool:
    """Whether `encode_plain` produces the RFC 8785 bytes of obj (str/int/bool/None/list/dict only)."""
    return _fast_path_ok(obj)


def keys_ok(mapping: dict[Any, Any]) -> bool:
    """Whether a dict's keys are strings that sort the same in JCS and in Python."""
    return _keys_ok(mapping)


def encode_plain(obj: Any) -> bytes:
    """Canonical bytes of a value the caller has already checked with `plain_json_ok` (or equivalent)."""
    return encode_plain_text(obj).encode("utf-8")


def canonical_json(obj: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON value.

    Raises ValueError for values JSON cannot represent (NaN, infinities, unpaired surrogates,
    integers beyond 2**53, non-string keys).
    """
    if _fast_path_ok(obj):
        return encode_plain_text(obj).encode("utf-8")
    try:
        return rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(f"not representable as canonical JSON: {exc}") from exc


def parse_canonical(data: bytes) -> Any:
    """Parse JSON bytes and insist they are already canonical.

    A signed statement must mean one thing: duplicate keys, extra whitespace or alternative number
    spellings would let two verifiers read different values from the same signed bytes. Re-encoding
    and comparing catches all of them (a duplicate key re-encodes shorter). Runs for every record
    verified, so the common case avoids the reference encoder (see module docstring).
    """
    unusual: list[str] = []  # floats and integers beyond the fast path's range

    def note_float(text: str) -> float:
        unusual.append(text)
        return float(text)

    def note_int(text: str) -> int:
        if len(text) > 15:
            unusual.append(text)
        return int(text)

    try:
        obj = json.loads(data.decode("utf-8"), parse_float=note_float, parse_int=note_int)
    except (UnicodeDecodeError, ValueError) as exc:
        raise VerificationError(f"not valid JSON: {exc}") from exc
    try:
        # 4-byte UTF-8 sequences start with 0xF0..0xF4: astral characters, whose key order differs.
        if unusual or any(lead in data for lead in _ASTRAL_LEADS):
            again = canonical_json(obj)
        else:  # parsed JSON has no cycles; NaN/Infinity (parse_constant) still raise: allow_nan is off
            again = encode_plain_text(obj).encode("utf-8")
    except ValueError as exc:
        raise VerificationError(str(exc)) from exc
    if again != data:
        raise VerificationError("JSON is not in RFC 8785 canonical form (or has duplicate keys)")
    return obj


def recanonicalise(data: bytes) -> bytes:
    """The canonical bytes of a JSON document in any spelling (indented, keys in any order, a final newline).

    For statements whose signature covers their canonical form, not a file's bytes: a tree head an auditor
    kept as `casetrail log head --json` printed it. A duplicate key or NaN is refused, so the file can say
    only one thing.
    """
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"duplicate key in {keys}")
        return dict(pairs)

    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        obj = json.loads(data.decode("utf-8-sig"), object_pairs_hook=no_duplicates, parse_constant=no_constant)
        return canonical_json(obj)
    except (UnicodeDecodeError, ValueError) as exc:
        raise VerificationError(f"not valid JSON: {exc}") from exc


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256, the spelling used in every record, manifest and proof."""
    return hashlib.sha256(data).hexdigest()
