"""The beat sweep: which tenants have events waiting, at a cost that follows them, not the number of tenants.

Which tenants a sweep looks at: those the write side marked on commit since the last sweep (a Redis set, see
complaints.signals), and those it found behind last time. Every PROJECTION_FULL_SWEEP_SECONDS, or whenever
Redis cannot say, it looks at every tenant instead: the safety net for a mark lost with Redis.

How it looks, whatever the number of tenants looked at: one query reads their checkpoint positions (reporting
database) and one counts their unapplied events (write database), each a UNION ALL over the tenant schemas (in
chunks of CHUNK), an index probe per tenant. Only a tenant with events waiting, or whose stored pending figure
is out of date, gets its checkpoint updated; those waiting past PROJECTION_STALE_SECONDS are returned for a
catch-up. That the other tenants were caught up at the sweep's start is written to the cache in one command;
dashboards read it as their "last confirmed update".
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import ProgrammingError, connections
from django.utils import timezone

from complaints.contract import PENDING_TENANTS_KEY
from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
from helpdesk.redis import redis_client
from reporting.freshness import confirm_caught_up
from reporting.models import ProjectionCheckpoint
from reporting.outbox import OUTBOX, unapplied_condition
from reporting.status import publishing_update

logger = logging.getLogger("reporting.sweep")

CHUNK = 500  # tenants per UNION ALL statement: bounded statements, and a broken schema costs one chunk
FULL_SWEEP_KEY = "projection:full-sweep"  # exists while the last full sweep is recent enough
BEHIND_KEY = "projection:behind"  # tenants the last sweep found with events waiting
SWEPT_KEY = "projection:swept-at"  # when the last sweep finished (cache, no expiry: its age is the point)
_POSITION = ("applied_snapshot", "batch_snapshot", "last_tx_id", "last_event_id")


def last_sweep_at() -> datetime | None:
    """When a sweep last finished (None if none did since the cache was emptied, or the cache is down)."""
    try:
        return cache.get(SWEPT_KEY)
    except Exception:
        return None


def tenants_with_work() -> set[str] | None:
    """The tenants that may have events waiting: marked on commit since the last sweep, or found behind by it.
    Every other tenant was caught up when last looked at and has committed nothing since. None if Redis cannot
    say. Reads the marks without taking them (the sweep takes them)."""
    try:
        with redis_client().pipeline(transaction=False) as pipe:
            pipe.smembers(PENDING_TENANTS_KEY)
            pipe.smembers(BEHIND_KEY)
            marked, behind = pipe.execute()
    except redis.RedisError:
        return None
    return {name.decode() for name in marked | behind}


def _union(alias: str, branch, schemas: list[str]) -> tuple[list, list[str]]:
    """Run `branch(quoted_schema, schema) -> (sql, params)` for every schema as one UNION ALL per chunk. A chunk
    that fails (a tenant being created or dropped right now) is split until only the broken schema is left out.
    Returns the rows and the schemas actually covered."""
    rows, covered = [], []
    quote = connections[alias].ops.quote_name
    chunks = [schemas[i : i + CHUNK] for i in range(0, len(schemas), CHUNK)]
    while chunks:
        chunk = chunks.pop()
        parts = [branch(quote(schema), schema) for schema in chunk]
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute(" UNION ALL ".join(sql for sql, _ in parts), [p for _, params in parts for p in params])
                rows += cursor.fetchall()
            covered += chunk
        except ProgrammingError:
            if len(chunk) == 1:
                logger.warning("sweep skipped a tenant", extra={"tenant": chunk[0]}, exc_info=True)
            else:
                chunks += [chunk[: len(chunk) // 2], chunk[len(chunk) // 2 :]]
    return rows, covered


def checkpoint_positions(schemas: list[str]) -> dict[str, ProjectionCheckpoint]:
    """Every tenant's checkpoint (unsaved copies; the default position where a tenant has none yet)."""
    columns = (*_POSITION, "pending_count")
    rows, covered = _union(
        READ_ALIAS,
        lambda quoted, schema: (f"SELECT %s, {', '.join(columns)} FROM {quoted}.projection_checkpoint", [schema]),
        schemas,
    )
    positions = {schema: ProjectionCheckpoint() for schema in covered}
    for schema, *values in rows:
        positions[schema] = ProjectionCheckpoint(**dict(zip(columns, values, strict=True)))
    return positions


