"""Benchmark scenario: a hundred managers on their dashboards at once, with and without a reporting replica, while
complaints are submitted at a steady rate.

The load comes from Locust, headless (benchmarks/locustfile.py: each manager opens the dashboard, polls it as
the page does and now and then switches period or category; one agent submits complaints at `rate` per second).
Three runs of equal length, side by side: the submissions alone; with the managers, every read on the reporting
primary; with the managers, reads on a streaming replica (scripts/replica.sh makes one of this machine's
PostgreSQL, removed at the end). Reported per run: dashboard (page and polls) p50/p95/p99 and errors, submission
p95, and submission p95 with the managers divided by that alone; with the replica, also its replay lag as sampled
during the run and the share of dashboard reads it answered (from its own pg_stat_database counters).

The replica is a second PostgreSQL server on the same 2 cores as the primary, the web server, the worker and
Locust: it takes read load off the primary's processes, not off the machine. Stats are reset once every manager
is spawned (Locust --reset-stats).
"""

import csv
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import ROOT
from benchmarks.processes import Processes
from benchmarks.stats import pct
from benchmarks.tenant import DOMAIN, SCHEMA

MANAGERS = 100


def _load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _locust(base_url: str, env: dict, users: list[str], count: int, seconds: float) -> dict:
    """One headless Locust run; its stats per request name: count, failures, p50/p95/p99 (ms)."""
    with tempfile.TemporaryDirectory() as out:
        prefix = str(Path(out) / "run")
        command = [sys.executable, "-m", "locust", "-f", str(ROOT / "benchmarks" / "locustfile.py"), "--headless"]
        command += ["--host", base_url, "-u", str(count), "-r", str(max(count, 1)), "-t", f"{int(seconds)}s"]
        command += ["--reset-stats", "--only-summary", "--csv", prefix, "--stop-timeout", "10", "--loglevel", "WARNING"]
        done = subprocess.run(
            [*command, *users], env=env, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 180
        )
        stats_file = Path(f"{prefix}_stats.csv")
        if not stats_file.exists():
            raise SystemExit(f"benchmark: locust wrote no statistics: {done.stderr[-2000:]}")
        rows = list(csv.DictReader(stats_file.open()))
        failures_file = Path(f"{prefix}_failures.csv")
        failures = list(csv.DictReader(failures_file.open())) if failures_file.exists() else []
    stats: dict = {
        # What went wrong, as Locust saw it (an HTTP status, or a connection error), per request name.
        "failures": [
            {"name": f["Name"], "error": f["Error"][:200], "occurrences": int(f["Occurrences"])} for f in failures
        ]
    }
    for row in rows:
        name = "all" if row["Name"] == "Aggregated" else row["Name"]
        stats[name] = {
            "n": int(row["Request Count"]),
            "errors": int(row["Failure Count"]),
            "p50_ms": _number(row["50%"]),
            "p95_ms": _number(row["95%"]),
            "p99_ms": _number(row["99%"]),
        }
    return stats


def _number(text: str) -> float | None:
    return None if text in ("", "N/A") else float(text)


def _dashboard(stats: dict) -> dict:
    """The page and the polls together: what a manager waits for. Percentiles of the two weighted by count are
    not exact; the larger of the two is reported (an upper bound) beside each."""
    page, poll = stats.get("page", {}), stats.get("poll", {})
    return {
        "n": page.get("n", 0) + poll.get("n", 0),
        "errors": page.get("errors", 0) + poll.get("errors", 0),
        **{q: max(v for v in (page.get(q), poll.get(q)) if v is not None) for q in ("p50_ms", "p95_ms", "p99_ms")},
        "page": page,
        "poll": poll,
    }


class _ReplicaWatch:
    """Samples the replica's replay lag as operators see it (helpdesk_reporting_replica_lag_seconds on the web
    server's /metrics) every 0.5 s while a run lasts."""

    def __init__(self, base_url: str, token: str):
        self.base_url, self.token, self.stop = base_url, token, threading.Event()
        self.lags: list[float] = []
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        import requests

        while not self.stop.wait(0.5):
            try:
                text = requests.get(
                    f"{self.base_url}/metrics", headers={"Authorization": f"Bearer {self.token}"}, timeout=10
                ).text
                line = next(x for x in text.splitlines() if x.startswith("helpdesk_reporting_replica_lag_seconds{"))
                self.lags.append(float(line.split()[-1]))
            except (requests.RequestException, StopIteration, ValueError):
                self.lags.append(float("inf"))  # the replica did not answer

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=20)

    def summary(self) -> dict:
        finite = [lag for lag in self.lags if lag != float("inf")]
        return {
            "samples": len(self.lags),
            "unanswered": len(self.lags) - len(finite),
            "p50_ms": None if not finite else round(1000 * (pct(finite, 50) or 0), 1),
            "p99_ms": None if not finite else round(1000 * (pct(finite, 99) or 0), 1),
        }


def _commits(port: int, database: str) -> int:
    """Transactions the server on `port` ran in `database` (its own statistics)."""
    import psycopg

    for attempt in range(20):  # a server full of other clients refuses a moment
        try:
            with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname=database) as conn:
                row = conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = %s", [database]).fetchone()
            return int(row[0]) if row else 0
        except psycopg.OperationalError:
            if attempt == 19:
                raise
            time.sleep(0.5)
    return 0


