"""Benchmark scenario: what open dashboards that poll for changes cost the server.

Each simulated dashboard does what static/js/dashboard-live.js does: load the page once, then every 5 s ask
/dashboard/figures/ with If-None-Match -- a 304 while nothing moved, the figures' HTML when they did -- and ask
again after 1 s (twice at most until the figures move) when a 304 says changes are waiting. Three phases of equal
length, side by side in one run: complaints submitted through the API with no dashboard open, the dashboards
with nothing happening, and both together. Reported: requests/s (and how many were 304s), poll and submission
latency, and the CPU the web server (gunicorn) and the projecting worker used, as a share of the machine.

Run inside `make bench` (benchmarks.run), or alone on a small tenant:
    DJANGO_SETTINGS_MODULE=helpdesk.settings.bench python -m benchmarks.scenarios.polling --size 20000 --seconds 30
"""

import argparse
import json
import os
import re
import threading
import time

from benchmarks.processes import Processes, cpu_seconds
from benchmarks.stats import summary_ms
from benchmarks.tenant import DOMAIN, SCHEMA, grow_to, setup_tenant

POLL_SECONDS = 5.0
SOON_SECONDS = 1.0  # after a 304 that says changes are waiting
SOON_IN_A_ROW = 2
VERSION = re.compile(r'data-figures-version="([0-9a-f]+)"')


