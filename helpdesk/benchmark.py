"""Benchmark: the read-model design against the single-database way, side by side in one run.

    python -m helpdesk.benchmark --sizes 100000,1000000          (what `make bench` runs)
    python -m helpdesk.benchmark --sizes 500 --quick             (seconds; the test suite runs this)

Prints a table and writes JSON (bench-results/latest.json). Every comparison measures both sides in the same
run, on the same data, and reports their ratio. Uses its own databases (helpdesk.settings.bench).
"""

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from helpdesk import bench_freshness, bench_import

ROOT = Path(__file__).resolve().parent.parent
SCHEMA, DOMAIN = "bench", "bench.localhost"


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def summary_ms(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50_ms": _ms(pct(values, 50)),
        "p95_ms": _ms(pct(values, 95)),
        "p99_ms": _ms(pct(values, 99)),
    }


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000, 2)


def timed(fn, repetitions: int, warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repetitions):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """gunicorn and a Celery worker under the benchmark settings; stopped at exit."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []
        self.env = dict(os.environ)  # the same settings (and database overrides) as this process
        (ROOT / "var").mkdir(exist_ok=True)

    def start(self, args: list[str], log: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=open(ROOT / "var" / log, "ab"),
            stderr=subprocess.STDOUT,
        )  # noqa: SIM115
        self.procs.append(proc)
        return proc

    def web(self, workers: int, threads: int) -> str:
        # Threads, so slow dashboards cannot take every request slot: what is measured is contention for CPU
        # and database, not a queue in front of a full worker pool.
        port = _free_port()
        self.start(
            [
                "gunicorn",
                "helpdesk.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(threads),
                "--timeout",
                "300",
            ],
            "bench-gunicorn.log",
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return f"http://127.0.0.1:{port}"
            except OSError:
                time.sleep(0.2)
        raise SystemExit("benchmark: gunicorn did not start (see var/bench-gunicorn.log)")

    def worker(self):
        log = ROOT / "var" / "bench-worker.log"
        log.write_bytes(b"")
        self.start(
            [
                "celery",
                "-A",
                "helpdesk",
                "worker",
                "-B",
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "--schedule",
                str(ROOT / "var" / "bench-beat-schedule"),
            ],
            "bench-worker.log",
        )
        deadline = time.monotonic() + 60
        while b" ready." not in log.read_bytes():
            if time.monotonic() > deadline:
                raise SystemExit("benchmark: Celery worker did not start (see var/bench-worker.log)")
            time.sleep(0.2)

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs = []


def setup_tenant() -> dict:
    """The bench tenant with a manager and an agent (random passwords; tokens for the HTTP phases)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django_tenants.utils import schema_context

    from complaints.roles import Role, user_set_role
    from helpdesk.api_auth import api_token_create
    from tenants.models import Tenant
    from tenants.services import tenant_create, tenant_delete

    # Fresh benchmark databases every run: each size is measured on exactly that many complaints, and what an
    # earlier (or interrupted) run left behind — cloned tenants share their template's sequences — cannot break it.
    call_command("setup_databases", drop=True, verbosity=0)
    if existing := Tenant.objects.filter(schema_name=SCHEMA).first():
        tenant_delete(tenant=existing)
    tenant_create(
        schema_name=SCHEMA,
        name="Benchmark Ltd",
        domain=DOMAIN,
        admin_username="admin",
        admin_password=secrets.token_urlsafe(12),
    )
    with schema_context(SCHEMA):
        users = {}
        for username, role in (("manager", Role.MANAGER), ("agent", Role.AGENT)):
            user = get_user_model().objects.create_user(username=username, password=secrets.token_urlsafe(12))
            user_set_role(user=user, role=role)
            users[username] = (user, api_token_create(user=user)[0])
    return users