def bench_managers(
    manager,
    agent_token: str,
    *,
    seconds: float,
    rate: float,
    managers: int = MANAGERS,
    replica_lag: Callable[[str], dict] | None = None,
) -> dict:
    """The three runs; `replica_lag(dsn)`, if given, measures the event -> replica lag while the replica exists
    (the lag phase at 50 submissions/s, its complaints watched on the replica too)."""
    import requests
    from django.conf import settings
    from django.test import Client
    from django_tenants.utils import schema_context

    from helpdesk.databases import READ_ALIAS

    with schema_context(SCHEMA):
        client = Client(HTTP_HOST=DOMAIN)
        client.force_login(manager)
        session_id = client.cookies["sessionid"].value
    reporting = settings.DATABASES[READ_ALIAS]
    results: dict = {"managers": managers, "seconds": seconds, "submissions_per_second": rate}
    replica_name = f"helpdesk_bench_replica_{os.getpid()}"
    replica_port = None
    metrics_token = secrets.token_urlsafe(16)
    procs = Processes()
    try:
        procs.worker()
        for run in ("alone", "primary", "replica"):
            extra = {}
            if run == "replica":
                replica_port = _free_port()
                subprocess.run([ROOT / "scripts/replica.sh", "create", replica_name, str(replica_port)], check=True)
                url = f"postgres://postgres@127.0.0.1:{replica_port}/{reporting['NAME']}"
                extra = {"REPORTING_REPLICA_URLS": url, "METRICS_TOKEN": metrics_token}
            # 2 x 6 threads: at most 12 connections per database alias, on a server other runs share.
            base_url = procs.web(workers=2, threads=6, extra_env=extra)
            categories = requests.get(
                f"{base_url}/api/categories/", headers={"Host": DOMAIN, "Authorization": f"Token {agent_token}"}
            ).json()["results"]
            env = {
                **os.environ,
                "BENCH_LOAD_SESSION": session_id,
                "BENCH_LOAD_TOKEN": agent_token,
                "BENCH_LOAD_RATE": str(rate),
                "BENCH_LOAD_HOST_HEADER": DOMAIN,
                "BENCH_LOAD_CATEGORIES": ",".join(str(c["id"]) for c in categories[:10]),
            }
            users = ["Submitter"] if run == "alone" else ["Manager", "Submitter"]
            load_before = _load_average()
            if run == "replica":
                assert replica_port is not None
                primary_before = _commits(int(reporting.get("PORT") or 5432), reporting["NAME"])
                replica_before = _commits(replica_port, reporting["NAME"])
                with _ReplicaWatch(base_url, metrics_token) as watch:
                    stats = _locust(base_url, env, users, managers + 1, seconds)
                replica_reads = _commits(replica_port, reporting["NAME"]) - replica_before
                primary_reads = _commits(int(reporting.get("PORT") or 5432), reporting["NAME"]) - primary_before
            else:
                stats = _locust(base_url, env, users, (managers if run != "alone" else 0) + 1, seconds)
            entry = {
                "load_average_before": load_before,
                "load_average_after": _load_average(),
                "submit": stats.get("submit", {}),
            }
            entry["failures"] = stats["failures"]
            if run != "alone":
                entry["dashboard"] = _dashboard(stats)
            if run == "replica":
                entry["replica_lag"] = watch.summary()
                if replica_lag is not None:
                    with _ReplicaWatch(base_url, metrics_token) as watch:
                        entry["lag_at_50"] = replica_lag(url)
                    entry["lag_at_50"]["replay_lag_sampled"] = watch.summary()
                # Transactions on each reporting server meanwhile (the primary's include the projector's).
                entry["reporting_transactions"] = {"replica": replica_reads, "primary": primary_reads}
            results[run] = entry
            procs.stop_web()
    finally:
        procs.stop()
        if replica_port is not None:
            subprocess.run([ROOT / "scripts/replica.sh", "remove", replica_name], check=False)
    alone_p95 = results["alone"]["submit"].get("p95_ms") or 0
    for run in ("primary", "replica"):
        p95 = results[run]["submit"].get("p95_ms")
        results[run]["submission_p95_ratio"] = round(p95 / alone_p95, 2) if p95 and alone_p95 else None
    best = results["replica"]
    # The figures the issue asks for, at the top: with the replica (the set-up it is about).
    results.update(
        {
            "p95_ms": best["dashboard"]["p95_ms"],
            "errors": best["dashboard"]["errors"] + results["primary"]["dashboard"]["errors"],
            "submission_p95_ratio": best["submission_p95_ratio"],
        }
    )
    return results


def _free_port() -> int:
    from helpdesk.launchers import free_port

    return free_port()


def table_rows(result: dict, size: str) -> list[tuple]:
    rows = []
    for run, label in (("primary", "on the primary"), ("replica", "on a replica")):
        entry = result[run]
        d = entry["dashboard"]
        rows.append(
            (
                f"{result['managers']} managers {label}: dashboard p50/p95/p99 (ms), errors",
                size,
                f"{d['p50_ms']} / {d['p95_ms']} / {d['p99_ms']}",
                "",
                f"{d['errors']} errors of {d['n']}; load {entry['load_average_after']}",
            )
        )
        rows.append(
            (
                f"  submit p95 (ms) with them vs alone ({result['submissions_per_second']}/s)",
                size,
                f"{entry['submit'].get('p95_ms')} vs {result['alone']['submit'].get('p95_ms')}",
                "",
                f"{entry['submission_p95_ratio']}x",
            )
        )
    at_50 = result["replica"].get("lag_at_50")
    if at_50:
        replay, sampled = at_50["replica"]["replay"], at_50["replay_lag_sampled"]
        rows.append(
            (
                f"  replica replay lag p50/p99 (ms) @{at_50['achieved_rate_per_s']}/s: per event / /metrics",
                size,
                f"{replay.get('p50_ms')} / {replay.get('p99_ms')}",
                "",
                f"{sampled['p50_ms']} / {sampled['p99_ms']}; commit->replica p99 {at_50['replica']['lag']['p99_ms']}",
            )
        )
    return rows
