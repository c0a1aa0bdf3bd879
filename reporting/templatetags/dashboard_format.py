from django import template
from django.utils.html import format_html

from reporting.charts import share_text

register = template.Library()


@register.filter
def share_pct(share: float, count: int) -> str:
    """{{ share|share_pct:count }}: "12.5%", or "<0.1%" for a non-zero count that rounds to nothing."""
    return share_text(count, share)


@register.simple_tag
def count_link(data, figure: str, column: str, row=None, value=None) -> str:
    """A count, as a link to the staff list of exactly the complaints it counts (reporting.figures' `drill`);
    a zero, or a column that counts no complaints, stays plain text."""
    from reporting.figures import FIGURES

    value = getattr(row, column) if value is None else value
    link = FIGURES[figure].link(data, column, row) if value else None
    if link is None:
        return format_html("{}", value)
    return format_html('<a href="{}" data-drill="{}.{}">{}</a>', link, figure, column, value)


@register.filter
def status_label(status: str) -> str:
    """ "in_progress" -> "In progress"."""
    return status.replace("_", " ").capitalize()