def grow_to(size: int, months: int) -> dict:
    from django.core.management import call_command
    from django_tenants.utils import schema_context

    from complaints import demo_data
    from complaints.bulk import bulk_write
    from complaints.models import Complaint

    with schema_context(SCHEMA):
        have = Complaint.objects.count()
        missing = max(size - have, 0)
        started = time.perf_counter()
        if missing:
            categories = demo_data.ensure_categories(8)
            agents = demo_data.ensure_agents(12)
            bulk_write(
                demo_data.generate(count=missing, months=months, categories=categories, agents=agents, seed=size)
            )
        seconds = time.perf_counter() - started
    call_command("rebuild_projections", schema=SCHEMA, verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    return {"complaints": size, "seeded": missing, "seed_seconds": round(seconds, 2)}


def bench_dashboard(reps_read: int, reps_fly: int, manager) -> dict:
    from django.test import Client
    from django_tenants.utils import schema_context

    from reporting import selectors
    from reporting.onthefly import WRITE_TABLES
    from reporting.selectors import Filters, period_last

    with schema_context(SCHEMA):
        period = period_last(selectors.DEFAULT_PERIOD_DAYS)  # the tenant's local days
        read = timed(lambda: selectors.dashboard(period=period, filters=Filters()), reps_read, warmup=2)
        fly = timed(lambda: selectors.dashboard(period=period, filters=Filters(), source=WRITE_TABLES), reps_fly)
        client = Client(HTTP_HOST=DOMAIN)
        client.force_login(manager)
        page = timed(lambda: client.get("/dashboard/"), reps_read, warmup=2)
    r, f = summary_ms(read), summary_ms(fly)
    return {
        "read_models": r,
        "on_the_fly": f,
        "page_read_models": summary_ms(page),
        "ratio_p50": round(f["p50_ms"] / r["p50_ms"], 1),
        "ratio_p95": round(f["p95_ms"] / r["p95_ms"], 1),
    }


def bench_rebuild() -> dict:
    from django_tenants.utils import schema_context

    from reporting.rebuild import rebuild_read_models

    with schema_context(SCHEMA):
        result = rebuild_read_models()
    return {"complaints": result["complaints"], "seconds": round(result["seconds"], 2)}


def bench_write_isolation(base_url: str, agent_token: str, manager_token: str, submissions: int, viewers: int) -> dict:
    import requests

    def submitter() -> tuple[list[float], int]:
        """Sequential submissions; a request over 60 s counts as a timeout (and as 60 s). Bounded to 180 s."""
        session = requests.Session()
        session.headers.update({"Host": DOMAIN, "Authorization": f"Token {agent_token}"})
        body = {
            "title": "Bench",
            "description": "load",
            "customer_name": "Bench",
            "customer_email": "b@example.com",
            "category": category_id,
            "priority": "medium",
        }
        out, timeouts, deadline = [], 0, time.perf_counter() + 180
        for _ in range(5):  # warm every gunicorn worker's imports and connections first; not measured
            session.post(f"{base_url}/api/complaints/", json=body, timeout=300)
        for _ in range(submissions):
            if time.perf_counter() > deadline:
                break
            started = time.perf_counter()
            try:
                response = session.post(f"{base_url}/api/complaints/", json=body, timeout=60)
            except requests.exceptions.Timeout:
                timeouts += 1
                out.append(60.0)
                continue
            out.append(time.perf_counter() - started)
            if response.status_code != 201:
                raise SystemExit(f"benchmark: submission failed with {response.status_code}: {response.text[:200]}")
        return out, timeouts

    def with_viewers(path: str | None, think: float = 0.0) -> dict:
        """Submissions while `viewers` threads load `path` back to back (think=0) or once per `think` s."""
        stop = threading.Event()
        done: list[float] = []

        def view():
            session = requests.Session()
            session.headers.update({"Host": DOMAIN, "Authorization": f"Token {manager_token}"})
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    session.get(f"{base_url}{path}?period=180", timeout=300)
                except requests.exceptions.RequestException:
                    continue
                done.append(time.perf_counter() - started)
                stop.wait(max(think - (time.perf_counter() - started), 0))

        threads = [threading.Thread(target=view, daemon=True) for _ in range(viewers if path else 0)]
        for t in threads:
            t.start()
        time.sleep(0.5 if path else 0)
        latencies, timeouts = submitter()
        stop.set()
        _cancel_slow_queries()  # single-database dashboards still running would spill into the next phase
        for t in threads:
            t.join(timeout=300)
        return {
            "submit": {**summary_ms(latencies), "timeouts": timeouts},
            "viewer_requests": summary_ms(done),
            "load_average_1m": round(os.getloadavg()[0], 2),  # other work on the box: read ratios, not times
        }

    import requests as _r

    categories = _r.get(
        f"{base_url}/api/categories/", headers={"Host": DOMAIN, "Authorization": f"Token {agent_token}"}
    ).json()
    category_id = categories["results"][0]["id"]
    alone = with_viewers(None)
    phases = {"alone": alone}
    for name, think in (("closed_loop", 0.0), ("paced_1s", 1.0)):
        read = with_viewers("/api/reports/summary/", think)
        fly = with_viewers("/bench/onthefly/summary/", think)
        phases[name] = {
            "with_read_model_viewers": read,
            "with_on_the_fly_viewers": fly,
            "p95_ratio_read_models_vs_alone": round(read["submit"]["p95_ms"] / alone["submit"]["p95_ms"], 2),
            "p95_ratio_on_the_fly_vs_alone": round(fly["submit"]["p95_ms"] / alone["submit"]["p95_ms"], 2),
        }
    return {"submissions_per_phase": submissions, "viewers": viewers, **phases}


def _cancel_slow_queries() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active' AND now() - query_start > interval '1 second'"
        )


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
        with connections["default"].cursor() as cursor:
            cursor.execute(
                "SELECT tx_id, id FROM complaints_outboxevent ORDER BY tx_id DESC, id DESC OFFSET %s LIMIT 1", [events]
            )
            row = cursor.fetchone() or (0, 0)
        with connections["reporting"].cursor() as cursor:
            cursor.execute("TRUNCATE complaint_fact, " + ", ".join(m.table for m in READ_MODELS))
        ProjectionCheckpoint.objects.using("reporting").update(**outbox.position_after(tx_id=row[0], event_id=row[1]))
        started = time.perf_counter()
        result = projector.catch_up(time_budget=3600)
        seconds = time.perf_counter() - started
        rebuild_read_models()
    return {
        "events": result.applied + result.skipped,
        "seconds": round(seconds, 2),
        "events_per_second": round((result.applied + result.skipped) / seconds),
    }


