"""Applies a tenant's domain events to its read models, incrementally and exactly once.

One run = one reporting-database transaction that locks the tenant's checkpoint row, reads the next batch of
events from the write side's outbox, folds them into the complaint facts and the read-model counters, and
advances the checkpoint in that same transaction. A crash before the commit leaves everything as it was; a
crash after it leaves nothing to redo. The connections must already point at the tenant's schema.

Batches are PgQ's (Skytools): each run reads under a snapshot of the write database (`pg_current_snapshot()`)
and takes the events whose transaction is visible in it and was not visible in the snapshot the previous run
stored in the checkpoint. A committed transaction stays visible in every later snapshot, so each transaction's
events land in exactly one batch: the first run after its commit. Nothing else running on the server (another
database, another tenant, a `psql` left open) can hold a batch back, and a transaction that commits late is
picked up by the next run instead of being skipped. Reading the outbox by snapshot: reporting.outbox; see the
README, "Events".
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal, overload

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from complaints import contract
from helpdesk.databases import READ_ALIAS
from helpdesk.tenancy import connections
from reporting.facts import FACT_COLUMNS, FACT_FIELDS, FACT_TABLE, Fact, fact_from_state
from reporting.models import AgentDim, CategoryDim, DeadLetter, ProjectionCheckpoint
from reporting.outbox import Event, current_snapshot, fetch_events, pending_summary
from reporting.readmodel import apply_facts_sql
from reporting.status import publish
from tenants.selectors import tenant_time_zone

logger = logging.getLogger("reporting.projector")


class PoisonEvent(Exception):
    """The event cannot be applied whatever we retry (malformed payload, unknown type)."""


@dataclass
class RunResult:
    applied: int = 0
    skipped: int = 0
    dead_lettered: int = 0
    # Run again at once: the batch was cut by the size limit, or this run finished a batch taken under an older
    # snapshot (events committed since then wait for a run with a new one).
    more_waiting: bool = False
    retry_after: float | None = None  # a failing event waits for its backoff
    durations: dict = field(default_factory=dict)


@overload
def lock_checkpoint(*, skip_locked: Literal[False] = False) -> ProjectionCheckpoint: ...
@overload
def lock_checkpoint(*, skip_locked: bool) -> ProjectionCheckpoint | None: ...
def lock_checkpoint(*, skip_locked: bool = False) -> ProjectionCheckpoint | None:
    """The tenant's checkpoint row, locked (created first if missing). None only with skip_locked, when another
    transaction holds it."""
    if not ProjectionCheckpoint.objects.using(READ_ALIAS).filter(id=1).exists():
        # Nothing projected yet: the read models start in the tenant's zone (a later change rebuilds them).
        ProjectionCheckpoint.objects.using(READ_ALIAS).get_or_create(
            id=1, defaults={"time_zone": tenant_time_zone(connections[READ_ALIAS].schema_name)}
        )
    qs = ProjectionCheckpoint.objects.using(READ_ALIAS).select_for_update(skip_locked=skip_locked).filter(id=1)
    return qs.first()


class EventBatch:
    """Folds events into each complaint's newest fact in memory, then writes the batch in one statement
    (reporting.readmodel.apply_facts_sql: the facts replaced and every read model moved by the difference).
    Days are local days in `zone`: the checkpoint's, the zone the read models were built with (see
    ProjectionCheckpoint)."""

    def __init__(self, zone: str = "UTC"):
        self.zone = zone
        self.facts: dict[int, Fact | None] = {}
        self.dirty: set[int] = set()
        self.categories: dict[int, tuple[str, bool]] = {}
        self.agents: dict[int, str] = {}
        self.seen_categories: dict[int, str] = {}
        self.seen_agents: dict[int, str] = {}

    def preload(self, events: list[Event]) -> None:
        """The stored versions of the batch's complaints: what tells a stale event from a new one."""
        ids = {e.complaint_id for e in events if e.complaint_id is not None} - self.facts.keys()
        with connections[READ_ALIAS].cursor() as cursor:
            # One array parameter: an import's batch names thousands of complaints.
            cursor.execute(
                f"SELECT {', '.join(FACT_COLUMNS)} FROM {FACT_TABLE} WHERE complaint_id = ANY(%s::bigint[])",
                [sorted(ids)],
            )
            for complaint_id, *values in cursor.fetchall():
                self.facts[complaint_id] = Fact(*values)

    def apply(self, event: Event) -> bool:
        """Fold one event in. Returns False when it was stale (already reflected). Raises PoisonEvent."""
        try:
            if event.complaint_id is not None:
                return self._apply_complaint(event)
            if event.event_type == contract.CATEGORY_CHANGED:
                p = event.payload
                self.categories[int(p["category_id"])] = (str(p["name"]), bool(p["active"]))
                return True
            if event.event_type == contract.AGENT_CHANGED:
                self.agents[int(event.payload["agent_id"])] = str(event.payload["name"])
                return True
        except (KeyError, ValueError, TypeError) as exc:
            raise PoisonEvent(f"{type(exc).__name__}: {exc}") from exc
        raise PoisonEvent(f"unknown event type {event.event_type!r}")

    def _apply_complaint(self, event: Event) -> bool:
        complaint_id, version = event.complaint_id, event.complaint_version
        if complaint_id is None or version is None:
            raise PoisonEvent("a complaint's event without its complaint_id and complaint_version")
        old = self.facts.get(complaint_id)
        if old is not None and version <= old.version:
            return False  # a duplicate, or superseded by a later event already applied
        state = event.payload["state"]
        new = fact_from_state(state, version)
        self.facts[complaint_id] = new
        self.dirty.add(complaint_id)
        self.seen_categories[new.category_id] = str(state.get("category_name", ""))
        if new.assignee_id is not None:
            self.seen_agents[new.assignee_id] = str(state.get("assignee_name", ""))
        return True

    def write(self) -> None:
        conn = connections[READ_ALIAS]
        with conn.cursor() as cursor:
            if self.dirty:
                ids = sorted(self.dirty)
                arrays: dict[str, list] = {"complaint_id": ids, "tz": self.zone}  # type: ignore[dict-item]
                for name in FACT_FIELDS:
                    arrays[name] = [getattr(self.facts[cid], name) for cid in ids]
                cursor.execute(apply_facts_sql(), arrays)
            # Names first seen through a complaint event; renames come as Category/AgentChanged and overwrite.
            if self.seen_categories:
                cursor.executemany(
                    "INSERT INTO category_dim (category_id, name, active) VALUES (%s, %s, true) "
                    "ON CONFLICT (category_id) DO NOTHING",
                    sorted(self.seen_categories.items()),
                )
            if self.seen_agents:
                cursor.executemany(
                    "INSERT INTO agent_dim (agent_id, name) VALUES (%s, %s) ON CONFLICT (agent_id) DO NOTHING",
                    sorted(self.seen_agents.items()),
                )
        for cid, (name, active) in sorted(self.categories.items()):
            CategoryDim.objects.using(READ_ALIAS).update_or_create(
                category_id=cid, defaults={"name": name, "active": active}
            )
        for aid, name in sorted(self.agents.items()):
            AgentDim.objects.using(READ_ALIAS).update_or_create(agent_id=aid, defaults={"name": name})


