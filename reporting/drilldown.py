"""From a dashboard count to the staff list of exactly the complaints it counts.

Each figure declares, per count column, which complaints a row's count is (reporting.figures: `drill`); this
module turns that into the staff list's URL with its filters (the same names as the complaints API's), the
dashboard's own category and priority filters included. Days are the tenant's local days on both sides, so the
list holds as many complaints as the figure says (as of the figures' "Last updated").
"""

from collections.abc import Callable
from datetime import date
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode

STAFF_LIST = "complaints:list"

# A figure's row (None for the KPIs) and the figures it belongs to -> the list's filters, or None: no list.
Drill = Callable[[Any, Any], dict[str, Any] | None]


def _shown(data) -> dict[str, Any]:
    """The dashboard's own filters, which every count on it is subject to."""
    return {"category": data.filters.category_id, "priority": data.filters.priority}


def _days(moment: str, start: date, end: date) -> dict[str, Any]:
    return {f"{moment}_day_from": start, f"{moment}_day_to": end}


def received(data, **more) -> dict[str, Any]:
    """Received in the period: created on one of its local days."""
    return _shown(data) | _days("created", data.period.start, data.period.end) | more


def resolved(data, **more) -> dict[str, Any]:
    return _shown(data) | _days("resolved", data.period.start, data.period.end) | more


def assigned(data, **more) -> dict[str, Any]:
    return _shown(data) | _days("assigned", data.period.start, data.period.end) | more


def open_now(data, **more) -> dict[str, Any]:
    """Open now, whatever the period."""
    return _shown(data) | {"status": "open"} | more


def url(params: dict[str, Any]) -> str:
    query = {name: value.isoformat() if isinstance(value, date) else value for name, value in params.items()}
    return reverse(STAFF_LIST) + "?" + urlencode({k: v for k, v in query.items() if v not in (None, "")})
