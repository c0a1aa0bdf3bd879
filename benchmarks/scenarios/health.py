"""Benchmark scenario: /healthz and /metrics over many tenants, most of them idle, a few busy.

    DJANGO_SETTINGS_MODULE=helpdesk.settings.bench python -m benchmarks.scenarios.health --tenants 1000 --busy 10

Side by side in one run, on the same tenants, through the same views: the probes as they are (reporting.health:
one query of the status table, the sweep's Redis marks, a live read of the marked tenants only) and as they were
(a `schema_context` and `projection_progress()` per tenant, swapped in for the same views). Both must report the
same figures; the run fails otherwise.

The tenants are the freshness scenario's lightweight ones (the outbox; the checkpoint, caught up after one applied
event; each busy one with events waiting), plus the dead-letter table the old way reads and a registry row each
(bulk_create: no schema creation, no migration). A full sweep runs first, as the beat's would. Everything is
removed afterwards.
"""

import argparse
import json
import logging
import os
import re
from contextlib import contextmanager

from benchmarks.scenarios.freshness import PREFIX, _in_chunks, _measure, sweep_tenants
from helpdesk.databases import READ_ALIAS, WRITE_ALIAS

METRICS_TOKEN = "bench-health-token"


@contextmanager
def registered_tenants(*, template: str, idle: int, busy: int):
    """the freshness scenario's lightweight tenants, registered as tenants (so the probes see them) and with the
    dead-letter table. Yields their schema names."""
    from django.db import connections

    from tenants.models import Tenant

    with sweep_tenants(template=template, idle=idle, busy=busy) as schemas:
        table = "projection_dead_letter"
        _in_chunks(READ_ALIAS, [f"CREATE TABLE {s}.{table} (LIKE {template}.{table} INCLUDING ALL)" for s in schemas])
        Tenant.objects.bulk_create([Tenant(schema_name=s, name=s) for s in schemas], batch_size=500)
        try:
            yield schemas
        finally:
            # Raw deletes: no per-object signals (the schemas are dropped by sweep_tenants), and the status rows
            # the sweep published for them.
            with connections[WRITE_ALIAS].cursor() as cursor:
                cursor.execute("DELETE FROM tenants_tenant WHERE schema_name LIKE %s", [f"{PREFIX}%"])
            with connections[READ_ALIAS].cursor() as cursor:
                cursor.execute("DELETE FROM public.projection_tenant_status WHERE schema_name LIKE %s", [f"{PREFIX}%"])


def per_tenant_overview(schema_names: list[str]):
    """What /healthz and /metrics did before reporting.health: every tenant's schema, one after another."""
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from reporting.freshness import projection_progress
    from reporting.health import Overview
    from reporting.status import TenantFigures

    figures = {}
    for name in schema_names:
        with schema_context(name):
            f = projection_progress()
        figures[name] = TenantFigures(f["pending_count"], f["oldest_pending_at"], f["dead_letters"])
    return Overview(now=timezone.now(), attention=figures)


def _pending_by_tenant(metrics_text: str) -> dict[str, float]:
    found = re.findall(r'^helpdesk_outbox_pending_events\{tenant="([^"]+)"\} (\S+)$', metrics_text, re.M)
    return {tenant: float(value) for tenant, value in found}


def bench_probes(*, template: str, idle: int, busy: int, repetitions: int) -> dict:
    """Time and statements of /healthz (with the token: every tenant's lag) and /metrics, both ways."""
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings

    from complaints.contract import PENDING_TENANTS_KEY
    from helpdesk import ops
    from helpdesk.redis import redis_client
    from helpdesk.tenancy import connection
    from reporting.sweep import BEHIND_KEY, FULL_SWEEP_KEY, sweep_due
    from tenants.selectors import tenant_schema_names

    logging.getLogger("reporting.sweep").setLevel(logging.ERROR)  # the busy tenants' lag is expected here
    # Every tenant made before this scenario caught up first: otherwise the running worker may apply a tenant's
    # events between the two ways' readings (the earlier scenarios' cloned tenants), and they would differ.
    call_command("catch_up_projections", stdout=open(os.devnull, "w"))  # noqa: SIM115
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    out: dict = {"idle": idle, "busy": busy}
    with registered_tenants(template=template, idle=idle, busy=busy), override_settings(METRICS_TOKEN=METRICS_TOKEN):
        connection.set_schema_to_public()
        redis_client().delete(FULL_SWEEP_KEY, BEHIND_KEY, PENDING_TENANTS_KEY)
        sweep_due(tenant_schema_names())  # a full pass, as the beat's: records and marks the busy tenants
        out["tenants"] = len(tenant_schema_names())
        new_way = ops._projection_overview
        answers = {}
        for way, overview in (("now", new_way), ("per_tenant", per_tenant_overview)):
            ops._projection_overview = overview
            try:
                out[way] = {
                    "healthz": _measure(lambda: client.get("/healthz"), repetitions),
                    "metrics": _measure(lambda: client.get("/metrics"), repetitions),
                }
                health, metrics = client.get("/healthz").json(), client.get("/metrics").content.decode()
            finally:
                ops._projection_overview = new_way
            # The figures, not the verdict: the busy tenants' lag grows while the slow way is timed, so the
            # verdict may cross the warning threshold between the two readings (seen at 2,000 tenants).
            answers[way] = (health["projection"]["tenants"], _pending_by_tenant(metrics))
        assert answers["now"] == answers["per_tenant"], f"the two ways report different figures: {answers}"
        tenants, pending = answers["now"]
        waiting = [name for name, count in pending.items() if count and name.startswith(PREFIX)]
        assert tenants == out["tenants"] and len(waiting) == busy, answers["now"]
    for probe in ("healthz", "metrics"):
        out[f"ratio_p50_{probe}"] = round(out["per_tenant"][probe]["p50_ms"] / out["now"][probe]["p50_ms"], 1)
    return out


def table_rows(result: dict) -> list[tuple]:
    rows = [("probe, " + f"{result['tenants']} tenants ({result['busy']} busy)", "now", "per tenant (before)", "")]
    for probe in ("healthz", "metrics"):
        now, before = result["now"][probe], result["per_tenant"][probe]
        rows.append(
            (
                f"/{probe} p50 / p95 (ms) / statements",
                f"{now['p50_ms']} / {now['p95_ms']} / {now['queries']}",
                f"{before['p50_ms']} / {before['p95_ms']} / {before['queries']}",
                f"{result[f'ratio_p50_{probe}']}x faster",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=1000, help="tenants in all (default 1000)")
    parser.add_argument("--busy", type=int, default=10, help="of which with events waiting (default 10)")
    parser.add_argument("--repetitions", type=int, default=10)
    args = parser.parse_args()
    if not 0 <= args.busy <= args.tenants:
        raise SystemExit("health benchmark: --busy must be between 0 and --tenants")
    import django

    django.setup()
    from django_tenants.utils import schema_context

    from benchmarks.tenant import SCHEMA, setup_tenant
    from reporting.projector import catch_up

    setup_tenant()  # fresh benchmark databases and the template tenant (counted among the tenants)
    with schema_context(SCHEMA):
        catch_up()  # its users' events: the template is idle like the clones
    result = bench_probes(
        template=SCHEMA, idle=args.tenants - 1 - args.busy, busy=args.busy, repetitions=args.repetitions
    )
    print(json.dumps(result, indent=1))
    for row in table_rows(result):
        print(" | ".join(str(cell) for cell in row))


if __name__ == "__main__":
    main()
