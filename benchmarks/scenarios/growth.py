"""Benchmark scenario: how dashboard and staff-list latency grow from a small tenant to a large one.

    python -m benchmarks.scenarios.growth --small bench1m:1000000 --large bench --rounds 10 --reps 3

Two tenants of the benchmark databases are measured side by side in interleaved rounds (small then large, then
large then small, ...), so a change of the machine's load during the run weighs on both alike and their ratio
stays meaningful on a shared box. Either tenant is created and seeded with the same generator if
it is missing or smaller than a size given (`--large bench10m:10000000`), or measured as it is (`--large bench`,
the one `python -m benchmarks --sizes 10000000 --core` left).
Writes JSON (bench-results/growth.json) and prints a table.
"""

import argparse
import json
import os
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import ROOT
from benchmarks.stats import summary_ms
from benchmarks.tenant import vacuum_read_models

if TYPE_CHECKING:
    from complaints.models import Complaint


def ensure_tenant(schema: str, size: int) -> None:
    """A tenant with a manager, an agent and `size` complaints as grow_to seeds them (created if missing)."""
    from django.contrib.auth import get_user_model
    from django_tenants.utils import schema_context

    from benchmarks.tenant import grow_to
    from complaints.models import Complaint
    from complaints.roles import Role, user_set_role
    from tenants.models import Tenant
    from tenants.services import tenant_create

    if not Tenant.objects.filter(schema_name=schema).exists():
        tenant_create(
            schema_name=schema,
            name=f"Benchmark {schema}",
            domain=f"{schema}.localhost",
            admin_username="admin",
            admin_password=secrets.token_urlsafe(12),
        )
    with schema_context(schema):
        for username, role in (("manager", Role.MANAGER), ("agent", Role.AGENT)):
            if not get_user_model().objects.filter(username=username).exists():
                user = get_user_model().objects.create_user(username=username, password=secrets.token_urlsafe(12))
                user_set_role(user=user, role=role)
        if Complaint.objects.count() >= size:
            return
    grow_to(size, months=12, schema=schema)


class Subject:
    """One tenant's measurable actions: name -> a function that performs it once."""

    sample: "Complaint"

    def __init__(self, schema: str, sample_of: "Subject | None" = None):
        from django.contrib.auth import get_user_model
        from django.test import Client
        from django_tenants.utils import schema_context
        from rest_framework.test import APIClient

        from benchmarks.scenarios.lists import _actions
        from complaints.models import Complaint
        from reporting import figures, selectors
        from reporting.selectors import Filters, period_last
        from tenants.models import Domain

        self.schema = schema
        host = Domain.objects.filter(tenant__schema_name=schema).values_list("domain", flat=True).first()
        with schema_context(schema):
            users = get_user_model().objects
            agent, manager = users.get(username="agent"), users.get(username="manager")
            self.complaints = Complaint.objects.count()
            # As the lists scenario picks it; the large tenant searches the small one's terms (the same generator
            # made both, so its names and addresses occur in both), so each search is the same question asked of
            # more complaints.
            sample: Complaint = (
                sample_of.sample if sample_of else Complaint.objects.order_by("id")[self.complaints // 2]
            )
            self.sample = sample
            period = period_last(selectors.DEFAULT_PERIOD_DAYS)
            html, api, boss = Client(HTTP_HOST=host), APIClient(HTTP_HOST=host), Client(HTTP_HOST=host)
            html.force_login(agent)
            api.force_authenticate(agent)
            boss.force_login(manager)

        def get(client, path):
            def once():
                response = client.get(path)
                if response.status_code != 200:
                    raise SystemExit(f"benchmark: {schema} {path} answered {response.status_code}")

            return once

        self.actions = {
            "dashboard 180 d, read models (selector)": lambda: figures.dashboard(period=period, filters=Filters()),
            "dashboard page (HTML)": get(boss, "/dashboard/"),
        }
        for name, path in _actions(sample).items():
            self.actions[name] = get(api if name.startswith("api") else html, path)


def measure(small: Subject, large: Subject, rounds: int, reps: int) -> dict:
    from django_tenants.utils import schema_context

    samples: dict[str, dict[str, list[float]]] = {s.schema: {name: [] for name in s.actions} for s in (small, large)}
    for round_ in range(rounds + 1):  # round 0 warms caches and connections; not kept
        order = (small, large) if round_ % 2 else (large, small)
        for name in small.actions:
            for subject in order:
                with schema_context(subject.schema):
                    for _ in range(reps):
                        started = time.perf_counter()
                        subject.actions[name]()
                        if round_:
                            samples[subject.schema][name].append(time.perf_counter() - started)
    out = {}
    for name in small.actions:
        s, g = summary_ms(samples[small.schema][name]), summary_ms(samples[large.schema][name])
        out[name] = {"small": s, "large": g, "growth_p50": _ratio(g, s, "p50_ms"), "growth_p95": _ratio(g, s, "p95_ms")}
    return out


def _ratio(large: dict, small: dict, key: str) -> float | None:
    return round(large[key] / small[key], 2) if small[key] else None


def table_rows(report: dict) -> list[tuple]:
    small, large = report["small"]["complaints"], report["large"]["complaints"]
    rows = [("action (ms p50 / p95)", f"{small} complaints", f"{large} complaints", "growth p50 / p95")]
    for name, r in report["actions"].items():
        rows.append(
            (
                name,
                f"{r['small']['p50_ms']} / {r['small']['p95_ms']}",
                f"{r['large']['p50_ms']} / {r['large']['p95_ms']}",
                f"{r['growth_p50']}x / {r['growth_p95']}x",
            )
        )
    lists = {n: r for n, r in report["actions"].items() if not n.startswith("dashboard")}
    worst = max(lists.values(), key=lambda r: r["growth_p95"] or 0)
    rows.append(("staff lists: worst growth p95", "", "", f"{worst['growth_p95']}x"))
    return rows


def main() -> None:
    import django

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", default="bench1m:1000000", help="schema[:size]; seeded to size if smaller")
    parser.add_argument("--large", default="bench", help="schema[:size]; seeded to size if smaller")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each action per tenant and round")
    parser.add_argument("--output", default=str(ROOT / "bench-results" / "growth.json"))
    args = parser.parse_args()
    if not os.environ.get("DJANGO_SETTINGS_MODULE", "").startswith("helpdesk.settings.bench"):
        raise SystemExit("benchmark: run it with DJANGO_SETTINGS_MODULE=helpdesk.settings.bench")
    django.setup()
    (small_schema, _, small_size), (large_schema, _, large_size) = args.small.partition(":"), args.large.partition(":")
    for schema, size in ((small_schema, small_size), (large_schema, large_size)):
        if size:
            ensure_tenant(schema, int(size))
    for schema in (small_schema, large_schema):  # as autovacuum would have after their rebuilds
        vacuum_read_models(schema)
    small = Subject(small_schema)
    large = Subject(large_schema, sample_of=small)
    load_before = os.getloadavg()
    started = datetime.now(UTC)
    actions = measure(small, large, args.rounds, args.reps)
    report = {
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "rounds": args.rounds,
        "reps": args.reps,
        "searched": {"reference": small.sample.reference, "customer_email": small.sample.customer_email},
        "small": {"schema": small.schema, "complaints": small.complaints},
        "large": {"schema": large.schema, "complaints": large.complaints},
        "actions": actions,
    }
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    from benchmarks.report import print_rows

    print_rows(table_rows(report))
    print(f"\nload average before {report['load_average_before']}, after {report['load_average_after']}")


if __name__ == "__main__":
    main()
