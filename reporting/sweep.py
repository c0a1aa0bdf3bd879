"""The beat sweep: which tenants have events waiting, at a cost that follows them, not the number of tenants.

Per sweep, whatever the number of tenants: one query reads every tenant's checkpoint position (reporting
database) and one counts every tenant's unapplied events (write database), each a UNION ALL over the tenant
schemas (in chunks of CHUNK). An idle tenant costs two index probes and no write. Only a tenant with events
waiting, or whose stored pending figure is out of date, gets its checkpoint updated; those waiting past
PROJECTION_STALE_SECONDS are returned for a catch-up. That the idle tenants were caught up at the sweep's start
is written to the cache in one command; dashboards read it as their "last confirmed update".
"""

import logging
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import ProgrammingError, connections
from django.utils import timezone

from reporting.models import ProjectionCheckpoint
from reporting.projector import OUTBOX, READ_ALIAS, WRITE_ALIAS, unapplied_condition

logger = logging.getLogger("reporting.sweep")

CHUNK = 500  # tenants per UNION ALL statement: bounded statements, and a broken schema costs one chunk
CONFIRMED_TTL = 60  # seconds; a confirmation older than any lag threshold is worthless anyway
_POSITION = ("applied_snapshot", "batch_snapshot", "last_tx_id", "last_event_id")


def confirmed_key(schema_name: str) -> str:
    return f"projection:confirmed:{schema_name}"


def confirmed_at(schema_name: str) -> datetime | None:
    """When the sweep last found the tenant with no event waiting (None if unknown or the cache is down)."""
    try:
        return cache.get(confirmed_key(schema_name))
    except Exception:
        return None


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
    # never waiting for a projector that holds the row: it records its own figures when it finishes.
    same_position = " AND ".join(f"{column} = %s" for column in _POSITION)
    quote = connections[READ_ALIAS].ops.quote_name
    with connections[READ_ALIAS].cursor() as cursor:  # one cursor: the tenant router sets search_path per cursor
        for schema, position, count, oldest in changes:
            try:
                cursor.execute(
                    f"""UPDATE {quote(schema)}.projection_checkpoint
                        SET pending_count = %s, oldest_pending_at = %s,
                            caught_up_at = CASE WHEN %s = 0 THEN %s ELSE caught_up_at END
                        WHERE id = (SELECT id FROM {quote(schema)}.projection_checkpoint
                                    WHERE id = 1 AND {same_position} FOR UPDATE SKIP LOCKED)""",
                    [count, oldest, count, now, *(getattr(position, column) for column in _POSITION)],
                )
            except ProgrammingError:  # dropped since it was read
                logger.warning("sweep skipped a tenant", extra={"tenant": schema}, exc_info=True)


def sweep(schemas: list[str]) -> list[str]:
    """Refresh the freshness figures of the tenants that need it; return the tenants to catch up."""
    started = timezone.now()
    positions = checkpoint_positions(schemas)
    waiting = pending_by_tenant(positions)
    stale, idle, changes = [], [], []
    for schema, (count, oldest) in waiting.items():
        if count == 0:
            idle.append(schema)
        if count or positions[schema].pending_count:
            changes.append((schema, positions[schema], count, oldest))
        if oldest is None:
            continue
        lag = (started - oldest).total_seconds()
        if lag > settings.PROJECTION_LAG_WARNING_SECONDS:
            logger.warning("projection lag", extra={"tenant": schema, "lag_seconds": round(lag, 1), "pending": count})
        if lag >= settings.PROJECTION_STALE_SECONDS:
            stale.append(schema)
    if changes:
        _record(changes, started)
    try:
        cache.set_many({confirmed_key(schema): started for schema in idle}, timeout=CONFIRMED_TTL)
    except Exception:
        logger.warning("sweep could not record confirmations in the cache", exc_info=True)
    return stale
