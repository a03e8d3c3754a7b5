"""Small server-rendered SVG bar charts for the dashboard.

The portal's Content-Security-Policy allows no scripts and no inline styles, so charts are
inline SVG built here: colours come from classes in portal.css (``series-0`` ...), sizes
are attributes. Every chart is named by its <title> and described by a <desc> listing
every number, and the page puts the same numbers in a table of links next to it, so
nothing is told by colour or by the picture alone. Each bar is also a link to the filtered
inbox, named like its table cell ("Started, week of 1 Jun: 3"). The chart is
``role="group"``, not ``role="img"``: an image's content is presentational, and links
inside one are "nested interactive" controls (axe-core, serious). The bars' links are
left out of the tab order (tabindex -1) because the table already offers every one of
them to the keyboard; screen readers can still reach them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

FONT = 12  # px, the charts' text
CHAR_WIDTH = 6.6  # px per character at FONT, for laying out labels (system-ui average)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    href: str = ""  # "" : not a link


@dataclass(frozen=True)
class Group:
    """One position on the x axis (e.g. a week) with a bar per series."""

    label: str
    bars: tuple[Bar, ...]


def _scale_max(values: Sequence[int]) -> int:
    """The axis maximum: the largest value rounded up to a 'nice' number (at least 1)."""
    top = max([0, *values])
    for nice in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if top <= nice:
            return nice
    return -(-top // 1000) * 1000


def _bar(x: float, y: float, width: float, height: float, bar: Bar, css: str) -> str:
    # A zero still gets a 1 px mark so the bar's place is visible; its number says 0.
    rect = (
        f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{max(width, 1):.1f}" height="{max(height, 1):.1f}">'
        f"<title>{escape(bar.label)}: {bar.value}</title></rect>"
    )
    if bar.href:
        name = f"{bar.label}: {bar.value}"
        return f'<a href="{escape(bar.href)}" tabindex="-1" aria-label="{escape(name)}">{rect}</a>'
    return rect


def _open(chart_id: str, title: str, description: str, width: float, height: float) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'role="group" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], label_width: int | None = None) -> Markup:
    """Horizontal bars, one per category, the label on the left and the number after the bar."""
    row, bar_height, plot = 22, 14, 260
    label_width = label_width or int(min(320, max([60, *(len(b.label) * CHAR_WIDTH + 8 for b in bars)])))
    top = _scale_max([b.value for b in bars])
    width, height = label_width + plot + 50, max(1, len(bars)) * row + 6
    description = "; ".join(f"{b.label}: {b.value}" for b in bars) or "nothing to show"
    parts = _open(chart_id, title, description, width, height)
    for i, bar in enumerate(bars):
        y = 4 + i * row
        length = plot * bar.value / top
        parts.append(
            f'<text class="chart-label" x="{label_width - 6}" y="{y + bar_height - 3}" text-anchor="end" '
            f'font-size="{FONT}">{escape(bar.label)}</text>'
        )
        parts.append(_bar(label_width, y, length, bar_height, bar, "series-0"))
        parts.append(
            f'<text class="chart-value" x="{label_width + max(length, 1) + 4:.1f}" y="{y + bar_height - 3}" '
            f'font-size="{FONT}">{bar.value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(chart_id: str, title: str, groups: Sequence[Group], series: Sequence[str]) -> Markup:
    """Vertical bars grouped by x position (e.g. weeks), one colour per series, with a legend
    naming the series; the numbers are in the <desc> and in the table next to it."""
    bar_width, gap, plot_height, left, legend = 12, 14, 160, 34, 22
    group_width = bar_width * len(series) + gap
    width = left + max(1, len(groups)) * group_width + 10
    height = legend + plot_height + 36
    top = _scale_max([b.value for g in groups for b in g.bars])
    description = "; ".join(
        f"{g.label}: " + ", ".join(f"{s} {b.value}" for s, b in zip(series, g.bars, strict=True)) for g in groups
    )
    parts = _open(chart_id, title, description or "nothing to show", width, height)
    x = left
    for i, name in enumerate(series):  # legend
        parts.append(f'<rect class="series-{i}" x="{x}" y="4" width="10" height="10"></rect>')
        parts.append(f'<text class="chart-label" x="{x + 14}" y="13" font-size="{FONT}">{escape(name)}</text>')
        x += 14 + len(name) * CHAR_WIDTH + 16
    base = legend + plot_height
    parts.append(f'<line class="chart-axis" x1="{left}" y1="{base}" x2="{width - 6}" y2="{base}"></line>')
    parts.append(f'<text class="chart-label" x="{left - 4}" y="{base}" text-anchor="end" font-size="{FONT}">0</text>')
    parts.append(
        f'<text class="chart-label" x="{left - 4}" y="{legend + 10}" text-anchor="end" font-size="{FONT}">{top}</text>'
    )
    for gi, group in enumerate(groups):
        gx = left + gi * group_width + gap / 2
        for si, bar in enumerate(group.bars):
            h = plot_height * bar.value / top
            parts.append(_bar(gx + si * bar_width, base - max(h, 1), bar_width - 2, h, bar, f"series-{si}"))
        parts.append(
            f'<text class="chart-label" x="{gx + bar_width * len(series) / 2:.1f}" y="{base + 16}" '
            f'text-anchor="middle" font-size="{FONT - 1}">{escape(group.label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
