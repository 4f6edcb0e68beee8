"""Small server-rendered SVG charts: no JavaScript, no CDN, readable by screen readers.

This module works out a chart's geometry — where each bar, grid line, label and point goes,
as plain numbers and texts; the markup is the template ``reports/_charts.html`` (the macro
``chart``), whose autoescape escapes every text. Each chart is an SVG image (``role="img"``)
with a title and a description that states the values, and the page always shows the same
numbers in a table next to it. Colours are presentation attributes (the content security
policy forbids inline styles).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

BAR = "#2f6f9f"
LINE = "#c0392b"
GRID = "#d0d7de"
TEXT = "#333333"
_ids = count(1)


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value, and the text shown for it."""

    label: str
    value: float
    text: str


@dataclass(frozen=True)
class Text:
    """A text at a point (coordinates already written as the chart shows them)."""

    x: str
    y: str
    content: str
    anchor: str = "middle"
    size: int = 11
    fill: str = TEXT


@dataclass(frozen=True)
class Rect:
    """A bar's rectangle, with the tooltip naming its label and value."""

    x: str
    y: str
    width: str
    height: str
    title: str


@dataclass
class Chart:
    """Everything the ``chart`` macro draws, in drawing order: grid lines, texts, bars, then
    the line with its points."""

    uid: int
    width: int
    height: int
    title: str
    description: str
    #: horizontal grid lines as (x1, x2, y)
    grid: list[tuple[str, str, str]] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    bars: list[Rect] = field(default_factory=list)
    #: the percentage line's points, ``"x,y x,y …"``, and each point as (x, y)
    line: str = ""
    points: list[tuple[str, str]] = field(default_factory=list)
    colours: dict[str, str] = field(default_factory=lambda: {
        "bar": BAR, "line": LINE, "grid": GRID})


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000,
                 50000, 100000, 200000, 500000, 1000000):
        if value <= step * 5:
            return float(step * 5)
    return float(value)


def _at(x: float, y: float, content: str, anchor: str = "middle", size: int = 11,
        fill: str = TEXT) -> Text:
    return Text(f"{x:.1f}", f"{y:.1f}", content, anchor, size, fill)


def column_chart(title: str, bars: list[Bar], line: list[float | None] | None = None,
                 line_label: str = "", width: int = 640, height: int = 260) -> Chart:
    """Vertical bars (left axis) and an optional percentage line (right axis, 0–100 %)."""
    chart = Chart(next(_ids), width, height, title, _describe(bars, line, line_label))
    left, right, top, bottom = 48, 48 if line else 12, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max((b.value for b in bars), default=0))
    slot = plot_w / max(len(bars), 1)
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        chart.grid.append((str(left), str(left + plot_w), f"{y:.1f}"))
        chart.texts.append(_at(left - 6, y + 4, f"{top_value * i / 4:g}", "end", 10))
        if line:
            chart.texts.append(_at(left + plot_w + 6, y + 4, f"{25 * i}%", "start", 10, LINE))
    for i, bar in enumerate(bars):
        h = plot_h * bar.value / top_value
        chart.bars.append(Rect(f"{left + slot * i + slot * 0.15:.1f}", f"{top + plot_h - h:.1f}",
                               f"{slot * 0.7:.1f}", f"{h:.1f}", f"{bar.label}: {bar.text}"))
        chart.texts.append(_at(left + slot * (i + 0.5), height - bottom + 16, bar.label,
                               size=10))
    if line:
        chart.points = [(f"{left + slot * (i + 0.5):.1f}", f"{top + plot_h - plot_h * value:.1f}")
                        for i, value in enumerate(line) if value is not None]
        chart.line = " ".join(f"{x},{y}" for x, y in chart.points)
        chart.texts.append(_at(width - 4, height - 6, line_label, "end", 10, LINE))
    return chart


def bar_chart(title: str, bars: list[Bar], width: int = 640, row: int = 22,
              maximum: float | None = None) -> Chart:
    """Horizontal bars, one per group (for comparing units)."""
    label_w, pad = 170, 60
    chart = Chart(next(_ids), width, max(row * len(bars) + 16, 40), title, _describe(bars))
    top_value = maximum or _nice_max(max((b.value for b in bars), default=0))
    plot_w = width - label_w - pad
    for i, bar in enumerate(bars):
        y = 8 + row * i
        w = plot_w * bar.value / top_value if top_value else 0
        chart.texts.append(_at(label_w - 6, y + row * 0.65, _short(bar.label), "end"))
        chart.bars.append(Rect(str(label_w), str(y + 3), f"{w:.1f}", str(row - 6),
                               f"{bar.label}: {bar.text}"))
        chart.texts.append(_at(label_w + w + 4, y + row * 0.65, bar.text, "start"))
    return chart


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _describe(bars: list[Bar], line=None, line_label: str = "") -> str:
    items = [f"{b.label}: {b.text}" for b in bars]
    if line:
        items += [f"{line_label} {b.label}: {'–' if v is None else f'{v:.0%}'}"
                  for b, v in zip(bars, line, strict=False)]
    return "; ".join(items)