def _backoff_seconds(attempts: int) -> float:
    return min(0.5 * 2 ** (attempts - 1), 30.0)


def _record_failure(event: Event, error: str, *, dead: bool) -> DeadLetter:
    now = timezone.now()
    letter, created = DeadLetter.objects.using(READ_ALIAS).get_or_create(
        event_id=event.id,
        defaults=dict(
            event_type=event.event_type,
            complaint_id=event.complaint_id,
            complaint_version=event.complaint_version,
            payload=event.payload,
            occurred_at=event.occurred_at,
            error=error,
            attempts=1,
            dead=dead,
            first_failed_at=now,
            last_failed_at=now,
        ),
    )
    if not created:
        letter.attempts += 1
        letter.error, letter.dead, letter.last_failed_at = error, dead, now
        letter.save(update_fields=["attempts", "error", "dead", "last_failed_at"])
    return letter


@dataclass(frozen=True)
class _Taken:
    """A run's events and where they come from: the snapshot they are read under, whether that is a batch an
    earlier run began (`continuing`), and whether the size limit cut the batch."""

    events: list[Event]
    target: str
    continuing: bool
    cut: bool


def run_once(*, batch_size: int | None = None) -> RunResult:
    """Apply the next batch of the current tenant's events. Safe to run concurrently and repeatedly."""
    batch_size = batch_size or settings.PROJECTION_BATCH_SIZE
    result = RunResult()
    started = time.monotonic()
    with transaction.atomic(using=READ_ALIAS):
        checkpoint = lock_checkpoint()
        taken = _take(checkpoint, batch_size)
        batch = EventBatch(checkpoint.time_zone)
        batch.preload(taken.events)
        done = _fold(taken.events, batch, result)
        batch.write()
        _advance(checkpoint, taken, done, result)
        publish()
    result.durations["seconds"] = time.monotonic() - started
    if taken.events:
        _log_run(taken.events, done, result)
    return result


