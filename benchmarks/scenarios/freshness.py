"""Benchmark scenarios for freshness (hooked into benchmarks.run):

- the beat sweep over many tenants, most of them idle, against the per-tenant way (a lock, a count and an
  update per tenant, each in its own transaction), side by side on the same tenants;
- event -> read model lag at 50 submissions/s while an unrelated transaction holds an xid open in another
  database of the server for the whole phase (the plain phase is the benchmark's own `lag`).

The sweep's tenants are lightweight: only the two tables the sweep reads (the outbox in the write database, the
checkpoint in the reporting database), created LIKE the bench tenant's and dropped afterwards.
"""

import logging
import time
from contextlib import contextmanager

from benchmarks.stats import summary_ms
from helpdesk.databases import READ_ALIAS, WRITE_ALIAS

PREFIX = "bench_sweep_"
EVENTS_PER_BUSY_TENANT = 5
DDL_CHUNK = 100  # schemas per transaction: DROP/CREATE of many schemas at once exhausts the lock table


def _in_chunks(alias: str, statements: list) -> None:
    """Run statements (SQL, or (SQL, parameters)) a chunk per transaction."""
    from django.db import connections, transaction

    for i in range(0, len(statements), DDL_CHUNK):
        with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
            for statement in statements[i : i + DDL_CHUNK]:
                cursor.execute(*((statement,) if isinstance(statement, str) else statement))


@contextmanager
def sweep_tenants(*, template: str, idle: int, busy: int):
    """`idle + busy` tenant schemas in both databases: every one has an applied event and a caught-up
    checkpoint; each busy one has EVENTS_PER_BUSY_TENANT events committed after it, waiting."""
    from django.db import connections

    from reporting.outbox import current_snapshot

    schemas = [f"{PREFIX}{i:05d}" for i in range(idle + busy)]
    tables = {WRITE_ALIAS: "complaints_outboxevent", READ_ALIAS: "projection_checkpoint"}
    event = (
        "INSERT INTO {}.complaints_outboxevent (event_type, complaint_id, complaint_version, payload, occurred_at) "
        "VALUES ('ComplaintCreated', 1, 1, '{{}}', now() - interval '3 seconds')"
    )
    drop = {alias: [f"DROP SCHEMA IF EXISTS {s} CASCADE" for s in schemas] for alias in tables}
    for alias, table in tables.items():
        _in_chunks(alias, drop[alias])
        _in_chunks(alias, [f"CREATE SCHEMA {s}" for s in schemas])
        _in_chunks(alias, [f"CREATE TABLE {s}.{table} (LIKE {template}.{table} INCLUDING ALL)" for s in schemas])
    try:
        _in_chunks(WRITE_ALIAS, [event.format(s) for s in schemas])
        caught_up = current_snapshot()
        checkpoint = (
            "INSERT INTO {}.projection_checkpoint (id, applied_snapshot, batch_snapshot, last_tx_id, last_event_id, "
            "events_applied, pending_count) VALUES (1, %s, '', 0, 0, 1, 0)"
        )
        _in_chunks(READ_ALIAS, [(checkpoint.format(s), [caught_up]) for s in schemas])
        _in_chunks(WRITE_ALIAS, [event.format(s) for s in schemas[idle:] for _ in range(EVENTS_PER_BUSY_TENANT)])
        connections[WRITE_ALIAS].close()
        yield schemas
    finally:
        for alias in tables:
            _in_chunks(alias, drop[alias])


def _per_tenant_sweep(schemas: list[str]) -> None:
    """The way the sweep worked before: every tenant, its own transaction, a lock, a count and an update."""
    from django.db import transaction
    from django_tenants.utils import schema_context

    from reporting.outbox import pending_summary
    from reporting.projector import lock_checkpoint

    for schema in schemas:
        with schema_context(schema), transaction.atomic(using=READ_ALIAS):
            checkpoint = lock_checkpoint(skip_locked=True)
            if checkpoint is None:  # another sweep holds it
                continue
            checkpoint.pending_count, checkpoint.oldest_pending_at = pending_summary(checkpoint)
            checkpoint.save(update_fields=["pending_count", "oldest_pending_at"])


