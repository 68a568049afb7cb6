"""The figures agencies are assessed by (考核指标): what each counts, read from the model, and the formulas.

Pure: no database. The steps' forms mark the fields an indicator counts (`x-indicator` on a property of
workflows/forms/*.schema.json: a column name, or `{"name": column, "when": value(s)}` for a choice that sets a
flag), and the form itself may say which procedure it decides under (`x-indicator-procedure`), that it is the
complaint's handling (`x-indicator-step: complaint_handled`) and which time limit of settings.json runs for
publishing the decision (`x-indicator-publication-limit`). engine/usecases/case_figures.py copies the values
into `case_figures`; engine/usecases/indicators.py aggregates them. Every formula and its source is listed in
FIGURES below and in docs/indicators.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MARK = "x-indicator"
PROCEDURE = "x-indicator-procedure"
STEP = "x-indicator-step"
PUBLICATION_LIMIT = "x-indicator-publication-limit"
COMPLAINT_HANDLED = "complaint_handled"
OFFICERS = "officers"  # the marked field lists the case officers (承办人): copied to case_handlers
SATISFIED = ("satisfied", "basically_satisfied")  # 满意 + 基本满意 count as satisfied (满意率)
# The columns a marked field may fill, and how its value is read.
MOMENTS = frozenset({"decided_at", "feedback_at", "published_at"})
MONEY = frozenset({"fine", "confiscated_income", "confiscated_property"})
FLAGS = frozenset({"warning", "licence_revoked", "substantiated", "case_filed", "not_published", "complaint"})
COLUMNS = MOMENTS | MONEY | FLAGS | {"suspension_months", "satisfaction", OFFICERS}


def marked_fields(schema: Mapping[str, Any] | None) -> dict[str, tuple[str, Any]]:
    """field -> (column, the value(s) that set the flag, or None) for each property the form marks."""
    out: dict[str, tuple[str, Any]] = {}
    for name, prop in ((schema or {}).get("properties") or {}).items():
        mark = prop.get(MARK) if isinstance(prop, Mapping) else None
        if isinstance(mark, str):
            out[name] = (mark, None)
        elif isinstance(mark, Mapping):
            out[name] = (str(mark["name"]), mark.get("when"))
    return out


def mark_problem(schema: Mapping[str, Any]) -> str | None:
    """Why a form's indicator marks are wrong (an unknown column, a procedure not summary/general), or None."""
    for name, (column, _) in marked_fields(schema).items():
        if column not in COLUMNS:
            return f"{name}: x-indicator {column!r} is not one of {sorted(COLUMNS)}"
    if schema.get(PROCEDURE) not in (None, "summary", "general"):
        return f"{PROCEDURE} must be summary or general, not {schema.get(PROCEDURE)!r}"
    return None


def step_values(schema: Mapping[str, Any] | None, data: Mapping[str, Any], zone: dt.tzinfo) -> dict[str, Any]:
    """The case_figures columns a step's form data gives (fields not filled in are left out: not recorded).
    `case_filed` becomes the moment filed (set by the caller); moments typed without a zone are the agency's."""
    out: dict[str, Any] = {}
    for field, (column, when) in marked_fields(schema).items():
        if field not in data or data[field] is None:
            continue
        value = data[field]
        if when is not None:
            value = value in when if isinstance(when, list) else value == when
        if column in MOMENTS:
            value = parse_moment(str(value), zone)
        elif column in MONEY:
            value = round(float(value), 2)
        elif column == "suspension_months":
            value = int(value)
        elif column in FLAGS:
            value = bool(value)
        elif column == OFFICERS:
            value = tuple(str(v) for v in value)
        out[column] = value
    if schema and schema.get(PROCEDURE):
        out["procedure"] = schema[PROCEDURE]
    return out


def parse_moment(text: str, zone: dt.tzinfo) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(dt.UTC)