def _take(checkpoint: ProjectionCheckpoint, batch_size: int) -> _Taken:
    # A batch in progress keeps its snapshot until it is finished: taking a newer one half-way would let the
    # cursor pass events of transactions that the old snapshot did not see yet.
    continuing = bool(checkpoint.batch_snapshot)
    target = checkpoint.batch_snapshot or current_snapshot()
    events = fetch_events(
        applied=checkpoint.applied_snapshot,
        target=target,
        after_tx=checkpoint.last_tx_id if continuing else 0,
        after_id=checkpoint.last_event_id if continuing else 0,
        limit=batch_size,
    )
    return _Taken(events, target, continuing, cut=len(events) == batch_size)


def _fold(events: list[Event], batch: EventBatch, result: RunResult) -> list[Event]:
    """Fold the events into the batch in order, up to the first that must wait for its backoff (the ones after
    it wait behind it). Returns the events done with: applied, skipped as stale, or dead-lettered."""
    failures = {
        d.event_id: d
        for d in DeadLetter.objects.using(READ_ALIAS).filter(event_id__in=[e.id for e in events], dead=False)
    }
    done: list[Event] = []
    for event in events:
        earlier = failures.get(event.id)
        if earlier and earlier.last_failed_at + timedelta(seconds=_backoff_seconds(earlier.attempts)) > timezone.now():
            result.retry_after = _backoff_seconds(earlier.attempts)
            break
        if not _fold_one(event, earlier, batch, result):
            break
        done.append(event)
    return done


def _fold_one(event: Event, earlier: DeadLetter | None, batch: EventBatch, result: RunResult) -> bool:
    """Fold one event in, recording how it went. False when it failed and will be retried (the run stops)."""
    try:
        if batch.apply(event):
            result.applied += 1
        else:
            result.skipped += 1
        if earlier:
            earlier.resolved_at, earlier.resolution = timezone.now(), "applied"
            earlier.save(update_fields=["resolved_at", "resolution"])
        return True
    except PoisonEvent as exc:
        attempts = (earlier.attempts if earlier else 0) + 1
        dead = attempts >= settings.PROJECTION_MAX_ATTEMPTS
        _record_failure(event, str(exc), dead=dead)
        logger.warning(
            "event failed",
            extra={
                "event_id": event.id,
                "tenant": connections[READ_ALIAS].schema_name,
                "outcome": "dead_letter" if dead else "retry",
                "attempts": attempts,
                "error": str(exc),
            },
        )
        if not dead:
            result.retry_after = _backoff_seconds(attempts)
            return False
        result.dead_lettered += 1
        return True


def _advance(checkpoint: ProjectionCheckpoint, taken: _Taken, done: list[Event], result: RunResult) -> None:
    """Move the checkpoint past the events done, in the transaction that wrote them."""
    now = timezone.now()
    if done:
        last = done[-1]
        checkpoint.last_tx_id, checkpoint.last_event_id = last.tx_id, last.id
        checkpoint.last_event_at = last.occurred_at
        checkpoint.applied_at = now
        checkpoint.events_applied += result.applied
    if not taken.cut and len(done) == len(taken.events):  # the batch is complete
        checkpoint.applied_snapshot, checkpoint.batch_snapshot = taken.target, ""
        result.more_waiting = taken.continuing
    else:
        checkpoint.batch_snapshot = taken.target
        result.more_waiting = taken.cut
        if not done and not taken.continuing:
            checkpoint.last_tx_id, checkpoint.last_event_id = 0, 0  # nothing of this new batch applied yet
    if not result.more_waiting:  # counting what is left costs O(pending): only worth it near the end
        count, oldest = pending_summary(checkpoint)
        checkpoint.pending_count, checkpoint.oldest_pending_at = count, oldest
        if count == 0:
            checkpoint.caught_up_at = now
    checkpoint.save()


def _log_run(events: list[Event], done: list[Event], result: RunResult) -> None:
    logger.info(
        "projected events",
        extra={
            "tenant": connections[READ_ALIAS].schema_name,
            "applied": result.applied,
            "skipped": result.skipped,
            "dead_lettered": result.dead_lettered,
            "first_event_id": events[0].id,
            "last_event_id": done[-1].id if done else None,
            "outcome": "ok" if result.retry_after is None else "retry",
            "duration_ms": round(result.durations["seconds"] * 1000, 1),
        },
    )


def catch_up(*, time_budget: float = 5.0, batch_size: int | None = None) -> RunResult:
    """Run batches until the tenant is caught up, an event must wait for its backoff, or the budget is spent."""
    total = RunResult()
    deadline = time.monotonic() + time_budget
    while True:
        result = run_once(batch_size=batch_size)
        total.applied += result.applied
        total.skipped += result.skipped
        total.dead_lettered += result.dead_lettered
        total.retry_after = result.retry_after
        total.more_waiting = result.more_waiting
        if result.retry_after is not None or not result.more_waiting or time.monotonic() > deadline:
            return total
