"""Small server-rendered SVG charts: no JavaScript and no third-party assets needed."""

from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe


def volume_chart(daily: list[tuple], *, width: int = 900, height: int = 220) -> str:
    """Received (bars) and resolved (line) per day."""
    if not daily:
        return ""
    top = max(max(r, s) for _, r, s in daily) or 1
    pad, plot_h = 30, height - 40
    step = (width - pad) / len(daily)
    bars, points = [], []
    for i, (day, received, resolved) in enumerate(daily):
        x = pad + i * step
        h = plot_h * received / top
        bars.append(
            f'<rect class="bar" x="{x:.1f}" y="{10 + plot_h - h:.1f}" width="{max(step - 1, 0.5):.1f}" '
            f'height="{h:.1f}"><title>{day}: {received} received, {resolved} resolved</title></rect>'
        )
        points.append(f"{x + step / 2:.1f},{10 + plot_h - plot_h * resolved / top:.1f}")
    first, last = escape(str(daily[0][0])), escape(str(daily[-1][0]))
    return mark_safe(
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="Complaints received and resolved per day">'
        f'<text x="0" y="14" font-size="11">{top}</text><text x="0" y="{10 + plot_h}" font-size="11">0</text>'
        f'{"".join(bars)}<polyline points="{" ".join(points)}" fill="none" stroke="#3aa66a" stroke-width="2"/>'
        f'<text x="{pad}" y="{height - 8}" font-size="11">{first}</text>'
        f'<text x="{width}" y="{height - 8}" font-size="11" text-anchor="end">{last}</text></svg>'
    )


def bar_list(rows: list[tuple], *, width: int = 420) -> str:
    """Horizontal bars for (label, count, share %) rows."""
    if not rows:
        return ""
    top = max(r[1] for r in rows) or 1
    line, label_w = 22, 150
    parts = []
    for i, (label, count, *rest) in enumerate(rows):
        w = (width - label_w - 70) * count / top
        share = f" ({rest[0]}%)" if rest else ""
        parts.append(
            format_html(
                '<text x="0" y="{}" font-size="12">{}</text><rect class="bar" x="{}" y="{}" width="{}" height="14"/>'
                '<text x="{}" y="{}" font-size="12">{}{}</text>',
                i * line + 13,
                str(label)[:22],
                label_w,
                i * line + 2,
                f"{w:.1f}",
                f"{label_w + w + 4:.1f}",
                i * line + 13,
                count,
                share,
            )
        )
    return mark_safe(f'<svg viewBox="0 0 {width} {len(rows) * line + 4}" role="img">{"".join(parts)}</svg>')
