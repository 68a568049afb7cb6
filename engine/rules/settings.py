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
from engine.rules.agency_settings import AgencySetting, parse_agency_settings
from engine.rules.discretion import DISCRETION_KEY, DiscretionPolicy, parse_discretion
from engine.rules.drawn_images import ImageLimits
from engine.rules.evidence import EvidencePolicy, parse_evidence_policy
from engine.rules.people import PeoplePolicy, parse_people_policy

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
    name: str = ""  # the clock's name (法定期限名称), shown on the case page; the id when empty
    name_en: str = ""  # on English pages
    basis_en: str = ""  # the basis in English, for English pages


@dataclass(frozen=True)
class Threshold:
    id: str
    value: float
    unit: str
    basis: str
    status: str
    basis_en: str = ""


@dataclass(frozen=True)
class Agency:
    name: str
    short: str
    case_number_prefix: str
    penalty_number_prefix: str
    timezone: str
    review_agency: str = ""  # 行政复议机关 named in decisions (行政复议法 Art 24); derived when empty
    court: str = ""  # the court named for 行政诉讼 (行政诉讼法 Art 18); generic wording when empty
    # The platform's home agency in the agencies table (migration 0017 made it its first row); the others are
    # added by administrators (engine/agencies.py).
    code: str = "home"
    level: str = "city"


@dataclass(frozen=True)
class LoginThrottle:
    """Growing delays after failed logins (settings.json `security.login_throttle`; engine/usecases/logins.py)."""

    per_source_free: int = 20
    per_account_and_source_free: int = 5
    per_account_free: int = 50
    first_delay: dt.timedelta = dt.timedelta(seconds=1)
    max_delay: dt.timedelta = dt.timedelta(minutes=15)
    per_account_max_delay: dt.timedelta = dt.timedelta(minutes=1)
    forget_after: dt.timedelta = dt.timedelta(hours=1)
    slots: int = 65536


@dataclass(frozen=True)
class Security:
    """Security policy as data (settings.json `security`), each value with its basis."""

    # Wrong signing PINs in a row before the officer's key is blocked (engine/officer_keys.py).
    signing_pin_attempts: int
    signing_pin_attempts_basis: str
    signing_pin_attempts_basis_en: str = ""
    password_min_length: int = 10
    session_lifetime: dt.timedelta = dt.timedelta(hours=8)
    session_idle: dt.timedelta = dt.timedelta(minutes=30)
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)


