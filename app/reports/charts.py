"""Small server-rendered SVG charts: no JavaScript, no CDN, readable by screen readers.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that states the values,
and the page always shows the same numbers in a table next to it. Colours are presentation
attributes (the content security policy forbids inline styles).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from markupsafe import Markup, escape

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


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000,
                 50000, 100000, 200000, 500000, 1000000):
        if value <= step * 5:
            return float(step * 5)
    return float(value)


def _text(x, y, content, anchor="middle", size=11, fill=TEXT) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="{fill}">{escape(content)}</text>')


def column_chart(title: str, bars: list[Bar], line: list[float | None] | None = None,
                 line_label: str = "", width: int = 640, height: int = 260) -> Markup:
    """Vertical bars (left axis) and an optional percentage line (right axis, 0–100 %)."""
    uid = next(_ids)
    left, right, top, bottom = 48, 48 if line else 12, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max((b.value for b in bars), default=0))
    slot = plot_w / max(len(bars), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'role="img" aria-labelledby="chart{uid}t chart{uid}d" class="report-chart">',
             f'<title id="chart{uid}t">{escape(title)}</title>',
             f'<desc id="chart{uid}d">{escape(_describe(bars, line, line_label))}</desc>']
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                     f'stroke="{GRID}" stroke-width="1"/>')
        parts.append(_text(left - 6, y + 4, f"{top_value * i / 4:g}", anchor="end", size=10))
        if line:
            parts.append(_text(left + plot_w + 6, y + 4, f"{25 * i}%", anchor="start",
                               size=10, fill=LINE))
    for i, bar in enumerate(bars):
        h = plot_h * bar.value / top_value
        x = left + slot * i + slot * 0.15
        parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
                     f'height="{h:.1f}" fill="{BAR}"><title>{escape(bar.label)}: '
                     f'{escape(bar.text)}</title></rect>')
        parts.append(_text(left + slot * (i + 0.5), height - bottom + 16, bar.label, size=10))
    if line:
        points = [(left + slot * (i + 0.5), top + plot_h - plot_h * value)
                  for i, value in enumerate(line) if value is not None]
        if points:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" '
                         f'stroke-width="2"/>')
            parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{LINE}"/>'
                         for x, y in points)
        parts.append(_text(width - 4, height - 6, line_label, anchor="end", size=10, fill=LINE))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part went through escape()


def bar_chart(title: str, bars: list[Bar], width: int = 640, row: int = 22,
              maximum: float | None = None) -> Markup:
    """Horizontal bars, one per group (for comparing units)."""
    uid = next(_ids)
    label_w, pad = 170, 60
    height = max(row * len(bars) + 16, 40)
    top_value = maximum or _nice_max(max((b.value for b in bars), default=0))
    plot_w = width - label_w - pad
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'role="img" aria-labelledby="chart{uid}t chart{uid}d" class="report-chart">',
             f'<title id="chart{uid}t">{escape(title)}</title>',
             f'<desc id="chart{uid}d">{escape(_describe(bars))}</desc>']
    for i, bar in enumerate(bars):
        y = 8 + row * i
        w = plot_w * bar.value / top_value if top_value else 0
        parts.append(_text(label_w - 6, y + row * 0.65, _short(bar.label), anchor="end"))
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
                     f'fill="{BAR}"><title>{escape(bar.label)}: {escape(bar.text)}</title></rect>')
        parts.append(_text(label_w + w + 4, y + row * 0.65, bar.text, anchor="start"))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part went through escape()


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _describe(bars: list[Bar], line=None, line_label: str = "") -> str:
    items = [f"{b.label}: {b.text}" for b in bars]
    if line:
        items += [f"{line_label} {b.label}: {'–' if v is None else f'{v:.0%}'}"
                  for b, v in zip(bars, line, strict=False)]
    return "; ".join(items)
