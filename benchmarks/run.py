"""One run of the benchmark: the bench tenant at each size, then the scenarios that need the servers, at the
largest size; writes the report as JSON and prints the table."""

import json
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import guard, history
from benchmarks.processes import Processes
from benchmarks.report import print_rows, print_table
from benchmarks.scenarios import brokers, freshness, health, importing, lists, managers, many_tenants, polling
from benchmarks.scenarios.lag import measure_lag
from benchmarks.scenarios.read_models import bench_dashboard, bench_rebuild
from benchmarks.scenarios.write_isolation import bench_write_isolation
from benchmarks.tenant import SCHEMA, grow_to, setup_tenant, vacuum_read_models

# The phases `--only` may pick: per size, the dashboards/lists/rebuild ("core") and the hundred managers
# ("managers"); at the largest size, everything that needs the servers ("servers").
PHASES = ("core", "managers", "servers")


def run(
    sizes: list[int],
    quick: bool,
    output: Path,
    tenants: int = 0,
    core: bool = False,
    reuse: bool = False,
    only: set[str] | None = None,
) -> dict:
    import django

    django.setup()
    from django_tenants.utils import schema_context

    from helpdesk.tenancy import connection

    users = setup_tenant(reuse=reuse)
    manager, manager_token = users["manager"]
    agent, agent_token = users["agent"]
    report: dict = {
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": history.commit(),
        "quick": quick,
        "sizes": {},
    }
    procs = Processes()
    # Stopped by a signal, still stop the servers it started (they run in their own sessions).
    signal.signal(signal.SIGTERM, lambda *args: sys.exit("benchmark: terminated"))
    try:
        for size in sizes:
            print(f"== {size} complaints", flush=True)
            entry = {"data": grow_to(size, months=12)}
            if only is None or "core" in only:
                # The single-database way takes minutes per dashboard from 5 M on (22 s at 1 M): not measured there.
                reps_fly = 2 if quick else (0 if size >= 5_000_000 else 5 if size >= 500_000 else 10)
                entry["dashboard_180d"] = bench_dashboard(
                    reps_read=10 if quick else 50, reps_fly=reps_fly, manager=manager
                )
                entry["guard"] = _guard_ratios(reps=5 if quick else 21)
                entry["staff_lists"] = lists.bench_staff_lists(agent, reps=5 if quick else 30)
                entry["rebuild"] = bench_rebuild()
            if not core and (only is None or "managers" in only):
                vacuum_read_models(SCHEMA)
                entry["managers"] = managers.bench_managers(
                    manager,
                    agent_token,
                    seconds=4 if quick else 60,
                    rate=5,
                    managers=5 if quick else 100,
                    replica_lag=lambda dsn: measure_lag(
                        rate=50, seconds=1.5 if quick else 20, agent=agent, replica_dsn=dsn
                    ),
                )
                connection.set_schema_to_public()
            report["sizes"][str(size)] = entry
            print(json.dumps(entry, indent=1), flush=True)
        if core or (only is not None and "servers" not in only):
            return _finish(report, output)
        largest = str(max(sizes))
        entry = report["sizes"][largest]
        with schema_context(SCHEMA):
            entry["projection"] = guard.projector_ratio(events=min(int(largest), 2000 if quick else 100_000), rounds=1)
        vacuum_read_models(SCHEMA)  # the replay's and the rebuild's dead rows: autovacuum's work
        procs.worker()
        base_url = procs.web(workers=2, threads=16)
        entry["write_isolation"] = bench_write_isolation(
            base_url, agent_token, manager_token, submissions=15 if quick else 200, viewers=10, rounds=1 if quick else 3
        )
        entry["polling"] = polling.bench_polling(  # open dashboards polling for changes
            procs,
            base_url,
            manager,
            agent_token,
            dashboards=10 if quick else 100,
            seconds=2 if quick else 30,
            rate=2,
            poll_seconds=1.0 if quick else polling.POLL_SECONDS,
        )
        connection.set_schema_to_public()
        entry["lag"] = measure_lag(rate=50, seconds=1.5 if quick else 20, agent=agent)
        entry["lag_rabbitmq"] = brokers.lag_on_rabbitmq(procs, rate=50, seconds=1.5 if quick else 20, agent=agent)
        entry.update(freshness.run(measure_lag, schema=SCHEMA, quick=quick, agent=agent, plain_lag=entry["lag"]))
        entry["import"] = importing.run(
            schema=SCHEMA, rows=300 if quick else 20_000, file_mb=(1, 2) if quick else (20, 200)
        )
        report["many_tenants"] = many_tenants.bench_many_tenants(tenants, sample=3 if quick else 100)
        connection.set_schema_to_public()
        report["probes"] = health.bench_probes(  # /healthz and /metrics over many tenants, most of them idle
            template=SCHEMA, idle=20 if quick else 989, busy=2 if quick else 10, repetitions=3 if quick else 10
        )
    finally:
        procs.stop()
    return _finish(report, output)


def _guard_ratios(reps: int) -> dict:
    """The dashboard's guard figures (benchmarks/guard.py) at this size: what `make test` holds to a budget."""
    from django_tenants.utils import schema_context

    with schema_context(SCHEMA):
        read = sum(guard.dashboard_rows_read().values())
        return {
            "dashboard": guard.dashboard_ratio(reps=reps),
            "dashboard_rows_share": round(read / max(guard.read_model_rows(), 1), 3),
        }


def _finish(report: dict, output: Path) -> dict:
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    (output.parent / "latest.json").write_text(json.dumps(report, indent=2))
    print_table(report)
    if not report["quick"]:  # a quick run proves the figures are produced; its numbers mean nothing
        earlier = history.earlier_runs()
        print(f"\nThis run ({report['commit']}) beside the previous and the best of {len(earlier)} kept runs:")
        print_rows(history.comparison_rows(report, earlier))
        print(f"kept as {history.keep(report).relative_to(history.HISTORY.parent.parent)}")
    return report
