"""The indicators as a table: JSON, CSV and XLSX (openpyxl) from the one `Indicators` the page shows too.

Columns: the row's key and name, then every figure of engine/rules/indicators.py FIGURES in order, then the
同比 of the YEAR_ON_YEAR figures. A rate is a fraction (0.5 = 50 %; the XLSX cell is formatted as a
percentage); an empty cell is "nothing to count" (no denominator), never zero.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from engine.rules.indicators import BY_KEY, FIGURES, YEAR_ON_YEAR
from engine.usecases.indicators import IndicatorRow, Indicators

ROW_HEAD = {"zh": ("键", "名称"), "en": ("key", "name")}
CHANGE = {"zh": "同比", "en": "YoY"}


def indicator_columns(lang: str = "zh") -> list[tuple[str, str, str]]:
    """(key, header, unit) of each figure column, in order."""
    zh = lang != "en"
    out = [(f.key, f.zh if zh else f.en, f.unit) for f in FIGURES]
    out += [(f"{k}_change", f"{BY_KEY[k].zh if zh else BY_KEY[k].en} {CHANGE['zh' if zh else 'en']}", "rate")
            for k in YEAR_ON_YEAR]
    return out


def cell(row: IndicatorRow, key: str) -> float | int | None:
    if key.endswith("_change"):
        return row.change.get(key[: -len("_change")])
    value = row.values.get(key)
    return round(value, 4) if isinstance(value, float) and BY_KEY[key].unit in ("rate", "ratio") else value


def table(report: Indicators, lang: str = "zh") -> tuple[list[str], list[list[Any]]]:
    cols = indicator_columns(lang)
    header = [*ROW_HEAD["en" if lang == "en" else "zh"], *(h for _, h, _ in cols)]
    body = [[row.key, row.label, *(cell(row, k) for k, _, _ in cols)] for row in (*report.rows, report.total)]
    return header, body


def indicators_json(report: Indicators) -> dict[str, Any]:
    def one(row: IndicatorRow) -> dict[str, Any]:
        return {"key": row.key, "label": row.label, "values": dict(row.values), "change": dict(row.change)}

    return {"agency": report.agency, "agency_name": report.agency_name, "from": report.start.isoformat(),
            "to": report.end.isoformat(), "by": report.by, "rows": [one(r) for r in report.rows],
            "total": one(report.total), "overdue_by_step": [{"step": s, "name": name, "count": n} for s, name, n in report.overdue_by_step],
            "figures": [{"key": f.key, "zh": f.zh, "en": f.en, "unit": f.unit, "formula": f.formula,
                         "source": f.source} for f in FIGURES]}


def indicators_csv(report: Indicators, lang: str = "zh") -> str:
    """UTF-8 text with a BOM-free header; spreadsheet programs that need one are given XLSX instead."""
    header, body = table(report, lang)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in body])
    return out.getvalue()


def indicators_xlsx(report: Indicators, lang: str = "zh") -> bytes:
    from openpyxl import Workbook

    header, body = table(report, lang)
    units = ["", ""] + [u for _, _, u in indicator_columns(lang)]
    book = Workbook()
    sheet = book.active
    sheet.title = "指标" if lang != "en" else "Indicators"
    sheet.append([f"{report.agency_name} {report.start.isoformat()} – {report.end.isoformat()}"])
    sheet.append(header)
    for row in body:
        sheet.append(row)
        for cell_, unit in zip(sheet[sheet.max_row], units, strict=True):
            if unit == "rate":
                cell_.number_format = "0.0%"
            elif unit == "yuan":
                cell_.number_format = "#,##0.00"
    sheet.freeze_panes = "C3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


__all__ = ["indicators_csv", "indicators_json", "indicators_xlsx", "indicator_columns", "table"]
