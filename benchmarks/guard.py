"""Speed guards: each guarded path timed against a reference that does comparable work without our code, in the
same process, interleaved, on the same machine. A slower or busier machine slows both sides alike, so the ratio
says whether *our* path got slower. `make test` holds the ratios to budgets (tests/ops/test_speed_guard.py);
`make bench` prints them beside the absolute figures.

The references:
- projector: a plain `INSERT ... ON CONFLICT DO UPDATE` of one row per event into a scratch table, one statement
  per row (executemany), in one transaction: the cheapest way anyone would write "apply these events" row by row;
- dashboard: a fixed aggregate over generated rows in the reporting database, about the size of one figure's
  query.

Both run in the current tenant (the connections must point at its schema).
"""

import statistics
import time
from collections.abc import Callable

REFERENCE_QUERY = "SELECT count(*), sum(g % 97) FROM generate_series(1, 20000) AS g"


def _seconds(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def projector_ratio(*, events: int, rounds: int = 3) -> dict:
    """The projector replaying the tenant's last `events` events onto emptied read models, against the reference
    upsert of as many rows; the best of `rounds` each, interleaved. The read models are rebuilt afterwards."""
    from django.db import connections, transaction

    from helpdesk.databases import READ_ALIAS, WRITE_ALIAS
    from reporting import outbox, projector
    from reporting.facts import FACT_TABLE
    from reporting.models import ProjectionCheckpoint
    from reporting.readmodel import READ_MODELS
    from reporting.rebuild import rebuild_read_models

    with connections[WRITE_ALIAS].cursor() as cursor:
        cursor.execute(
            f"SELECT tx_id, id FROM {outbox.OUTBOX} ORDER BY tx_id DESC, id DESC OFFSET %s LIMIT 1", [events]
        )
        start = cursor.fetchone() or (0, 0)

    def replay() -> int:
        with connections[READ_ALIAS].cursor() as cursor:
            cursor.execute(f"TRUNCATE {FACT_TABLE}, " + ", ".join(m.table for m in READ_MODELS))
        ProjectionCheckpoint.objects.using(READ_ALIAS).update(
            **outbox.position_after(tx_id=start[0], event_id=start[1])
        )
        result = projector.catch_up(time_budget=3600)
        return result.applied + result.skipped

    rows = [(i % max(events // 2, 1), 1) for i in range(events)]

    def reference() -> None:
        with transaction.atomic(using=READ_ALIAS), connections[READ_ALIAS].cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE guard_reference (k bigint PRIMARY KEY, v bigint NOT NULL) ON COMMIT DROP")
            cursor.executemany(
                "INSERT INTO guard_reference AS t (k, v) VALUES (%s, %s) "
                "ON CONFLICT (k) DO UPDATE SET v = t.v + EXCLUDED.v",
                rows,
            )

    applied, ours, theirs = 0, [], []
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            applied = replay()
            ours.append(time.perf_counter() - started)
            theirs.append(_seconds(reference))
    finally:
        rebuild_read_models()
    best, reference_best = min(ours), min(theirs)
    return {
        "events": applied,
        "events_per_second": round(applied / best),
        "reference_rows_per_second": round(events / reference_best),
        "ratio": round(best / reference_best, 2),
    }


def dashboard_ratio(*, filters=None, reps: int = 15) -> dict:
    """The 180-day dashboard's figures (reporting.figures.dashboard), against the reference query; the median
    of `reps` interleaved pairs' ratios."""
    from django.db import connections

    from helpdesk.databases import READ_ALIAS
    from reporting import figures, selectors

    period = selectors.period_last(selectors.DEFAULT_PERIOD_DAYS)
    filters = filters or selectors.Filters()

    def dashboard() -> None:
        figures.dashboard(period=period, filters=filters)

    def reference() -> None:
        with connections[READ_ALIAS].cursor() as cursor:
            cursor.execute(REFERENCE_QUERY)
            cursor.fetchall()

    dashboard()  # warm: plans, caches, connections
    reference()
    ours, theirs = [], []
    for _ in range(reps):
        ours.append(_seconds(dashboard))
        theirs.append(_seconds(reference))
    return {
        "dashboard_ms": round(statistics.median(ours) * 1000, 2),
        "reference_ms": round(statistics.median(theirs) * 1000, 2),
        "ratio": round(statistics.median(o / t for o, t in zip(ours, theirs, strict=True)), 2),
    }


def dashboard_rows_read(*, filters=None) -> dict[str, int]:
    """Rows each read-model table gave the 180-day dashboard's figures (sequential and index reads, from the
    server's own per-transaction statistics): a count that does not depend on the machine at all."""
    from django.db import connections, transaction

    from helpdesk.databases import READ_ALIAS
    from reporting import figures, selectors

    period = selectors.period_last(selectors.DEFAULT_PERIOD_DAYS)
    with connections[READ_ALIAS].cursor() as cursor:
        # Reads this session made earlier and the server has not yet flushed would count too: flush them first.
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with transaction.atomic(using=READ_ALIAS), connections[READ_ALIAS].cursor() as cursor:
        figures.dashboard(period=period, filters=filters or selectors.Filters())
        cursor.execute(
            "SELECT relname, COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables "
            "WHERE schemaname = current_schema() AND COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0) > 0"
        )
        return dict(cursor.fetchall())


def read_model_rows() -> int:
    """Rows in the current tenant's read-model tables, all together (what dashboard_rows_read is measured by)."""
    from django.db import connections

    from helpdesk.databases import READ_ALIAS
    from reporting.readmodel import READ_MODELS

    with connections[READ_ALIAS].cursor() as cursor:
        cursor.execute("SELECT " + " + ".join(f"(SELECT count(*) FROM {m.table})" for m in READ_MODELS))
        return cursor.fetchone()[0]
