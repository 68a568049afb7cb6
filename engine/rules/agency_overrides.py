"""How an agency's settings change the Settings its cases run with: the inherited overrides applied, a setting
read back, the agency's 文号 prefixes.

Apart from engine/rules/agency_settings.py (the allow-list, which settings.py parses when it loads) because these
take and return Settings: one module holding both would import settings.py and be imported by it. Pure: no database.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from engine.errors import ConfigurationError
from engine.rules.agency_settings import DOCUMENT_NUMBERS
from engine.rules.settings import Agency, Settings


def apply_overrides(settings: Settings, overrides: Mapping[str, Any]) -> Settings:
    """`settings` with an agency's inherited overrides: the thresholds and legal review the model reads."""
    thresholds = dict(settings.thresholds)
    legal_all = settings.legal_review_all_general
    for key, value in overrides.items():
        group, _, name = key.partition(".")
        if group == "thresholds" and name in thresholds:
            thresholds[name] = dataclasses.replace(thresholds[name], value=value)
        elif key == "legal_review.all_general_procedure":
            legal_all = bool(value)
    return dataclasses.replace(settings, thresholds=thresholds, legal_review_all_general=legal_all)


def setting_value(settings: Settings, key: str) -> Any:
    """What `settings` holds for the allow-listed `key` (after `apply_overrides`)."""
    group, _, name = key.partition(".")
    if group == "thresholds":
        return settings.thresholds[name].value
    if key == "legal_review.all_general_procedure":
        return settings.legal_review_all_general
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
