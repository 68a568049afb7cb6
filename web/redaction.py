"""What a viewer may see of a case: the one place that redacts.

Two rules live here and nowhere else:
- the complainant's identity (投诉举报人身份) is confidential: only the roles that need it to handle the
  complaint — intake, officer, head — see it; panel members, legal reviewers, publishers and auditors do
  not (《市场监督管理投诉举报处理暂行办法》第三十三条, applied by analogy);
- what reaches /public is redacted: ID numbers, mobile and phone numbers, bank accounts are masked in
  every string, and complainant fields are dropped entirely (《政府信息公开条例》第十五条).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

IDENTITY_ROLES = frozenset({"intake", "officer", "head"})

# Keys that hold who complained or how to reach them; matched on the key name, at any depth.
COMPLAINANT_KEYS = frozenset({
    "complainant", "complainant_name", "complainant_phone", "complainant_id_number", "complainant_address",
    "complainant_contact", "complainant_email", "reporter", "reporter_name", "reporter_phone", "informant",
})
REDACTED = "［已隐去］"
MASK = "＊＊＊"


# 文书 that name the complainant: the registration form (投诉举报登记表), and the letters sent to them — the
# feedback (投诉举报处理结果告知书) and the non-filing notice (不予立案通知书). A signed PDF cannot be redacted
# without breaking its signature, so those who may not see the complainant may not download these at all —
# nor the dossier (案卷), which contains every 文书 of the case.
IDENTITY_DOCUMENT_KINDS = frozenset({"complaint_registration", "complaint_result_notice", "non_filing_notice"})


def may_see_identity(roles: Iterable[str]) -> bool:
    return bool(IDENTITY_ROLES & set(roles))


def may_download_document(kind: str, roles: Iterable[str]) -> bool:
    """Whether a viewer with `roles` (who may see the case) may download a 文书 of this kind."""
    return kind not in IDENTITY_DOCUMENT_KINDS or may_see_identity(roles)


def _is_complainant_key(key: str) -> bool:
    return key in COMPLAINANT_KEYS or key.startswith(("complainant_", "reporter_"))


def redact_identity(value: Any, roles: Iterable[str]) -> Any:
    """`value` (case data, form data, event detail) with the complainant's identity replaced, unless the
    viewer's roles need it."""
    if may_see_identity(roles):
        return value
    return _drop_complainant(value, replacement=REDACTED)


def _drop_complainant(value: Any, *, replacement: Any) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and _is_complainant_key(key):
                if replacement is not None:
                    out[key] = replacement
                continue
            out[key] = _drop_complainant(item, replacement=replacement)
        return out
    if isinstance(value, list):
        return [_drop_complainant(v, replacement=replacement) for v in value]
    return value


def redact_complaint(value: Any, roles: Iterable[str]) -> Any:
    """The complaint as registered (投诉举报登记), for a viewer: complainant fields replaced, and — since a
    complainant often types their phone or ID number into the text itself — every such number masked."""
    if may_see_identity(roles):
        return value
    return _mask_strings(_drop_complainant(value, replacement=REDACTED))


def _mask_strings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _mask_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_strings(v) for v in value]
    if isinstance(value, str):
        return redact_public_text(value)
    return value


# A run of digits (optionally with spaces or dashes between them, and an ID's final X) long enough to be
# a mobile number, an ID number or a bank account. Digits of any script are folded first.
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9](?:[ \-]?[0-9]){6,}(?:[ \-]?[Xx])?(?![0-9A-Za-z])")
_LANDLINE = re.compile(r"(?<![0-9])0\d{2,3}[ \-]?\d{7,8}(?![0-9])")


def _mask_run(match: re.Match[str]) -> str:
    digits = re.sub(r"[ \-]", "", match.group(0))
    if len(digits) >= 11 or _LANDLINE.fullmatch(match.group(0)):
        return MASK  # mobile (11), ID (15/18), bank account (16–19), landline with area code
    return match.group(0)


def redact_public_text(text: str) -> str:
    """Mask every ID number, phone number and account number in `text` (what /public may show)."""
    return _DIGIT_RUN.sub(_mask_run, _fold(text))


_FOLD = {ord("Ｘ"): "X", ord("ｘ"): "x", ord("－"): "-", ord("\u3000"): " ", ord("‐"): "-"}


def _fold(text: str) -> str:
    """Digits of any script (full-width １３８…) become ASCII, so they cannot slip past the mask."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else _FOLD.get(ord(c), c) for c in text)


def redact_public(value: Any) -> Any:
    """A whole record made fit for /public: complainant fields dropped, every string masked."""
    return _mask_strings(_drop_complainant(value, replacement=None))


# Part of a number longer than this, searched for on /public, would tell whether a hidden ID or phone
# number is in a record (the search runs on the stored, unmasked values); document numbers and years
# have four digits in a row at most.
MAX_SEARCH_DIGITS = 4


def public_search_term(text: str) -> str | None:
    """`text` as a /public search term, or None when it holds a run of digits that could probe a masked
    number (digits of any script, with or without separators)."""
    folded = _fold(text)
    run = 0
    for char in folded:
        if char.isdigit():
            run += 1
            if run > MAX_SEARCH_DIGITS:
                return None
        elif char not in " -":
            run = 0
    return folded
