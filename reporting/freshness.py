"""The one owner of a tenant's projection state as readers see it: how far behind the read models are, when they
were last known complete, which zone their days are in, and the version of the figures (the polling dashboard's
ETag). Below both the apply path (projector, sweep) and the read path (selectors, views): it imports neither.

Read from the reporting side alone: the projection checkpoint, and the sweep's confirmation for idle tenants (a
cache key per tenant, written here for the sweep). A request reads it once (figures_state) and passes it down.
On a streaming replica (reporting.replicas) that is the checkpoint the replica has replayed, and a confirmation
counts only as far as the replica holds the primary's commits: freshness describes the database that answers.
"""

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from helpdesk.databases import READ_ALIAS
from helpdesk.tenancy import connections
from reporting.days import local_today
from reporting.models import DeadLetter, ProjectionCheckpoint
from reporting.outbox import pending_summary
from reporting.replicas import NotServing, position_within_bound, replica_name
from tenants.selectors import tenant_time_zone

CONFIRMED_TTL = 60  # seconds; a confirmation older than any lag threshold is worthless anyway


def confirmed_key(schema_name: str) -> str:
    return f"projection:confirmed:{schema_name}"


def confirmed_at(schema_name: str) -> datetime | None:
    """When the sweep last found the tenant with no event waiting (None if unknown or the cache is down)."""
    try:
        return cache.get(confirmed_key(schema_name))
    except Exception:
        return None


def confirm_caught_up(schema_names: list[str], at: datetime) -> None:
    """The sweep's finding that these tenants held every committed event at `at` (their "last updated")."""
    cache.set_many({confirmed_key(schema): at for schema in schema_names}, timeout=CONFIRMED_TTL)


def read_models_time_zone() -> str:
    """The zone whose local days the current tenant's read models hold (before the first projection: the
    tenant's, which the first run will write into the checkpoint)."""
    zone = ProjectionCheckpoint.objects.using(READ_ALIAS).filter(id=1).values_list("time_zone", flat=True).first()
    return zone or tenant_time_zone(connections[READ_ALIAS].schema_name)


def projection_progress() -> dict:
    """The tenant's progress through its events, counted live on both sides (for projection_status, probes and
    tests; dashboards use figures_state, which reads the checkpoint alone)."""
    stored = ProjectionCheckpoint.objects.using(READ_ALIAS).filter(id=1).first()
    checkpoint = stored or ProjectionCheckpoint()
    count, oldest = pending_summary(checkpoint)
    now = timezone.now()
    return {
        "last_event_id": checkpoint.last_event_id,
        "last_event_at": checkpoint.last_event_at,
        "applied_at": checkpoint.applied_at,
        "events_applied": checkpoint.events_applied,
        "pending_count": count,
        "oldest_pending_at": oldest,
        "lag_seconds": (now - oldest).total_seconds() if oldest else 0.0,
        "dead_letters": DeadLetter.objects.using(READ_ALIAS).filter(dead=True, resolved_at__isnull=True).count(),
        "time_zone": stored.time_zone if stored else read_models_time_zone(),
    }


def replayed_last_event_id(alias: str) -> int | None:
    """The last event the current tenant's checkpoint holds on the reporting database `alias` (a replica: as far
    as it has replayed), for projection_status."""
    return ProjectionCheckpoint.objects.using(alias).filter(id=1).values_list("last_event_id", flat=True).first()


@dataclass
class Freshness:
    last_updated: datetime | None
    age_seconds: float | None
    pending: int

    @property
    def stale(self) -> bool:
        return self.age_seconds is None or self.age_seconds > settings.PROJECTION_LAG_WARNING_SECONDS


def freshness_since(last_updated: datetime | None, pending: int) -> Freshness:
    """The freshness of figures that held every event committed up to `last_updated`, measured now."""
    if last_updated is None:
        return Freshness(None, None, pending)
    return Freshness(last_updated, max((timezone.now() - last_updated).total_seconds(), 0.0), pending)


