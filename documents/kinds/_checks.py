"""Statutory checks shared by several 文书 (raised as DocumentDataError naming the field)."""

from __future__ import annotations

from collections.abc import Sized

from ..errors import DocumentDataError


def at_least_two_officers(officers: Sized, field: str) -> None:
    """行政处罚法 Art 42: 执法人员不得少于两人 — also 立案 names ≥2 承办人."""
    if len(officers) < 2:
        raise DocumentDataError(f"{field}: at least two officers are required (行政处罚法第四十二条)", field=field)