def pending_by_tenant(positions: dict[str, ProjectionCheckpoint]) -> dict[str, tuple[int, datetime | None]]:
    """(count, oldest occurred_at) of each tenant's committed events that its checkpoint has not applied."""

    def branch(quoted: str, schema: str) -> tuple[str, list]:
        condition, params = unapplied_condition(positions[schema])
        sql = f"SELECT %s, COUNT(*), MIN(occurred_at) FROM {quoted}.{OUTBOX} WHERE {condition} HAVING COUNT(*) > 0"
        return sql, [schema, *params]

    rows, covered = _union(WRITE_ALIAS, branch, list(positions))
    return {schema: (0, None) for schema in covered} | {schema: (count, oldest) for schema, count, oldest in rows}


def _record(changes: list[tuple[str, ProjectionCheckpoint, int, datetime | None]], now) -> None:
    # Only where the checkpoint has not moved since it was read (else the figures describe an old position), and
    # never waiting for a projector that holds the row: it records its own figures when it finishes. What is
    # written is published to the status table in the same statement (under the same row lock).
    same_position = " AND ".join(f"{column} = %s" for column in _POSITION)
    quote = connections[READ_ALIAS].ops.quote_name
    with connections[READ_ALIAS].cursor() as cursor:  # one cursor: the tenant router sets search_path per cursor
        for schema, position, count, oldest in changes:
            update = f"""UPDATE {quote(schema)}.projection_checkpoint
                        SET pending_count = %s, oldest_pending_at = %s,
                            caught_up_at = CASE WHEN %s = 0 THEN %s ELSE caught_up_at END
                        WHERE id = (SELECT id FROM {quote(schema)}.projection_checkpoint
                                    WHERE id = 1 AND {same_position} FOR UPDATE SKIP LOCKED)"""
            try:
                cursor.execute(
                    publishing_update(update),
                    [count, oldest, count, now, *(getattr(position, column) for column in _POSITION), schema],
                )
            except ProgrammingError:  # dropped since it was read
                logger.warning("sweep skipped a tenant", extra={"tenant": schema}, exc_info=True)


@dataclass
class SweepResult:
    started: datetime
    stale: list[str] = field(default_factory=list)  # to catch up now
    behind: list[str] = field(default_factory=list)  # events waiting
    idle: list[str] = field(default_factory=list)  # nothing waiting


def sweep(schemas: list[str]) -> SweepResult:
    """Look at these tenants: refresh the freshness figures of those that need it, say which are stale."""
    result = SweepResult(started=timezone.now())
    positions = checkpoint_positions(schemas)
    waiting = pending_by_tenant(positions)
    changes = []
    for schema, (count, oldest) in waiting.items():
        (result.behind if count else result.idle).append(schema)
        if count or positions[schema].pending_count:
            changes.append((schema, positions[schema], count, oldest))
        if oldest is None:
            continue
        lag = (result.started - oldest).total_seconds()
        if lag > settings.PROJECTION_LAG_WARNING_SECONDS:
            logger.warning("projection lag", extra={"tenant": schema, "lag_seconds": round(lag, 1), "pending": count})
        if lag >= settings.PROJECTION_STALE_SECONDS:
            result.stale.append(schema)
    if changes:
        _record(changes, result.started)
    return result


def tenants_due(schemas: list[str]) -> tuple[list[str], bool]:
    """The tenants this sweep must look at, and whether that is every tenant (a full sweep)."""
    try:
        client = redis_client()
        full = client.set(FULL_SWEEP_KEY, 1, nx=True, ex=max(1, round(settings.PROJECTION_FULL_SWEEP_SECONDS)))
        with client.pipeline() as pipe:  # MULTI/EXEC: a mark added meanwhile stays for the next sweep
            pipe.smembers(PENDING_TENANTS_KEY)
            pipe.delete(PENDING_TENANTS_KEY)
            pipe.smembers(BEHIND_KEY)
            marked, _, behind = pipe.execute()
    except redis.RedisError:
        return schemas, True
    if full:
        return schemas, True
    due = {name.decode() for name in marked | behind}
    return [schema for schema in schemas if schema in due], False


def sweep_due(schemas: list[str]) -> list[str]:
    """The beat's sweep over every tenant in `schemas`; returns the tenants to catch up."""
    due, full = tenants_due(schemas)
    result = sweep(due)
    # Tenants not looked at were caught up when last looked at, and none of their transactions has committed
    # an event since (it would have marked them).
    confirmed = result.idle if full else [schema for schema in schemas if schema not in set(result.behind)]
    try:
        with redis_client().pipeline() as pipe:
            pipe.delete(BEHIND_KEY)
            if result.behind:
                pipe.sadd(BEHIND_KEY, *result.behind)
            pipe.execute()
        confirm_caught_up(confirmed, result.started)
        cache.set(SWEPT_KEY, timezone.now(), timeout=None)
    except Exception:
        logger.warning("sweep could not record its findings in Redis", exc_info=True)
    return result.stale
