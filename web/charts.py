"""Server-rendered SVG bar charts: geometry here, markup in templates/charts.html (autoescaped)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: int


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
              label_width: int = 170) -> BarChart:
    """Horizontal bars, longest = the plot width; room on the right for the value."""
    plot = width - label_width - 48
    top = max((v for _, v in data), default=0) or 1
    bars = tuple(
        Bar(label=label, value=value, y=i * (bar_height + 8), width=max(2, round(plot * value / top)) if value else 0)
        for i, (label, value) in enumerate(data)
    )
    height = max(bar_height, len(bars) * (bar_height + 8))
    return BarChart(title, bars, width, height, label_width, bar_height, top)