class Phase:
    """Counts what happened between start() and stop(): requests by kind and status, latencies, CPU."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {}
        self.statuses: dict[str, dict[str, int]] = {}  # str keys: the same before and after JSON
        self.measuring = False

    def record(self, kind: str, status: int, seconds: float) -> None:
        if not self.measuring:
            return
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            by_status = self.statuses.setdefault(kind, {})
            by_status[str(status)] = by_status.get(str(status), 0) + 1

    def start(self) -> None:
        self.cpu_before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.started = time.perf_counter()
        self.measuring = True

    def stop(self) -> dict:
        self.measuring = False
        wall = time.perf_counter() - self.started
        cpu = {name: cpu_seconds(pid) - self.cpu_before[name] for name, pid in self.pids.items()}
        requests = sum(sum(s.values()) for s in self.statuses.values())
        return {
            "seconds": round(wall, 1),
            "requests_per_second": round(requests / wall, 1),
            "by_kind": {
                kind: {"statuses": self.statuses[kind], **summary_ms(values)} for kind, values in self.latencies.items()
            },
            # Share of the whole machine (all cores), in percent.
            "cpu_pct_of_machine": {name: round(100 * s / wall / (os.cpu_count() or 1), 1) for name, s in cpu.items()},
        }


def _dashboard(
    base_url: str, session_id: str, phase: Phase, stop: threading.Event, offset: float, poll_seconds: float
) -> None:
    import requests

    session = requests.Session()
    session.headers["Host"] = DOMAIN
    session.cookies.set("sessionid", session_id)
    started = time.perf_counter()
    response = session.get(f"{base_url}/dashboard/?period=30", timeout=60)
    phase.record("page", response.status_code, time.perf_counter() - started)
    if not (match := VERSION.search(response.text)):
        raise RuntimeError(f"the dashboard page carries no figures version (HTTP {response.status_code})")
    version, soon_left = match.group(1), SOON_IN_A_ROW
    stop.wait(offset)  # dashboards opened at different moments poll at different moments
    while not stop.is_set():
        started, wait = time.perf_counter(), poll_seconds
        try:
            response = session.get(
                f"{base_url}/dashboard/figures/?period=30", headers={"If-None-Match": f'"{version}"'}, timeout=60
            )
            phase.record("poll", response.status_code, time.perf_counter() - started)
            if response.status_code == 200:
                version, soon_left = response.headers["ETag"].strip('"'), SOON_IN_A_ROW
            elif response.status_code == 304 and response.headers.get("X-Pending-Changes", "0") != "0" and soon_left:
                wait, soon_left = SOON_SECONDS, soon_left - 1
        except requests.exceptions.RequestException:
            phase.record("poll", 0, time.perf_counter() - started)
        stop.wait(max(wait - (time.perf_counter() - started), 0))


def _submitter(base_url: str, token: str, category_id: int, rate: float, phase: Phase, stop: threading.Event):
    import requests

    session = requests.Session()
    session.headers.update({"Host": DOMAIN, "Authorization": f"Token {token}"})
    body: dict[str, str | int] = {
        "title": "Bench",
        "description": "polling",
        "customer_name": "Bench",
        "customer_email": "b@example.com",
        "category": category_id,
        "priority": "medium",
    }
    next_at = time.perf_counter()
    while not stop.is_set():
        started = time.perf_counter()
        response = session.post(f"{base_url}/api/complaints/", json=body, timeout=60)
        phase.record("submit", response.status_code, time.perf_counter() - started)
        next_at += 1 / rate
        stop.wait(max(next_at - time.perf_counter(), 0))


def _wait_until_projected(timeout: float = 60) -> None:
    from django_tenants.utils import schema_context

    from reporting.freshness import projection_progress

    deadline = time.monotonic() + timeout
    with schema_context(SCHEMA):
        while projection_progress()["pending_count"] and time.monotonic() < deadline:
            time.sleep(0.2)


def bench_polling(
    procs: Processes,
    base_url: str,
    manager,
    agent_token: str,
    *,
    dashboards: int,
    seconds: float,
    rate: float,
    poll_seconds: float = POLL_SECONDS,
) -> dict:
    """The three phases; `procs` runs gunicorn (base_url) and the Celery worker. `poll_seconds` is the page's
    interval; a quick run shortens it so that every phase still sees several polls."""
    import requests
    from django.test import Client
    from django_tenants.utils import schema_context

    with schema_context(SCHEMA):
        client = Client(HTTP_HOST=DOMAIN)
        client.force_login(manager)
        session_id = client.cookies["sessionid"].value
    categories = requests.get(
        f"{base_url}/api/categories/", headers={"Host": DOMAIN, "Authorization": f"Token {agent_token}"}, timeout=60
    ).json()
    category_id = categories["results"][0]["id"]
    pids = {
        "web": next(p.pid for p in procs.procs if "gunicorn" in str(p.args)),
        "worker": next(p.pid for p in procs.procs if "celery" in str(p.args)),
    }

    def phase(with_dashboards: bool, with_submissions: bool) -> dict:
        _wait_until_projected()  # the previous phase's events would otherwise move the figures in this one
        measured, stop = Phase(pids), threading.Event()
        threads = [
            threading.Thread(
                target=_dashboard,
                args=(base_url, session_id, measured, stop, poll_seconds * i / dashboards, poll_seconds),
                daemon=True,
            )
            for i in range(dashboards if with_dashboards else 0)
        ]
        if with_submissions:
            threads.append(
                threading.Thread(
                    target=_submitter, args=(base_url, agent_token, category_id, rate, measured, stop), daemon=True
                )
            )
        for t in threads:
            t.start()
        time.sleep(poll_seconds + 2 if with_dashboards else 1)  # every dashboard open and polling
        measured.start()
        time.sleep(seconds)
        result = measured.stop()
        stop.set()
        for t in threads:
            t.join(timeout=120)
        return result

    alone = phase(with_dashboards=False, with_submissions=True)
    idle = phase(with_dashboards=True, with_submissions=False)
    busy = phase(with_dashboards=True, with_submissions=True)
    idle_polls = idle["by_kind"].get("poll", {"statuses": {}})["statuses"]
    return {
        # While nothing happens every poll should be a 304 (the figures' version must not move).
        "idle_polls_304_pct": round(100 * idle_polls.get("304", 0) / max(sum(idle_polls.values()), 1), 1),
        "submit_p95_ratio": round(busy["by_kind"]["submit"]["p95_ms"] / alone["by_kind"]["submit"]["p95_ms"], 2),
        "dashboards": dashboards,
        "poll_seconds": poll_seconds,
        "submissions_per_second": rate,
        "submissions_alone": alone,
        "dashboards_idle": idle,
        "dashboards_and_submissions": busy,
    }


def table_rows(result: dict, size: str) -> list[tuple]:
    """Rows for the benchmark's printed table (benchmarks.report)."""
    n, rate = result["dashboards"], result["submissions_per_second"]
    rows = []
    for key, label in (
        ("submissions_alone", f"{rate}/s submissions, no dashboard"),
        ("dashboards_idle", f"{n} dashboards polling, idle"),
        ("dashboards_and_submissions", f"{n} dashboards polling + {rate}/s submissions"),
    ):
        phase = result[key]
        polls = phase["by_kind"].get("poll", {"statuses": {}, "p95_ms": None})
        not_modified = polls["statuses"].get("304", 0)
        cpu = phase["cpu_pct_of_machine"]
        rows.append(
            (
                f"{label}: req/s, web / worker CPU % of machine",
                size,
                f"{phase['requests_per_second']} req/s, {cpu['web']} / {cpu['worker']} %",
                "",
                f"{not_modified}/{sum(polls['statuses'].values())} polls 304, poll p95 {polls['p95_ms']} ms",
            )
        )
    alone, busy = result["submissions_alone"], result["dashboards_and_submissions"]
    rows.append(
        (
            "  submit p95 (ms), alone vs with the dashboards",
            size,
            f"{alone['by_kind']['submit']['p95_ms']} vs {busy['by_kind']['submit']['p95_ms']}",
            "",
            f"{round(busy['by_kind']['submit']['p95_ms'] / alone['by_kind']['submit']['p95_ms'], 2)}x",
        )
    )
    return rows


def main() -> None:
    import django

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=20000, help="complaints in the bench tenant")
    parser.add_argument("--dashboards", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30, help="length of each measured phase")
    parser.add_argument("--rate", type=float, default=2, help="complaints submitted per second")
    args = parser.parse_args()
    if not os.environ.get("DJANGO_SETTINGS_MODULE", "").startswith("helpdesk.settings.bench"):
        raise SystemExit("bench_polling: run it with DJANGO_SETTINGS_MODULE=helpdesk.settings.bench")
    if args.size < 100 or args.dashboards < 1 or args.seconds <= 0 or args.rate <= 0:
        raise SystemExit("bench_polling: --size >= 100, --dashboards >= 1, --seconds and --rate > 0")
    django.setup()
    users = setup_tenant()
    grow_to(args.size, months=12)
    procs = Processes()
    try:
        procs.worker()
        base_url = procs.web(workers=2, threads=16)
        result = bench_polling(
            procs,
            base_url,
            users["manager"][0],
            users["agent"][1],
            dashboards=args.dashboards,
            seconds=args.seconds,
            rate=args.rate,
        )
    finally:
        procs.stop()
    print(json.dumps(result, indent=1))
    for row in table_rows(result, str(args.size)):
        print("  ".join(str(v) for v in row))


if __name__ == "__main__":
    main()