@dataclass(frozen=True)
class DraftLimits:
    """Drafts of a form (settings.json `drafts`; engine/usecases/drafts.py)."""

    max_bytes: int = 2 * 1024 * 1024  # of the raw fields as JSON
    autosave: dt.timedelta = dt.timedelta(seconds=10)


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
    # Bounds on an image drawn on the screen (the party's signature): settings.json `drawn_images`.
    drawn_images: ImageLimits
    # Evidence files: accepted media types by family, the largest file, how long a staged file waits.
    evidence: EvidencePolicy
    # How far past now a time entered for a past event may be (settings.json `forms.clock_tolerance_minutes`):
    # form fields marked `x-not-future` (engine/rules/form_checks.py).
    form_clock_tolerance: dt.timedelta
    # Who may be chosen for a person field: the roles that need a valid 执法证 (settings.json `people`).
    people: PeoplePolicy
    document_numbers: Mapping[str, str] = field(default_factory=dict)
    # Years whose whole announced schedule `working_day_overrides` carries: year -> the notice's reference.
    announced_schedules: Mapping[int, str] = field(default_factory=dict)
    # How long a resumable upload's bytes wait on disk for its last chunk (settings.json `uploads`).
    upload_max_age: dt.timedelta = dt.timedelta(hours=24)
    # How long before its deadline a task's people are told it is due soon (settings.json `notifications`).
    due_soon: dt.timedelta = dt.timedelta(hours=48)
    # How long a notice stays in the inbox once read (settings.json `notifications.keep_read_days`).
    keep_read_notices: dt.timedelta = dt.timedelta(days=90)
    # Drafts of a task's form (settings.json `drafts`): the largest kept, how often the page saves a changed form.
    drafts: DraftLimits = field(default_factory=DraftLimits)
    # What an agency may set for itself and those below it, with the article (settings.json `agency_settings`).
    agency_settings: Mapping[str, AgencySetting] = field(default_factory=dict)
    # The 裁量基准 (settings.json `discretion`): its `benchmark` is the one in force for these settings' agency.
    discretion: DiscretionPolicy | None = None

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
                name=v.get("name", ""), name_en=v.get("name_en", ""), basis_en=v.get("basis_en", ""),
            )
            for k, v in data["time_limits"].items()
        }
        thresholds = {
            k: Threshold(id=k, value=v["value"], unit=v.get("unit", ""), basis=v["basis"], status=v.get("status", "R"),
                         basis_en=v.get("basis_en", ""))
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
        security = _security(data["security"])
        drawn = _drawn_images(data["drawn_images"])
        evidence = parse_evidence_policy(data["evidence"])
        upload_max_age = dt.timedelta(hours=float(data["uploads"]["max_age_hours"]["value"]))
        tolerance = dt.timedelta(minutes=int(data["forms"]["clock_tolerance_minutes"]["value"]))
        # A province's file written before notifications keeps the default horizon.
        due_soon = dt.timedelta(hours=float(data.get("notifications", {}).get("due_soon_hours", {}).get("value", 48)))
        keep_read = dt.timedelta(days=float(data.get("notifications", {}).get("keep_read_days", {}).get("value", 90)))
        people = parse_people_policy(data["people"])
        allowed = parse_agency_settings(data.get("agency_settings", {}), thresholds)
        discretion = parse_discretion(data.get("discretion"))
        drafts = DraftLimits(max_bytes=int(data["drafts"]["max_bytes"]["value"]),
                             autosave=dt.timedelta(seconds=float(data["drafts"]["autosave_seconds"]["value"])))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"省级配置文件格式错误 (malformed settings): {exc!r}") from exc
    try:
        ZoneInfo(agency.timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ConfigurationError(f"未知时区 (unknown agency.timezone): {agency.timezone!r}") from exc
    if panel_size < 3 or panel_size % 2 == 0:
        raise ConfigurationError(f"合议人数必须为不少于3的奇数 (panel size must be odd and >= 3): {panel_size}")
    _check_security(security)
    if DISCRETION_KEY in allowed and discretion is None:
        raise ConfigurationError(f"agency_settings.{DISCRETION_KEY} 需要 discretion 配置 (needs settings.json discretion)")
    if not (1 <= drawn.min_width <= drawn.max_width and 1 <= drawn.min_height <= drawn.max_height
            and 1024 <= drawn.max_bytes <= 4 * 1024 * 1024):
        raise ConfigurationError("手写签名图片限制有误 (drawn_images: 1 <= min <= max dimensions, max_bytes 1 KB–4 MB)")
    if not dt.timedelta(minutes=10) <= upload_max_age <= dt.timedelta(days=30):
        raise ConfigurationError("上传保留时长须在 10 分钟到 30 天之间 (uploads.max_age_hours must be 10 minutes to "
                                 f"30 days): {upload_max_age}")
    if not dt.timedelta(hours=1) <= due_soon <= dt.timedelta(days=30):
        raise ConfigurationError("到期提醒须提前 1 小时到 30 天 (notifications.due_soon_hours must be 1 hour to 30 days): "
                                 f"{due_soon}")
    if not dt.timedelta(days=7) <= keep_read <= dt.timedelta(days=3660):
        raise ConfigurationError("已读通知保留天数须在 7 到 3660 之间 (notifications.keep_read_days must be 7-3660): "
                                 f"{keep_read.days}")
    if not dt.timedelta(0) <= tolerance <= dt.timedelta(hours=1):
        raise ConfigurationError("表单时间容差须在 0 到 60 分钟之间 (forms.clock_tolerance_minutes must be 0-60): "
                                 f"{tolerance}")
    if not (1024 <= drafts.max_bytes <= 64 * 1024 * 1024
            and dt.timedelta(seconds=2) <= drafts.autosave <= dt.timedelta(minutes=10)):
        raise ConfigurationError("草稿设置有误 (drafts: max_bytes 1 KB–64 MB, autosave_seconds 2–600)")
    return Settings(
        province=data.get("province", ""), agency=agency, time_limits=limits, thresholds=thresholds,
        panel_size=panel_size, legal_review_all_general=legal_all, working_day_overrides=overrides, raw=data,
        security=security, evidence=evidence, document_numbers=numbers, announced_schedules=schedules,
        drawn_images=drawn, upload_max_age=upload_max_age, form_clock_tolerance=tolerance, people=people,
        drafts=drafts, due_soon=due_soon, keep_read_notices=keep_read, agency_settings=allowed,
        discretion=discretion,
    )


def _drawn_images(data: Mapping[str, Any]) -> ImageLimits:
    """settings.json `drawn_images`: every bound is given there, with its basis."""
    return ImageLimits(**{k: int(data[k]) for k in ("max_bytes", "max_width", "max_height", "min_width", "min_height")})


def _security(data: Mapping[str, Any]) -> Security:
    pin_attempts = data["signing_pin_attempts"]
    minutes = {k: dt.timedelta(minutes=int(data[k]["value"])) for k in ("session_lifetime_minutes", "session_idle_minutes")
               if k in data}
    throttle = data.get("login_throttle")
    return Security(
        signing_pin_attempts=int(pin_attempts["value"]), signing_pin_attempts_basis=pin_attempts["basis"],
        signing_pin_attempts_basis_en=pin_attempts.get("basis_en", ""),
        password_min_length=int(data.get("password_min_length", {}).get("value", 10)),
        session_lifetime=minutes.get("session_lifetime_minutes", dt.timedelta(hours=8)),
        session_idle=minutes.get("session_idle_minutes", dt.timedelta(minutes=30)),
        login_throttle=LoginThrottle() if throttle is None else LoginThrottle(
            per_source_free=int(throttle["per_source_free"]),
            per_account_and_source_free=int(throttle["per_account_and_source_free"]),
            per_account_free=int(throttle["per_account_free"]),
            first_delay=dt.timedelta(seconds=float(throttle["first_delay_seconds"])),
            max_delay=dt.timedelta(seconds=float(throttle["max_delay_seconds"])),
            per_account_max_delay=dt.timedelta(seconds=float(throttle["per_account_max_delay_seconds"])),
            forget_after=dt.timedelta(minutes=float(throttle["forget_after_minutes"])),
            slots=int(throttle["slots"])),
    )


def _check_security(security: Security) -> None:
    if not 1 <= security.signing_pin_attempts <= 10:
        # 10^6 PINs: more tries than a handful per unblock would make the counter a formality.
        raise ConfigurationError("签名PIN码尝试次数须在 1 到 10 之间 (security.signing_pin_attempts must be 1-10): "
                                 f"{security.signing_pin_attempts}")
    if security.password_min_length < 8:
        raise ConfigurationError("密码最短长度不得少于 8 (security.password_min_length must be at least 8, NIST SP 800-63B)")
    if not dt.timedelta(minutes=1) <= security.session_idle <= security.session_lifetime <= dt.timedelta(days=1):
        raise ConfigurationError("会话时限须满足 1 分钟 ≤ 空闲 ≤ 总时长 ≤ 1 天 (security: 1 min <= session_idle_minutes "
                                 "<= session_lifetime_minutes <= 1 day)")
    throttle = security.login_throttle
    if not (1 <= throttle.slots <= 1 << 20 and throttle.first_delay > dt.timedelta(0)
            and throttle.first_delay <= throttle.per_account_max_delay <= throttle.max_delay
            and min(throttle.per_source_free, throttle.per_account_and_source_free, throttle.per_account_free) >= 1):
        raise ConfigurationError("登录限速配置有误 (security.login_throttle: slots 1..2^20, free counts >= 1, "
                                 "0 < first_delay <= per_account_max_delay <= max_delay)")


def load_settings(path: Path | None = None) -> Settings:
    path = path or DEFAULT_SETTINGS_PATH
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"无法读取省级配置 (cannot read settings) {path.name}: {exc}") from exc
    return parse_settings(data)