def _measure(fn, repetitions: int) -> dict:
    from django.db import connections

    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    fn()  # warm-up
    seconds, queries = [], []
    for _ in range(repetitions):
        statements.clear()
        with connections[WRITE_ALIAS].execute_wrapper(count), connections[READ_ALIAS].execute_wrapper(count):
            started = time.perf_counter()
            fn()
            seconds.append(time.perf_counter() - started)
        queries.append(len(statements))
    return {**summary_ms(seconds), "queries": max(queries)}


def bench_sweep(*, template: str, idle: int, busy: int, repetitions: int) -> dict:
    from helpdesk.redis import redis_client
    from reporting.sweep import FULL_SWEEP_KEY, sweep, sweep_due

    # The busy tenants' events are never applied here: their lag warnings are expected, not news.
    logging.getLogger("reporting.sweep").setLevel(logging.ERROR)
    with sweep_tenants(template=template, idle=idle, busy=busy) as schemas:
        result = sweep(schemas)
        assert len(result.stale) == busy, f"the sweep found {len(result.stale)} of {busy} busy tenants"
        full = _measure(lambda: sweep(schemas), repetitions)
        redis_client().delete(FULL_SWEEP_KEY)
        sweep_due(schemas)  # a full pass, which finds the busy tenants behind
        redis_client().set(FULL_SWEEP_KEY, 1, ex=3600)  # then only the sweeps between full passes
        try:
            between = _measure(lambda: sweep_due(schemas), repetitions)
        finally:
            redis_client().delete(FULL_SWEEP_KEY)
        per_tenant = _measure(lambda: _per_tenant_sweep(schemas), repetitions)
    return {
        "idle": idle,
        "busy": busy,
        "sweep": between,
        "full_pass": full,
        "per_tenant": per_tenant,
        "ratio_p50": round(per_tenant["p50_ms"] / between["p50_ms"], 1),
        "ratio_p50_full_pass": round(per_tenant["p50_ms"] / full["p50_ms"], 1),
    }


@contextmanager
def unrelated_open_transaction():
    """An idle-in-transaction session with an xid, in the server's `postgres` database."""
    import psycopg
    from django.conf import settings

    cfg = settings.DATABASES[WRITE_ALIAS]
    conn = psycopg.connect(host=cfg["HOST"], port=cfg["PORT"], user=cfg["USER"], dbname="postgres")
    try:
        row = conn.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
        assert row is not None  # one expression, one row
        yield row[0]
    finally:
        conn.rollback()
        conn.close()


def run(measure_lag, *, schema: str, quick: bool, agent, plain_lag: dict) -> dict:
    """Both scenarios; the lag phase under an open transaction mirrors the benchmark's plain `lag` phase."""
    seconds = 1.5 if quick else 20
    with unrelated_open_transaction():
        held = measure_lag(rate=50, seconds=seconds, agent=agent)
    held["p99_ratio_vs_plain"] = round(held["p99_ms"] / plain_lag["p99_ms"], 2) if plain_lag["p99_ms"] else None
    sizes = (20, 2) if quick else (1000, 10)
    return {
        "lag_open_transaction": held,
        "sweep": bench_sweep(template=schema, idle=sizes[0], busy=sizes[1], repetitions=3 if quick else 10),
    }


def table_rows(size: str, entry: dict) -> list[tuple]:
    from django.conf import settings

    rows = []
    if "lag_open_transaction" in entry:
        lag = entry["lag_open_transaction"]
        rows.append(
            (
                f"  ... same, unrelated transaction open all along @{lag['achieved_rate_per_s']}/s",
                size,
                f"{lag['p50_ms']} / {lag['p99_ms']}",
                "",
                f"{lag['visible']}/{lag['submitted']} seen, p99 {lag['p99_ratio_vs_plain']}x plain",
            )
        )
    if "sweep" in entry:
        s = entry["sweep"]
        every = f"full pass (every {settings.PROJECTION_FULL_SWEEP_SECONDS:g} s)"
        for label, figures, ratio in (
            ("each second", s["sweep"], s["ratio_p50"]),
            (every, s["full_pass"], s["ratio_p50_full_pass"]),
        ):
            rows.append(
                (
                    f"sweep {label}, p50 (ms) / statements, {s['idle']} idle + {s['busy']} busy tenants",
                    size,
                    f"{figures['p50_ms']} / {figures['queries']}",
                    f"{s['per_tenant']['p50_ms']} / {s['per_tenant']['queries']} (per tenant)",
                    f"{ratio}x faster",
                )
            )
    return rows
