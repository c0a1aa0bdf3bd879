"""Every tenant's projection figures for /healthz and /metrics, at a cost that follows the tenants with something
to report, not the number of tenants. Two sources, each read in a constant number of statements:

- the status table (reporting.status): the tenants whose published figures show events waiting or dead letters;
- the sweep's Redis marks: tenants that committed events since the sweep last looked, and those it found
  behind. Their figures are read live, the sweep's way (one UNION ALL per database), so a tenant whose events
  wait shows its lag growing before the sweep has recorded it, and also when the beat is dead (the marks then
  pile up). If Redis cannot say, every tenant is read that way (2 statements per 500 tenants).

Every other tenant is caught up or has never had an event: it costs nothing. The lag is worked out at probe
time from the oldest waiting event, so it keeps growing while nothing projects. That the sweep itself still runs
is its age (it leaves the time it finished in the cache).
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from reporting.status import IDLE, TenantFigures, stored_attention
from reporting.sweep import checkpoint_positions, last_sweep_at, pending_by_tenant, tenants_with_work


@dataclass
class Overview:
    now: datetime
    # The tenants with events waiting or dead letters; every other tenant asked about is IDLE.
    attention: dict[str, TenantFigures] = field(default_factory=dict)
    sweep_age_seconds: float | None = None  # since the beat's sweep last finished; None: not known

    def figures(self, schema: str) -> TenantFigures:
        return self.attention.get(schema, IDLE)


def overview(schemas: list[str]) -> Overview:
    """The projection figures of these tenants (raises if a database cannot be read)."""
    wanted = set(schemas)
    stored = {schema: figures for schema, figures in stored_attention().items() if schema in wanted}
    marked = tenants_with_work()
    live = schemas if marked is None else [schema for schema in schemas if schema in marked]
    waiting = pending_by_tenant(checkpoint_positions(live)) if live else {}
    for schema, (count, oldest) in waiting.items():
        dead = stored.get(schema, IDLE).dead_letters
        stored[schema] = TenantFigures(count, oldest, dead)
    now = timezone.now()
    swept = last_sweep_at()
    return Overview(
        now=now,
        attention={schema: f for schema, f in stored.items() if f != IDLE},
        sweep_age_seconds=round((now - swept).total_seconds(), 3) if swept else None,
    )
