"""What the read models cost and save: the dashboard computed both ways, a rebuild (the projector's throughput:
benchmarks.guard.projector_ratio)."""

from benchmarks.stats import summary_ms, timed
from benchmarks.tenant import DOMAIN, SCHEMA, vacuum_read_models


def bench_dashboard(reps_read: int, reps_fly: int, manager) -> dict:
    from django.test import Client
    from django_tenants.utils import schema_context

    from benchmarks.onthefly import figures_on_the_fly
    from reporting import figures, selectors
    from reporting.selectors import Filters, period_last

    with schema_context(SCHEMA):
        period = period_last(selectors.DEFAULT_PERIOD_DAYS)  # the tenant's local days
        read = timed(lambda: figures.dashboard(period=period, filters=Filters()), reps_read, warmup=2)
        fly = timed(
            lambda: figures_on_the_fly(period=period, filters=Filters()),
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
