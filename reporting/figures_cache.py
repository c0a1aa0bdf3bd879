"""The dashboard's figures, computed about once a second per tenant and query however many managers look.

reporting.figures declares the figures and reporting.selectors computes them; this module decides when an answer
may be reused (the freshness target) and says how fresh what is shown is. Every key holds the tenant's schema.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from helpdesk.databases import READ_ALIAS
from helpdesk.tenancy import connections
from reporting import figures
from reporting.figures import FigureSet
from reporting.freshness import FiguresState, Freshness, figures_state, freshness_since
from reporting.selectors import FigureQuery, Filters, Period


@dataclass(frozen=True)
class ShownFigures:
    """Figures as a view shows them: the figures, the version of the read models they were computed from (the
    ETag of /dashboard/figures/) and how fresh they are. `behind` says the read models have moved since."""

    figures: FigureSet
    version: str
    freshness: Freshness
    behind: bool = False


@dataclass(frozen=True)
class _Computed:
    """A cache entry: figures, the version and freshness they were computed at, and when."""

    figures: FigureSet
    version: str
    last_updated: datetime | None
    computed_at: datetime

    def age(self) -> float:
        return (timezone.now() - self.computed_at).total_seconds()

    def shown(self, state: FiguresState) -> ShownFigures:
        if self.version == state.version:  # the read models have not moved: these are today's figures
            return ShownFigures(self.figures, self.version, state.freshness)
        # Older figures: "last updated" is when *they* were known complete, not the checkpoint's latest.
        return ShownFigures(
            self.figures, self.version, freshness_since(self.last_updated, state.freshness.pending), behind=True
        )


def figures_cached(
    *,
    period: Period,
    filters: Filters,
    agent_sort: str = "-resolved",
    names: tuple[str, ...] = tuple(figures.FIGURES),
    state: FiguresState | None = None,
    newest: bool = False,
) -> ShownFigures:
    """The figures `names` (by default all: the dashboard), computed at most about once per
    DASHBOARD_MAX_AGE_SECONDS per tenant and query, however many managers look and however fast events arrive.

    Cached figures are served while the read models have not moved since they were computed, or while they are
    younger than DASHBOARD_MAX_AGE_SECONDS (the freshness target) even though events arrived meanwhile: while
    complaints stream in the checkpoint moves with every event, and recomputing on each move made every view a
    miss. Older figures are recomputed by one process at a time; the others keep serving the previous ones
    meanwhile, but never once they are DASHBOARD_MAX_STALE_SECONDS old. `newest` (the Refresh button) accepts
    only figures of the current read models. Freshness is that of the figures shown. `state` is the checkpoint
    as the caller read it (one read per request: version, freshness and zone); the cache is an optimisation
    only: if it is unreachable the figures are computed."""
    state = state or figures_state()
    key = figures_key(names, period, filters, agent_sort)
    busy = key + ":computing"
    entry = _cache_call("get", key)
    claimed = False
    if entry is not None:
        age = entry.age()
        if entry.version == state.version or (not newest and age < settings.DASHBOARD_MAX_AGE_SECONDS):
            return entry.shown(state)
        if not newest and age < settings.DASHBOARD_MAX_STALE_SECONDS:
            # Too old: one process recomputes, the others serve these a moment longer rather than all computing.
            claimed = bool(_cache_call("add", busy, 1, timeout=settings.DASHBOARD_MAX_STALE_SECONDS))
            if not claimed:
                return entry.shown(state)
    computed_at = timezone.now()  # taken before the figures: their age is never understated
    try:
        data = figures.compute(FigureQuery(period, filters, state.time_zone, agent_sort, state.alias), names)
        _cache_call("set", key, _Computed(data, state.version, state.freshness.last_updated, computed_at), timeout=600)
    finally:
        if claimed:
            _cache_call("delete", busy)
    return ShownFigures(data, state.version, state.freshness)


def figures_key(names: tuple[str, ...], period: Period, filters: Filters, agent_sort: str) -> str:
    """The cache key of some figures of one query, in the current tenant."""
    return _tenant_key(("figures", names, period, filters, agent_sort))


def _tenant_key(parts: tuple) -> str:
    """A cache key of the current tenant: the schema is part of every key, so no tenant reads another's entry."""
    return "reporting:" + hashlib.sha256(repr((connections[READ_ALIAS].schema_name, *parts)).encode()).hexdigest()


def _cache_call(method: str, *args, **kwargs):
    try:
        return getattr(cache, method)(*args, **kwargs)
    except Exception:
        return None


def remembered(parts: tuple, compute, *, timeout: int = 600):
    """compute(), cached under `parts` and the tenant. The cache is an optimisation only: if it is unreachable
    the value is computed."""
    key = _tenant_key(parts)
    hit = _cache_call("get", key)
    if hit is not None:
        return hit
    value = compute()
    _cache_call("set", key, value, timeout=timeout)
    return value
