"""Server-rendered SVG bar charts: geometry here, markup in templates/charts.html (autoescaped)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

FONT_SIZE = 12  # .bar-label in app.css: a CJK character is about this wide, a Latin one about half


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: int
    short: str = ""  # the label cut to fit left of the bar (the full one is the bar's tooltip and in the table)
    href: str = ""  # the cases the bar counts (web/dashboard.py)


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int
    bar_height: int
    max_value: int

    @property
    def empty(self) -> bool:
        return not self.bars


def bar_chart(title: str, data: Sequence[tuple[str, int]], *, width: int = 560, bar_height: int = 22,
              label_width: int = 170, links: Sequence[str] = ()) -> BarChart:
    """Horizontal bars, longest = the plot width; room on the right for the value. `links`: per bar, the page
    of what it counts (the bar and its row in the table under the chart open it)."""
    plot = width - label_width - 48
    top = max((v for _, v in data), default=0) or 1
    bars = tuple(
        Bar(label=label, value=value, y=i * (bar_height + 8), width=max(2, round(plot * value / top)) if value else 0,
            short=fit_label(label, label_width - 12), href=links[i] if i < len(links) else "")
        for i, (label, value) in enumerate(data)
    )
    height = max(bar_height, len(bars) * (bar_height + 8))
    return BarChart(title, bars, width, height, label_width, bar_height, top)


def _text_width(text: str) -> float:
    return sum(FONT_SIZE if unicodedata.east_asian_width(c) in "WF" else FONT_SIZE * 0.6 for c in text)


def fit_label(label: str, room: float) -> str:
    """`label`, or as much of it as fits in `room` SVG units followed by an ellipsis."""
    if _text_width(label) <= room:
        return label
    cut = label
    while cut and _text_width(cut + "…") > room:
        cut = cut[:-1]
    return cut.rstrip() + "…"