# --- the formulas ------------------------------------------------------------------------------------------
def rate(numerator: int, denominator: int) -> float | None:
    """numerator / denominator as a fraction (0..1); None when nothing was to count (shown as —, never 0 %)."""
    return numerator / denominator if denominator else None


def per_officer(cases: int, officers: int) -> float | None:
    """人均办案数: cases filed per enforcement officer; None without officers."""
    return cases / officers if officers else None


def year_on_year(current: float | None, previous: float | None) -> float | None:
    """同比: (current − same period a year before) / the year before; None when the year before had none."""
    if current is None or not previous:
        return None
    return (current - previous) / previous


def same_period_a_year_before(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period a year earlier (29 February falls back to the 28th)."""
    def back(day: dt.date) -> dt.date:
        try:
            return day.replace(year=day.year - 1)
        except ValueError:
            return day.replace(year=day.year - 1, day=28)
    return back(start), back(end)


@dataclass(frozen=True)
class Figure:
    """One indicator: its key (CSV column, drill-down), names, unit, how it is computed, where it comes from."""

    key: str
    zh: str
    en: str
    unit: str  # count | yuan | rate | ratio
    formula: str  # in English
    source: str
    drill: bool = True  # whether its cases can be listed (a rate lists its numerator's cases)

    @property
    def formula_zh(self) -> str:
        return FORMULAS_ZH[self.key]


_XZCF = "《中华人民共和国行政处罚法》"
_ASSESS = "卫生健康行政执法考核指标 (assessment practice)"
FIGURES: tuple[Figure, ...] = (
    Figure("received", "登记案件数", "Cases registered", "count", "cases registered in the period",
           "intake (投诉举报登记)"),
    Figure("complaints", "投诉举报数", "Complaints received", "count",
           "cases registered in the period from a complaint channel (the intake's channel marked complaint)",
           "12320/12345 handling rules; 《市场监督管理投诉举报处理暂行办法》 (analogue)"),
    Figure("filed_cases", "立案数", "Cases filed", "count", "cases whose filing approval said file, signed in the period",
           f"{_XZCF}第五十四条"),
    Figure("closed", "结案数", "Cases closed", "count", "cases closed in the period", f"{_XZCF}第四十七条 (归档)"),
    Figure("summary", "简易程序", "Summary procedure", "count", "decisions in the period under the summary procedure",
           f"{_XZCF}第五十一条"),
    Figure("general", "一般程序", "General procedure", "count",
           "decisions in the period under the general procedure", f"{_XZCF}第五十四条至第五十七条"),
    Figure("penalties_yuan", "罚没款（元）", "Fines and confiscations (CNY)", "yuan",
           "Σ fine + confiscated unlawful gains + confiscated property (valued), decisions in the period",
           f"{_XZCF}第九条 (罚款, 没收违法所得、没收非法财物)"),
    Figure("fines_yuan", "罚款（元）", "Fines (CNY)", "yuan", "Σ fine, decisions in the period", f"{_XZCF}第九条"),
    Figure("warnings", "警告", "Warnings", "count", "decisions in the period that warn", f"{_XZCF}第九条"),
    Figure("licences_revoked", "吊销许可证", "Licences revoked", "count",
           "decisions in the period that revoke a licence", f"{_XZCF}第九条"),
    Figure("suspended", "暂停执业／责令停产停业", "Practice or business suspended", "count",
           "decisions in the period that suspend practice or business (months > 0)", f"{_XZCF}第九条"),
    Figure("officers", "执法人员数", "Enforcement officers", "count",
           "active users holding the officer role with an enforcement certificate valid on the period's last day",
           f"{_XZCF}第四十二条", drill=False),
    Figure("per_officer", "人均办案数", "Cases per officer", "ratio", "filed ÷ enforcement officers",
           f"{_ASSESS}: ≥ 15 a year", drill=False),
    Figure("handled_on_time_rate", "及时处理率", "Handled in time", "rate",
           "complaints received whose acceptance review was done by its due time ÷ those received whose review is done",
           "settings.json time_limits acceptance_review (7 working days)"),
    Figure("feedback_rate", "反馈率", "Feedback given", "rate",
           "complaints received with the complainant told ÷ complaints received", "12320 practice: 办理结果反馈"),
    Figure("substantiated_rate", "查实率", "Substantiated", "rate",
           "complaints found substantiated ÷ complaints whose feedback records it", _ASSESS),
    Figure("satisfaction_rate", "满意率", "Satisfied", "rate",
           "satisfied + basically satisfied ÷ complaints whose feedback records satisfaction", _ASSESS),
    Figure("publication_rate", "处罚公示率", "Published in time", "rate",
           "general-procedure decisions published by the last day of the publication limit ÷ those the law "
           "requires to publish (decided in the period, not exempted when the publication was prepared)",
           "双公示: 7 working days (国发〔2014〕20号, 国发〔2016〕33号); settings.json time_limits publication"),
    Figure("overdue", "超期环节", "Overdue steps", "count", "open steps past their due time now, by step",
           "settings.json time_limits", drill=False),
)
FORMULAS_ZH: dict[str, str] = {
    "received": "期内登记的案件数",
    "complaints": "期内登记、来源为投诉举报渠道的案件数（登记表来源渠道标记为投诉举报）",
    "filed_cases": "期内立案审批同意立案的案件数",
    "closed": "期内结案的案件数",
    "summary": "期内适用简易程序作出的处罚决定数",
    "general": "期内适用一般程序作出的处罚决定数",
    "penalties_yuan": "期内处罚决定的罚款＋没收违法所得＋没收非法财物（估值）之和",
    "fines_yuan": "期内处罚决定的罚款之和",
    "warnings": "期内给予警告的处罚决定数",
    "licences_revoked": "期内吊销许可证的处罚决定数",
    "suspended": "期内暂停执业或责令停产停业（月数＞0）的处罚决定数",
    "officers": "期末持有效执法证、具有承办人角色的在职人员数",
    "per_officer": "立案数 ÷ 执法人员数",
    "handled_on_time_rate": "期内登记的投诉举报中受理审查按期完成的 ÷ 已完成受理审查的",
    "feedback_rate": "期内登记的投诉举报中已告知投诉举报人的 ÷ 投诉举报数",
    "substantiated_rate": "查实的 ÷ 告知时记录了是否查实的投诉举报",
    "satisfaction_rate": "满意＋基本满意 ÷ 告知时记录了满意度的投诉举报",
    "publication_rate": "期内一般程序处罚决定中在公示期限最后一日前公示的 ÷ 依法应当公示的（未经公示审核决定不予公示）",
    "overdue": "当前已超过办理期限的待办环节数（按环节）",
}
BY_KEY = {f.key: f for f in FIGURES}
# The counts behind a rate: rate key -> (numerator key, denominator key); both are in every result row.
RATES: dict[str, tuple[str, str]] = {
    "handled_on_time_rate": ("handled_on_time", "handled"),
    "feedback_rate": ("feedback", "complaints"),
    "substantiated_rate": ("substantiated", "substantiated_recorded"),
    "satisfaction_rate": ("satisfied", "satisfaction_recorded"),
    "publication_rate": ("published_on_time", "to_publish"),
}
YEAR_ON_YEAR = ("received", "filed_cases", "closed", "penalties_yuan")


__all__ = ["BY_KEY", "COMPLAINT_HANDLED", "FIGURES", "Figure", "MARK", "OFFICERS", "PROCEDURE", "PUBLICATION_LIMIT",
           "RATES", "SATISFIED", "STEP", "YEAR_ON_YEAR", "mark_problem", "marked_fields", "parse_moment",
           "per_officer", "rate", "same_period_a_year_before", "step_values", "year_on_year"]