def _freshness_of(checkpoint: ProjectionCheckpoint | None, replayed_through: datetime | None) -> Freshness:
    """When the read models were last known to hold every committed event: the projector's last catch-up, or,
    for a tenant with nothing waiting, the sweep's last confirmation (it writes no checkpoint for idle tenants).
    The sweep confirms what the primary holds: on a replica that has replayed the primary's commits only up to
    `replayed_through`, a later confirmation says nothing of it (the checkpoint it replayed still does)."""
    pending = checkpoint.pending_count if checkpoint else 0
    confirmed = [checkpoint.caught_up_at] if checkpoint else []
    if pending == 0:
        sweep = confirmed_at(connections[READ_ALIAS].schema_name)
        if sweep is not None and (replayed_through is None or sweep <= replayed_through):
            confirmed.append(sweep)
    return freshness_since(max((at for at in confirmed if at is not None), default=None), pending)


@dataclass(frozen=True)
class FiguresState:
    version: str  # changes whenever any dashboard figure may have changed
    freshness: Freshness
    time_zone: str  # the zone whose local days the read models count (periods end on its today)
    alias: str = READ_ALIAS  # the database that holds these read models: the primary or a replica, which answers


def figures_state(alias: str = READ_ALIAS) -> FiguresState:
    """The dashboard figures' version and freshness, and the read models' zone, from one read of the checkpoint
    of the database `alias` (a replica further behind than its bound refuses: reporting.replicas.NotServing).
    The version moves when events are applied (or a dead letter is retried), a rebuild commits, or the day turns
    (periods and backlog ages are by day); it does not move when the sweep merely confirms freshness or a
    projector run finds nothing new, so an idle dashboard's polls stay 304. It is the same on every replica
    that has replayed the same checkpoint, so a poll answered by another one is still a 304."""
    # Before the checkpoint: the replica has replayed at least this far when the checkpoint is read.
    where = position_within_bound(alias)
    checkpoint = ProjectionCheckpoint.objects.using(alias).filter(id=1).first()
    # The zone from the row just read; with no row yet, the tenant's (not a second read of the checkpoint).
    zone = checkpoint.time_zone if checkpoint else tenant_time_zone(connections[READ_ALIAS].schema_name)
    parts = (
        connections[READ_ALIAS].schema_name,
        # What moves only when the read models' content does: events applied (a run that applies nothing, or only
        # stale events, moves the stored snapshot but not the figures), a rebuild, the zone. No row yet means
        # nothing applied: the same figures as the row the first sweep creates.
        (checkpoint.events_applied, checkpoint.rebuilt_at, checkpoint.time_zone) if checkpoint else (0, None, ""),
        local_today(zone),
    )
    fresh = _freshness_of(checkpoint, where.replayed_through)
    # A replica behind the primary whose figures are older than its bound is passed over too: its last
    # confirmation can be older than its replay position, and the bound is on what a person is shown. A caught-up
    # one shows what the primary would (its staleness is the primary's own).
    bound = settings.REPORTING_REPLICA_MAX_LAG_SECONDS
    if where.lag_seconds > 0 and fresh.age_seconds is not None and fresh.age_seconds > bound:
        raise NotServing(f"reporting replica {replica_name(alias)} holds figures {fresh.age_seconds:.1f} s old")
    return FiguresState(hashlib.sha256(repr(parts).encode()).hexdigest()[:24], fresh, zone, alias)


def wait_until_fresh(*, since: datetime, timeout: float = 3.0) -> bool:
    """Wait (briefly) until the projector has caught up after `since`; True if it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        checkpoint = ProjectionCheckpoint.objects.using(READ_ALIAS).filter(id=1).first()
        if checkpoint and checkpoint.caught_up_at and checkpoint.caught_up_at >= since:
            return True
        time.sleep(0.1)
    return False