def run(sizes: list[int], quick: bool, output: Path, tenants: int = 0) -> dict:
    import django

    django.setup()
    from django.db import connection

    from helpdesk import bench_lists, bench_tenants

    users = setup_tenant()
    manager, manager_token = users["manager"]
    agent, agent_token = users["agent"]
    report = {
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sizes": {},
    }
    procs = Processes()
    # Stopped by a signal, still stop the servers it started (they run in their own sessions).
    signal.signal(signal.SIGTERM, lambda *args: sys.exit("benchmark: terminated"))
    try:
        for size in sizes:
            print(f"== {size} complaints", flush=True)
            entry = {"data": grow_to(size, months=12)}
            entry["dashboard_180d"] = bench_dashboard(
                reps_read=10 if quick else 50, reps_fly=2 if quick else (5 if size >= 500_000 else 10), manager=manager
            )
            entry["staff_lists"] = bench_lists.bench_staff_lists(agent, reps=5 if quick else 30)
            entry["rebuild"] = bench_rebuild()
            report["sizes"][str(size)] = entry
            print(json.dumps(entry, indent=1), flush=True)
        largest = str(max(sizes))
        entry = report["sizes"][largest]
        entry["projection"] = bench_projection_throughput(events=min(int(largest), 2000 if quick else 100_000))
        procs.worker()
        base_url = procs.web(workers=2, threads=16)
        entry["write_isolation"] = bench_write_isolation(
            base_url, agent_token, manager_token, submissions=15 if quick else 200, viewers=10
        )
        from helpdesk.bench_polling import bench_polling  # open dashboards polling for changes

        entry["polling"] = bench_polling(
            procs, base_url, manager, agent_token, dashboards=10 if quick else 100, seconds=3 if quick else 30, rate=2
        )
        connection.set_schema_to_public()
        entry["lag"] = measure_lag(rate=50, seconds=3 if quick else 20, agent=agent)
        entry.update(bench_freshness.run(measure_lag, schema=SCHEMA, quick=quick, agent=agent, plain_lag=entry["lag"]))
        entry["import"] = bench_import.run(
            schema=SCHEMA, rows=300 if quick else 20_000, file_mb=(1, 2) if quick else (20, 200)
        )
        report["many_tenants"] = bench_tenants.bench_many_tenants(tenants, sample=3 if quick else 100)
    finally:
        procs.stop()
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    (output.parent / "latest.json").write_text(json.dumps(report, indent=2))
    print_table(report)
    return report


