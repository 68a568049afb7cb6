"""What an agency may set for itself and the agencies below it, and how the tree's settings combine.

Law as data: settings.json `agency_settings` lists every key an agency may set (what the law lets a province or a
city decide: 较大数额 under 行政处罚法 第六十三条, legal review of every general case under 第五十八条, the 裁量基准
it adopts under 第三十四条), each with
its type and legal basis; a key not listed is refused, naming the list. The value a case runs with is the
nearest agency's up the tree (the case's own agency first), else settings.json's. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.errors import ConfigurationError, ValidationError
from engine.rules.discretion import BENCHMARK_ID, DISCRETION_KEY

NUMBER = "number"
BOOLEAN = "boolean"
# One of the 裁量基准 the model publishes: its id here, checked against the model's table by the use case that
# sets it (engine/spiff/benchmarks.py), which this pure module cannot read.
BENCHMARK = "benchmark"
# An agency's own 文号 prefix for a document kind (`document_numbers.<kind>`): its identity, not a legal
# choice, so it is not inherited by the agencies below it (engine/agencies.py).
DOCUMENT_NUMBERS = "document_numbers."


@dataclass(frozen=True)
class AgencySetting:
    """One key an agency may set (settings.json `agency_settings`), with the article that lets it."""

    key: str  # dotted: "thresholds.hearing_large_fine_citizen"
    type: str  # NUMBER | BOOLEAN | BENCHMARK
    basis: str
    basis_en: str = ""
    minimum: float | None = None

    def parse(self, raw: Any) -> float | bool | str:
        """The value `raw` (typed on a command line or a page, or read back from JSON) as this key holds it;
        ValidationError naming the basis when it is not one."""
        text = str(raw).strip().lower()
        if self.type == BENCHMARK:
            if isinstance(raw, str) and BENCHMARK_ID.fullmatch(raw.strip()):
                return raw.strip()
            raise ValidationError("机构设置值有误 (invalid agency setting)",
                                  {self.key: f"须为裁量基准编号 (must be a benchmark id; {self.basis})"})
        if self.type == BOOLEAN:
            if isinstance(raw, bool):
                return raw
            if text in ("true", "yes", "1", "是"):
                return True
            if text in ("false", "no", "0", "否"):
                return False
            raise ValidationError("机构设置值有误 (invalid agency setting)",
                                  {self.key: f"须为 true 或 false (must be true or false; {self.basis})"})
        try:
            value = float(raw) if not isinstance(raw, bool) else float("nan")
        except (TypeError, ValueError):
            value = float("nan")
        if value != value or value in (float("inf"), float("-inf")) or (
                self.minimum is not None and value < self.minimum):
            floor = f" ≥ {self.minimum:g}" if self.minimum is not None else ""
            raise ValidationError("机构设置值有误 (invalid agency setting)",
                                  {self.key: f"须为数字{floor} (must be a number{floor}; {self.basis})"})
        return int(value) if value == int(value) else value


def parse_agency_settings(data: Mapping[str, Any], thresholds: Iterable[str]) -> dict[str, AgencySetting]:
    """settings.json `agency_settings`: every key names a threshold of the file or a setting the engine reads."""
    allowed: dict[str, AgencySetting] = {}
    known = {f"thresholds.{t}" for t in thresholds} | {"legal_review.all_general_procedure", DISCRETION_KEY}
    for key, spec in data.items():
        if key.startswith("$"):
            continue
        if key not in known:
            raise ConfigurationError(f"机构可设置项未知 (agency_settings.{key}: not a setting the engine reads)")
        if spec.get("type") not in (NUMBER, BOOLEAN, BENCHMARK) or not spec.get("basis"):
            raise ConfigurationError(f"机构可设置项须有类型和依据 (agency_settings.{key} needs a type and a basis)")
        allowed[key] = AgencySetting(key=key, type=spec["type"], basis=spec["basis"], basis_en=spec.get("basis_en", ""),
                                     minimum=float(spec["min"]) if "min" in spec else None)
    return allowed


def check_override(allowed: Mapping[str, AgencySetting], key: str, raw: Any) -> float | bool | str:
    """The value an agency sets for `key`; ValidationError when the law (the allow-list) does not let it."""
    spec = allowed.get(key)
    if spec is None:
        raise ValidationError("该设置不允许由机构自行设定 (an agency may not set this)", {
            key: "机构只能设定 settings.json agency_settings 所列、法律允许省市设定的项目: "
                 f"{', '.join(sorted(allowed)) or '(none)'} (only the keys the law lets a province or city set)"})
    return spec.parse(raw)


def inherited(chain: Sequence[Mapping[str, Any]], allowed: Mapping[str, AgencySetting]) -> dict[str, Any]:
    """The overrides a case runs with: `chain` is the agencies' settings from the root down to the case's own
    agency; the nearest that sets a key wins. Keys no longer allowed are ignored (the list may have shrunk)."""
    values: dict[str, Any] = {}
    for own in chain:
        values.update({k: v for k, v in own.items() if k in allowed})
    return values
