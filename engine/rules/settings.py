"""Province settings: time limits and thresholds as data, each with its legal basis (workflows/settings.json)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.errors import ConfigurationError

DEFAULT_SETTINGS_PATH = Path(__file__).resolve().parents[2] / "workflows" / "settings.json"


class DayUnit(StrEnum):
    WORKING = "working"
    CALENDAR = "calendar"


@dataclass(frozen=True)
class TimeLimit:
    id: str
    days: int
    unit: DayUnit
    warn_before_days: int
    start_event: str
    basis: str
    status: str


@dataclass(frozen=True)
class Threshold:
    id: str
    value: float
    unit: str
    basis: str
    status: str


@dataclass(frozen=True)
class Agency:
    name: str
    short: str
    case_number_prefix: str
    penalty_number_prefix: str
    timezone: str
    review_agency: str = ""  # 行政复议机关 named in decisions (行政复议法 Art 24); derived when empty
    court: str = ""  # the court named for 行政诉讼 (行政诉讼法 Art 18); generic wording when empty


@dataclass(frozen=True)
class Security:
    """Security policy as data (settings.json `security`), each value with its basis."""

    # Wrong signing PINs in a row before the officer's key is blocked (engine/officer_keys.py).
    signing_pin_attempts: int
    signing_pin_attempts_basis: str


@dataclass(frozen=True)
class Settings:
    province: str
    agency: Agency
    time_limits: Mapping[str, TimeLimit]
    thresholds: Mapping[str, Threshold]
    panel_size: int
    legal_review_all_general: bool
    working_day_overrides: Mapping[dt.date, bool]
    raw: Mapping[str, Any]
    security: Security
    document_numbers: Mapping[str, str] = field(default_factory=dict)
    # Years whose whole announced schedule `working_day_overrides` carries: year -> the notice's reference.
    announced_schedules: Mapping[int, str] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        """The agency's local time (agency.timezone): the day a deadline ends, the year of a 文号, the dates shown."""
        return ZoneInfo(self.agency.timezone)

    def document_prefix(self, kind: str) -> str | None:
        """The 文号 prefix of a document kind (呈卫罚 → 呈卫罚〔2026〕001号), or None: numbered by the case."""
        return self.document_numbers.get(kind)

    def limit(self, limit_id: str) -> TimeLimit:
        try:
            return self.time_limits[limit_id]
        except KeyError:
            raise ConfigurationError(f"未配置的期限 (unknown time limit): {limit_id}") from None

    def threshold(self, threshold_id: str) -> float:
        try:
            return self.thresholds[threshold_id].value
        except KeyError:
            raise ConfigurationError(f"未配置的阈值 (unknown threshold): {threshold_id}") from None

    def for_process(self) -> dict[str, Any]:
        """The plain values a BPMN/DMN model may read (passed into the case's data as `settings`)."""
        return {
            "thresholds": {k: t.value for k, t in self.thresholds.items()},
            "panel_size": self.panel_size,
            "legal_review_all_general": self.legal_review_all_general,
            "agency_name": self.agency.name,
        }


def parse_settings(data: Mapping[str, Any]) -> Settings:
    try:
        agency = Agency(**data["agency"])
        limits = {
            k: TimeLimit(
                id=k, days=int(v["days"]), unit=DayUnit(v["unit"]), warn_before_days=int(v.get("warn_before_days", 0)),
                start_event=v.get("start_event", ""), basis=v["basis"], status=v.get("status", "R"),
            )
            for k, v in data["time_limits"].items()
        }
        thresholds = {
            k: Threshold(id=k, value=v["value"], unit=v.get("unit", ""), basis=v["basis"], status=v.get("status", "R"))
            for k, v in data["thresholds"].items()
        }
        panel_size = int(data["panel"]["size"])
        overrides = {
            dt.date.fromisoformat(day): bool(work)
            for day, work in data.get("working_day_overrides", {}).get("days", {}).items()
        }
        schedules = {int(year): str(reference) for year, reference
                     in data.get("working_day_overrides", {}).get("schedules", {}).items() if not year.startswith("$")}
        legal_all = bool(data["legal_review"]["all_general_procedure"])
        numbers = {k: str(v) for k, v in data.get("document_numbers", {}).items() if not k.startswith("$")}
        pin_attempts = data["security"]["signing_pin_attempts"]
        security = Security(signing_pin_attempts=int(pin_attempts["value"]), signing_pin_attempts_basis=pin_attempts["basis"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"省级配置文件格式错误 (malformed settings): {exc!r}") from exc
    try:
        ZoneInfo(agency.timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ConfigurationError(f"未知时区 (unknown agency.timezone): {agency.timezone!r}") from exc
    if panel_size < 3 or panel_size % 2 == 0:
        raise ConfigurationError(f"合议人数必须为不少于3的奇数 (panel size must be odd and >= 3): {panel_size}")
    if not 1 <= security.signing_pin_attempts <= 10:
        # 10^6 PINs: more tries than a handful per unblock would make the counter a formality.
        raise ConfigurationError("签名PIN码尝试次数须在 1 到 10 之间 (security.signing_pin_attempts must be 1-10): "
                                 f"{security.signing_pin_attempts}")
    return Settings(
        province=data.get("province", ""), agency=agency, time_limits=limits, thresholds=thresholds,
        panel_size=panel_size, legal_review_all_general=legal_all, working_day_overrides=overrides, raw=data,
        security=security, document_numbers=numbers, announced_schedules=schedules,
    )


def load_settings(path: Path | None = None) -> Settings:
    path = path or DEFAULT_SETTINGS_PATH
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"无法读取省级配置 (cannot read settings) {path.name}: {exc}") from exc
    return parse_settings(data)
