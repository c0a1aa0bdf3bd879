"""Write isolation: submission latency through HTTP alone, then while dashboards load, read models against the
single-database way, back to back and paced at one view a second per viewer.

Alone and with read-model viewers are measured in alternating rounds and pooled, so a change of load on a shared
machine during the run weighs on both sides of the ratio alike (one "alone" phase at the start made the ratio
depend on what else the machine was doing minutes later)."""

import os
import threading
import time

from benchmarks.stats import summary_ms
from benchmarks.tenant import DOMAIN

SCENARIOS = (("closed_loop", 0.0), ("paced_1s", 1.0))


def bench_write_isolation(
    base_url: str, agent_token: str, manager_token: str, submissions: int, viewers: int, rounds: int = 3
) -> dict:
    import requests

    def submitter(count: int) -> tuple[list[float], int]:
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
        for _ in range(count):
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

    def with_viewers(path: str | None, think: float = 0.0, count: int = submissions) -> dict:
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
        latencies, timeouts = submitter(count)
        stop.set()
        _cancel_slow_queries()  # single-database dashboards still running would spill into the next phase
        for t in threads:
            t.join(timeout=300)
        return {"latencies": latencies, "timeouts": timeouts, "done": done, "load": os.getloadavg()[0]}

    categories = requests.get(
        f"{base_url}/api/categories/", headers={"Host": DOMAIN, "Authorization": f"Token {agent_token}"}
    ).json()
    category_id = categories["results"][0]["id"]
    per_round = max(submissions // rounds, 1)
    alone_runs: list[dict] = []
    read_runs: dict[str, list[dict]] = {name: [] for name, _ in SCENARIOS}
    for _ in range(rounds):
        alone_runs.append(with_viewers(None, count=per_round))
        for name, think in SCENARIOS:
            read_runs[name].append(with_viewers("/api/reports/summary/", think, count=per_round))
    alone = _pooled(alone_runs)
    phases: dict = {"alone": alone}
    for name, think in SCENARIOS:  # the single-database way once: its slow queries would spill into the rounds
        read = _pooled(read_runs[name])
        fly = _pooled([with_viewers("/bench/onthefly/summary/", think)])
        phases[name] = {
            "with_read_model_viewers": read,
            "with_on_the_fly_viewers": fly,
            "p95_ratio_read_models_vs_alone": round(read["submit"]["p95_ms"] / alone["submit"]["p95_ms"], 2),
            "p95_ratio_on_the_fly_vs_alone": round(fly["submit"]["p95_ms"] / alone["submit"]["p95_ms"], 2),
        }
    return {"submissions_per_phase": submissions, "rounds": rounds, "viewers": viewers, **phases}


def _pooled(runs: list[dict]) -> dict:
    """One phase's figures from its rounds' raw samples."""
    latencies = [s for run in runs for s in run["latencies"]]
    return {
        "submit": {**summary_ms(latencies), "timeouts": sum(run["timeouts"] for run in runs)},
        "viewer_requests": summary_ms([s for run in runs for s in run["done"]]),
        # Other work on the box: read the ratios, not the times.
        "load_average_1m": [round(run["load"], 2) for run in runs],
    }


def _cancel_slow_queries() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active' AND now() - query_start > interval '1 second'"
        )