def measure_lag(*, rate: float, seconds: float, agent) -> dict:
    from django.db import connections
    from django_tenants.utils import schema_context

    from complaints.models import Category
    from complaints.services import complaint_submit

    committed_at: dict[int, float] = {}
    seen_at: dict[int, float] = {}
    done = threading.Event()

    def watch():
        # A separate connection (Django connections are per thread) polls the read side every 10 ms.
        with schema_context(SCHEMA):
            last = 0
            while not done.is_set() or any(c not in seen_at for c in list(committed_at)):
                with connections["reporting"].cursor() as cursor:
                    cursor.execute("SELECT complaint_id FROM complaint_fact WHERE complaint_id > %s", [last])
                    now = time.perf_counter()
                    for (cid,) in cursor.fetchall():
                        seen_at.setdefault(cid, now)
                        last = max(last, cid)
                if done.is_set() and time.perf_counter() - finished > 30:
                    break
                time.sleep(0.01)
            connections.close_all()

    finished = float("inf")
    watcher = threading.Thread(target=watch, daemon=True)
    with schema_context(SCHEMA):
        category = Category.objects.order_by("id").first()
        watcher.start()
        interval, start = 1 / rate, time.perf_counter()
        count = int(rate * seconds)
        for i in range(count):
            target = start + i * interval
            if (delay := target - time.perf_counter()) > 0:
                time.sleep(delay)
            complaint = complaint_submit(
                actor=agent,
                title="Lag",
                description="x",
                customer_name="L",
                customer_email="l@example.com",
                category=category,
            )
            committed_at[complaint.pk] = time.perf_counter()
        achieved = count / (time.perf_counter() - start)
    finished = time.perf_counter()
    done.set()
    watcher.join(timeout=60)
    # Seen before submit() returned counts as 0: the projection beat our own bookkeeping.
    lags = [max(seen_at[c] - t, 0.0) for c, t in committed_at.items() if c in seen_at]
    return {
        "target_rate_per_s": rate,
        "achieved_rate_per_s": round(achieved, 1),
        "submitted": len(committed_at),
        "visible": len(lags),
        **summary_ms(lags),
    }


