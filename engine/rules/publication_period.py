"""How long /public shows a published decision (公示期限): settings.json `publication_period`, with its legal basis.

国家发展和改革委员会令2023年第58号 第十一条: a penalty for ordinary 失信 is shown for at most a year from
publication (a serious one three). The period runs from the 公示日期 (the release step's date, in the agency's
time zone); a publication withdrawn earlier ends on the day it was withdrawn (行政处罚法 第四十八条).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import ConfigurationError


@dataclass(frozen=True)
class PublicationPeriod:
    """公示期限: first and last day shown (both included), how many months the settings give, and the basis."""

    start: dt.date
    end: dt.date
    months: int
    basis: str
    ended_early: bool = False  # withdrawn before the period ran out


def period_months(raw: Mapping[str, Any]) -> tuple[int, str]:
    """(months, basis) from settings.json `publication_period`; a missing or odd value is a configuration error."""
    try:
        item = raw["publication_period"]
        months, basis = int(item["months"]), str(item["basis"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"公示期限配置有误 (settings.json publication_period: months and basis): {exc!r}") from exc
    if not 1 <= months <= 60 or not basis.strip():
        raise ConfigurationError(f"公示期限须为 1 至 60 个月并注明依据 (publication_period.months 1–60, with a basis): {months}")
    return months, basis


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it has no such day: 31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def publication_period(raw: Mapping[str, Any], *, released_on: dt.date,
                       withdrawn_on: dt.date | None = None) -> PublicationPeriod:
    """From the release day for `months`: the last day shown is the day before the same date `months` later."""
    months, basis = period_months(raw)
    end = add_months(released_on, months) - dt.timedelta(days=1)
    if withdrawn_on is not None and withdrawn_on < end:
        return PublicationPeriod(released_on, max(withdrawn_on, released_on), months, basis, ended_early=True)
    return PublicationPeriod(released_on, end, months, basis)
