"""What the read models cost and save: the dashboard computed both ways, a rebuild, the projector's throughput."""

import time

from benchmarks.stats import summary_ms, timed
from benchmarks.tenant import DOMAIN, SCHEMA, vacuum_read_models
from helpdesk.databases import READ_ALIAS, WRITE_ALIAS


def bench_dashboard(reps_read: int, reps_fly: int, manager) -> dict:
    from django.test import Client
    from django_tenants.utils import schema_context

    from reporting import selectors
    from reporting.onthefly import WRITE_TABLES
    from reporting.selectors import Filters, period_last

    with schema_context(SCHEMA):
        period = period_last(selectors.DEFAULT_PERIOD_DAYS)  # the tenant's local days
        read = timed(lambda: selectors.dashboard(period=period, filters=Filters()), reps_read, warmup=2)
        fly = timed(
            lambda: selectors.dashboard(period=period, filters=Filters(), source=WRITE_TABLES),
            reps_fly,
            warmup=1 if reps_fly else 0,
        )
        client = Client(HTTP_HOST=DOMAIN)
        client.force_login(manager)
        page = timed(lambda: client.get("/dashboard/"), reps_read, warmup=2)
    r, f = summary_ms(read), summary_ms(fly)
    return {
        "read_models": r,
        "on_the_fly": f,
        "page_read_models": summary_ms(page),
        "ratio_p50": round(f["p50_ms"] / r["p50_ms"], 1) if reps_fly else None,
        "ratio_p95": round(f["p95_ms"] / r["p95_ms"], 1) if reps_fly else None,
    }


def bench_rebuild() -> dict:
    from django_tenants.utils import schema_context

    from reporting.rebuild import rebuild_read_models

    with schema_context(SCHEMA):
        result = rebuild_read_models()
    vacuum_read_models(SCHEMA)  # not timed: autovacuum's work
    return {"complaints": result["complaints"], "seconds": round(result["seconds"], 2)}


def bench_projection_throughput(events: int) -> dict:
    """Events per second the projector applies in one process (the same code a worker runs): the last
    `events` events are replayed on top of emptied read models, then the read models are rebuilt."""
    from django.db import connections
    from django_tenants.utils import schema_context

    from reporting import outbox, projector
    from reporting.models import ProjectionCheckpoint
    from reporting.readmodel import READ_MODELS
    from reporting.rebuild import rebuild_read_models

    with schema_context(SCHEMA):
        with connections[WRITE_ALIAS].cursor() as cursor:
            cursor.execute(
                "SELECT tx_id, id FROM complaints_outboxevent ORDER BY tx_id DESC, id DESC OFFSET %s LIMIT 1", [events]
            )
            row = cursor.fetchone() or (0, 0)
        with connections[READ_ALIAS].cursor() as cursor:
            cursor.execute("TRUNCATE complaint_fact, " + ", ".join(m.table for m in READ_MODELS))
        ProjectionCheckpoint.objects.using(READ_ALIAS).update(**outbox.position_after(tx_id=row[0], event_id=row[1]))
        started = time.perf_counter()
        result = projector.catch_up(time_budget=3600)
        seconds = time.perf_counter() - started
        rebuild_read_models()
    return {
        "events": result.applied + result.skipped,
        "seconds": round(seconds, 2),
        "events_per_second": round((result.applied + result.skipped) / seconds),
    }
