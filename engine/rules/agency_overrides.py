"""An agency's settings applied to the platform's (engine/rules/agency_settings.py says what an agency may set):
the thresholds, legal review and 裁量基准 its cases run with, and the 文号 prefixes it numbers with. Pure: no
database."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from engine.errors import ConfigurationError
from engine.rules.agency_settings import DOCUMENT_NUMBERS
from engine.rules.discretion import DISCRETION_KEY
from engine.rules.settings import Agency, Settings


def apply_overrides(settings: Settings, overrides: Mapping[str, Any]) -> Settings:
    """`settings` with an agency's inherited overrides: the thresholds, legal review and 裁量基准 the model reads."""
    thresholds = dict(settings.thresholds)
    legal_all = settings.legal_review_all_general
    discretion = settings.discretion
    for key, value in overrides.items():
        group, _, name = key.partition(".")
        if group == "thresholds" and name in thresholds:
            thresholds[name] = dataclasses.replace(thresholds[name], value=value)
        elif key == "legal_review.all_general_procedure":
            legal_all = bool(value)
        elif key == DISCRETION_KEY and discretion is not None:
            discretion = dataclasses.replace(discretion, benchmark=str(value))
    return dataclasses.replace(settings, thresholds=thresholds, legal_review_all_general=legal_all,
                               discretion=discretion)


def setting_value(settings: Settings, key: str) -> Any:
    """What `settings` holds for the allow-listed `key` (after `apply_overrides`)."""
    group, _, name = key.partition(".")
    if group == "thresholds":
        return settings.thresholds[name].value
    if key == "legal_review.all_general_procedure":
        return settings.legal_review_all_general
    if key == DISCRETION_KEY and settings.discretion is not None:
        return settings.discretion.benchmark
    raise ConfigurationError(f"机构可设置项未接入 (agency_settings.{key} is not read by the engine)")


def document_prefixes(settings: Settings, agency: Agency, own: Mapping[str, Any]) -> dict[str, str]:
    """The 文号 prefixes of `agency`: settings.json's are written for the home agency (呈卫罚告); another agency's
    replace the home's 简称 with its own (和卫罚告), the kind numbered with the home's penalty_number_prefix (the
    处罚决定书) takes the agency's, and its
    own `document_numbers.<kind>` settings win. Prefixes are unique across the platform (engine/agencies.py), so
    each agency's 文号 run in their own sequences."""
    home = settings.agency
    prefixes = {kind: agency.penalty_number_prefix if prefix == home.penalty_number_prefix
                else (agency.short + prefix[len(home.short):]) if prefix.startswith(home.short) else prefix
                for kind, prefix in settings.document_numbers.items()}
    prefixes.update({k[len(DOCUMENT_NUMBERS):]: str(v) for k, v in own.items() if k.startswith(DOCUMENT_NUMBERS)})
    return prefixes


def agency_wording(settings: Settings, agency: Agency) -> Any:
    """settings.json `wording` as `agency` says it: the standing wording is written for the home agency, so its
    复议机关 and court (the 救济 sentence of the 决定书: 行政复议法 第二十四条, 行政诉讼法 第十八条) become the
    agency's own."""
    home = settings.agency
    swaps = [(old, new) for old, new in ((home.review_agency, agency.review_agency), (home.court, agency.court))
             if old and new and old != new]

    def said(value: Any) -> Any:
        if isinstance(value, str):
            for old, new in swaps:
                value = value.replace(old, new)
            return value
        if isinstance(value, Mapping):
            return {k: said(v) for k, v in value.items()}
        if isinstance(value, list):
            return [said(v) for v in value]
        return value

    return said(settings.raw.get("wording") or {})