def print_table(report: dict) -> None:
    rows = [("figure", "size", "read models", "single database", "ratio")]
    for size, e in report["sizes"].items():
        d = e["dashboard_180d"]
        rows.append(
            (
                "dashboard 180 d p50 (ms)",
                size,
                d["read_models"]["p50_ms"],
                d["on_the_fly"]["p50_ms"],
                f"{d['ratio_p50']}x faster",
            )
        )
        rows.append(
            (
                "dashboard 180 d p95 (ms)",
                size,
                d["read_models"]["p95_ms"],
                d["on_the_fly"]["p95_ms"],
                f"{d['ratio_p95']}x faster",
            )
        )
        rows.append(("dashboard page p95 (ms, HTML)", size, d["page_read_models"]["p95_ms"], "", ""))
        rows.append(("rebuild all read models (s)", size, e["rebuild"]["seconds"], "", ""))
        if "write_isolation" in e:
            w = e["write_isolation"]
            rows.append(("submit p95 alone (ms)", size, w["alone"]["submit"]["p95_ms"], "", ""))
            for name, label in (("closed_loop", "back to back"), ("paced_1s", "1 view/s each")):
                phase = w[name]
                read, fly = phase["with_read_model_viewers"], phase["with_on_the_fly_viewers"]
                rows.append(
                    (
                        f"submit p95, {w['viewers']} viewers {label} (ms)",
                        size,
                        read["submit"]["p95_ms"],
                        fly["submit"]["p95_ms"],
                        f"{phase['p95_ratio_read_models_vs_alone']}x vs "
                        f"{phase['p95_ratio_on_the_fly_vs_alone']}x alone",
                    )
                )
                rows.append(
                    (
                        f"  viewer requests served, p50 (ms), {label}",
                        size,
                        f"{read['viewer_requests']['n']}, {read['viewer_requests']['p50_ms']}",
                        f"{fly['viewer_requests']['n']}, {fly['viewer_requests']['p50_ms']}",
                        "",
                    )
                )
        if "projection" in e:
            p = e["projection"]
            rows.append(("projector events/s (1 process)", size, p["events_per_second"], "", f"{p['events']} events"))
        if "import" in e:
            imp = e["import"]
            rows.append(("import_complaints rows/s", size, imp["rows_per_second"], "", f"{imp['rows']} rows"))
        if "lag" in e:
            lag = e["lag"]
            rows.append(
                (
                    f"event->read model lag p50/p99 (ms) @{lag['achieved_rate_per_s']}/s",
                    size,
                    f"{lag['p50_ms']} / {lag['p99_ms']}",
                    "",
                    f"{lag['visible']}/{lag['submitted']} seen",
                )
            )
        rows += bench_freshness.table_rows(size, e)
        if "polling" in e:
            from helpdesk.bench_polling import table_rows

            rows += table_rows(e["polling"], size)
    print_rows(rows)
    from helpdesk import bench_lists, bench_tenants

    print_rows(bench_lists.table_rows(report))
    print_rows(bench_tenants.table_rows(report.get("many_tenants")))


def print_rows(rows: list[tuple]) -> None:
    if not rows:
        return
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    print()
    for r in rows:
        print("  ".join(str(v).ljust(widths[i]) for i, v in enumerate(r)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="complaint counts, ascending (comma-separated)")
    parser.add_argument("--quick", action="store_true", help="few repetitions: proves every figure is produced")
    parser.add_argument("--output", default=str(ROOT / "bench-results" / "bench.json"))
    parser.add_argument("--tenants", type=int, help="tenants for the release figure (default 1000; 3 with --quick)")
    args = parser.parse_args()
    try:
        sizes = sorted(int(s) for s in args.sizes.split(","))
    except ValueError:
        raise SystemExit("benchmark: --sizes takes whole numbers, e.g. 100000,1000000") from None
    if not sizes or sizes[0] < 100:
        raise SystemExit("benchmark: sizes must be at least 100")
    if not os.environ.get("DJANGO_SETTINGS_MODULE", "").startswith("helpdesk.settings.bench"):
        raise SystemExit("benchmark: run it with DJANGO_SETTINGS_MODULE=helpdesk.settings.bench (scripts/bench.sh)")
    tenants = args.tenants if args.tenants is not None else (3 if args.quick else 1000)
    if tenants < 1:
        raise SystemExit("benchmark: --tenants must be at least 1")
    run(sizes, args.quick, Path(args.output), tenants=tenants)


if __name__ == "__main__":
    main()
