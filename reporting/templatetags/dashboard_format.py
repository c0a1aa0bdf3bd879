from django import template

from reporting.charts import share_text

register = template.Library()


@register.filter
def share_pct(share: float, count: int) -> str:
    """{{ share|share_pct:count }}: "12.5%", or "<0.1%" for a non-zero count that rounds to nothing."""
    return share_text(count, share)
