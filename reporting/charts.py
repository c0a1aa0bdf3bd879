"""Small server-rendered SVG charts: no JavaScript and no third-party assets needed.

Text is laid out from an estimate of its rendered width (generous, so a label never runs into its bar and a
value label never reaches the chart's edge, whatever the font). Long names are shortened with an ellipsis; the
full name stays in the bar's <title> (hover) and in the table beside every chart (screen readers: the chart
itself is one image with a name).
"""

import unicodedata

from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

FONT_SIZE = 12
LABEL_WIDTH = 170  # the name column, in viewBox units
BAR_GAP = 6
ROW_HEIGHT = 22
CHART_TOP = 10  # bars drawn; the rest are summed into one "Other (N categories)" bar


NARROW_CHARS = frozenset("fijlrtI!'()*,-./:;[]|` ")
BROAD_CHARS = frozenset("mwMW%@")


def text_width(text: str) -> float:
    """A generous estimate of `text`'s width at FONT_SIZE, after the widest common sans-serif (DejaVu Sans):
    wide (CJK) glyphs take a full em."""
    width = 0.0
    for char in text:
        if unicodedata.east_asian_width(char) in "WF":
            em = 1.05
        elif char in BROAD_CHARS:
            em = 1.0
        elif char in NARROW_CHARS:
            em = 0.42
        elif char.isupper():
            em = 0.76
        else:
            em = 0.65
        width += em * FONT_SIZE
    return width


def shorten(text: str, max_width: float) -> str:
    """`text`, cut with an ellipsis so that it fits in `max_width`."""
    if text_width(text) <= max_width:
        return text
    budget = max_width - text_width("…")
    kept = ""
    for char in text:
        if text_width(kept + char) > budget:
            break
        kept += char
    return kept.rstrip() + "…"


def share_text(count: int, share: float) -> str:
    """A share for people: "<0.1%" rather than a misleading "0.0%" for a handful of complaints."""
    if count and share < 0.1:
        return "<0.1%"
    return f"{share:.1f}%"


def top_and_other(rows: list[tuple[str, int, float]], *, limit: int = CHART_TOP) -> list[tuple[str, int, float]]:
    """The `limit` largest rows (rows come largest first) and one row summing the rest. A lone leftover keeps
    its own name: "Other (1 category)" would hide it for nothing."""
    if len(rows) <= limit + 1:
        return rows
    rest = rows[limit:]
    total = sum(n for _, n, _ in rows) or 1
    other = sum(n for _, n, _ in rest)
    return [*rows[:limit], (f"Other ({len(rest)} categories)", other, round(100.0 * other / total, 1))]


def volume_chart(
    daily: list[tuple], *, links: list[str | None] | None = None, width: int = 900, height: int = 220
) -> str:
    """Received (bars) and resolved (line) per day; a day's bar links to its complaints (`links`, one per day).
    The links are for the pointer only (out of the tab order): the table below has the same ones."""
    if not daily:
        return ""
    top = max(max(r, s) for _, r, s in daily) or 1
    pad, plot_h = 30, height - 40
    step = (width - pad) / len(daily)
    bars, points = [], []
    for i, (day, received, resolved) in enumerate(daily):
        x = pad + i * step
        h = plot_h * received / top
        bar = (
            f'<rect class="bar" x="{x:.1f}" y="{10 + plot_h - h:.1f}" width="{max(step - 1, 0.5):.1f}" '
            f'height="{h:.1f}"><title>{day}: {received} received, {resolved} resolved</title></rect>'
        )
        link = links[i] if links else None
        bars.append(f'<a href="{escape(link)}" tabindex="-1" aria-hidden="true">{bar}</a>' if link else bar)
        points.append(f"{x + step / 2:.1f},{10 + plot_h - plot_h * resolved / top:.1f}")
    first, last = escape(str(daily[0][0])), escape(str(daily[-1][0]))
    return mark_safe(
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="Complaints received and resolved per day, '
        f'{first} to {last}; the numbers are in the table below">'
        f'<text x="0" y="14" font-size="11">{top}</text><text x="0" y="{10 + plot_h}" font-size="11">0</text>'
        f'{"".join(bars)}<polyline points="{" ".join(points)}" fill="none" stroke="#3aa66a" stroke-width="2"/>'
        f'<text x="{pad}" y="{height - 8}" font-size="11">{first}</text>'
        f'<text x="{width}" y="{height - 8}" font-size="11" text-anchor="end">{last}</text></svg>'
    )


def bar_list(rows: list[tuple], *, name: str, width: int = 420) -> str:
    """Horizontal bars for (label, count) or (label, count, share %) rows, named `name` for assistive
    technology. The value column is as wide as its longest label, so no value label is ever clipped."""
    if not rows:
        return ""
    values = [f"{count} ({share_text(count, rest[0])})" if rest else str(count) for _, count, *rest in rows]
    value_w = max(text_width(v) for v in values) + BAR_GAP
    bar_w = max(width - LABEL_WIDTH - BAR_GAP - value_w, 40)
    width = round(LABEL_WIDTH + BAR_GAP + bar_w + value_w)
    top = max(r[1] for r in rows) or 1
    parts = []
    for i, ((label, count, *_), value) in enumerate(zip(rows, values, strict=True)):
        w = bar_w * count / top
        y = i * ROW_HEIGHT
        parts.append(
            format_html(
                '<g><title>{}: {}</title><text class="label" x="0" y="{}" font-size="{}">{}</text>'
                '<rect class="bar" x="{}" y="{}" width="{}" height="14"/>'
                '<text class="value" x="{}" y="{}" font-size="{}">{}</text></g>',
                label,
                value,
                y + 13,
                FONT_SIZE,
                shorten(str(label), LABEL_WIDTH),
                LABEL_WIDTH + BAR_GAP,
                y + 2,
                f"{w:.1f}",
                f"{LABEL_WIDTH + BAR_GAP + w + 4:.1f}",
                y + 13,
                FONT_SIZE,
                value,
            )
        )
    return format_html(
        '<svg viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        width,
        len(rows) * ROW_HEIGHT + 4,
        name,
        mark_safe("".join(parts)),
    )


HEAT_LEVELS = 4  # shades of a busy cell; 0 is an empty one


def heat_map(rows) -> dict:
    """The arrivals figure (weekday x hour rows, Monday 0:00 first) as the heat map's rows: each weekday with
    its 24 (row, shade) cells, the shade in 0..HEAT_LEVELS relative to the busiest cell."""
    top = max((row.received for row in rows), default=0)
    by_day: dict[str, list] = {}
    for row in rows:
        level = 0 if not row.received else max(1, -(-HEAT_LEVELS * row.received // top))
        by_day.setdefault(row.weekday, []).append((row, level))
    busiest = max(rows, key=lambda row: row.received, default=None)
    return {
        "hours": range(24),
        "rows": list(by_day.items()),
        "busiest": busiest if busiest and busiest.received else None,
    }
