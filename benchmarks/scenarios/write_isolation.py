"""Write isolation: submission latency through HTTP alone, then while dashboards load, read models against the
single-database way, back to back and paced at one view a second per viewer.

Alone and with read-model viewers are measured in alternating rounds and pooled, so a change of load on a shared
machine during the run weighs on both sides of the ratio alike (one "alone" phase at the start made the ratio
depend on what else the machine was doing minutes later).

Paced viewers are measured twice: started together (each then loads once a second, so all ten land in the same
few milliseconds of every second, a burst a submission may fall into) and started at seeded random moments of
the first second, as managers who opened their dashboards at different times would load.

Side by side with another checkout (its own gunicorn, the same tenant, databases and worker; rounds alternate
between the checkouts), with the CPU each request costs the web processes and their PostgreSQL backends:

    git archive <commit> | tar -x -C /tmp/before
    DJANGO_SETTINGS_MODULE=helpdesk.settings.bench python -m benchmarks.scenarios.write_isolation \\
        --size 100000 --compare /tmp/before
"""

import argparse
import os
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import ROOT
from benchmarks.processes import BackendCpu, Processes, cpu_seconds
from benchmarks.stats import load_average, summary_ms, write_json
from benchmarks.tenant import DOMAIN

# name, seconds between a viewer's loads (0: back to back), viewers started at random moments of the first period
SCENARIOS = (("closed_loop", 0.0, False), ("paced_1s", 1.0, False), ("paced_1s_staggered", 1.0, True))
ON_THE_FLY = ("closed_loop", "paced_1s")  # the single-database way: its slow queries would spill into the rounds
REPORT = "/api/reports/summary/"
SEED = 28


@dataclass(frozen=True)
class Server:
    """A gunicorn to measure: its address, its master's pid (CPU of it and its workers) and the
    application_name of its PostgreSQL connections (CPU of their backends); no pid: not measured."""

    base_url: str
    pid: int | None = None
    app_name: str | None = None


class Client:
    """The benchmark's agent and manager against one server."""

    def __init__(self, server: Server, agent_token: str, manager_token: str):
        import requests

        self.server, self.agent_token, self.manager_token = server, agent_token, manager_token
        categories = requests.get(
            f"{server.base_url}/api/categories/", headers={"Host": DOMAIN, "Authorization": f"Token {agent_token}"}
        ).json()
        self.category_id = categories["results"][0]["id"]

    def submitter(self, count: int) -> tuple[list[float], int]:
        """Sequential submissions; a request over 60 s counts as a timeout (and as 60 s). Bounded to 180 s."""
        import requests

        session = requests.Session()
        session.headers.update({"Host": DOMAIN, "Authorization": f"Token {self.agent_token}"})
        body = {
            "title": "Bench",
            "description": "load",
            "customer_name": "Bench",
            "customer_email": "b@example.com",
            "category": self.category_id,
            "priority": "medium",
        }
        url = f"{self.server.base_url}/api/complaints/"
        out, timeouts, deadline = [], 0, time.perf_counter() + 180
        for _ in range(5):  # warm every gunicorn worker's imports and connections first; not measured
            session.post(url, json=body, timeout=300)
        for _ in range(count):
            if time.perf_counter() > deadline:
                break
            started = time.perf_counter()
            try:
                response = session.post(url, json=body, timeout=60)
            except requests.exceptions.Timeout:
                timeouts += 1
                out.append(60.0)
                continue
            out.append(time.perf_counter() - started)
            if response.status_code != 201:
                raise SystemExit(f"benchmark: submission failed with {response.status_code}: {response.text[:200]}")
        return out, timeouts

    def phase(
        self,
        path: str | None,
        viewers: int,
        count: int,
        think: float = 0.0,
        staggered: bool = False,
        seed: int = SEED,
        seconds: float | None = None,
    ) -> dict:
        """`count` submissions while `viewers` threads load `path` back to back (think=0) or once per `think` s,
        started together or (staggered) each at a seeded random moment of the first `think` s. With `seconds`
        instead of submissions: the viewers alone for that long."""
        import requests

        stop = threading.Event()
        done: list[tuple[float, float]] = []  # (finished at, seconds taken)
        delays = [random.Random(seed + i).uniform(0, think) if staggered else 0.0 for i in range(viewers)]

        def view(delay: float):
            session = requests.Session()
            session.headers.update({"Host": DOMAIN, "Authorization": f"Token {self.manager_token}"})
            stop.wait(delay)
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    session.get(f"{self.server.base_url}{path}?period=180", timeout=300)
                except requests.exceptions.RequestException:
                    continue
                done.append((time.perf_counter(), time.perf_counter() - started))
                stop.wait(max(think - (time.perf_counter() - started), 0))

        threads = [threading.Thread(target=view, args=(d,), daemon=True) for d in (delays if path else [])]
        for t in threads:
            t.start()
        time.sleep(max(delays, default=0) + 0.5 if path else 0)
        cpu, measured_from = _Cpu(self.server), time.perf_counter()
        if seconds is None:
            latencies, timeouts = self.submitter(count)
        else:
            latencies, timeouts = [], 0
            time.sleep(seconds)
        used, measured_to = cpu.stop(), time.perf_counter()
        stop.set()
        _cancel_slow_queries()  # single-database dashboards still running would spill into the next phase
        for t in threads:
            t.join(timeout=300)
        return {
            "latencies": latencies,
            "timeouts": timeouts,
            "done": [taken for _, taken in done],
            # the viewers' requests that ended while CPU was measured
            "views_measured": sum(measured_from <= at <= measured_to for at, _ in done),
            "load": os.getloadavg()[0],
            **used,
        }


class _Cpu:
    """Web and PostgreSQL CPU seconds of a server from creation to stop() (nothing if it has no pid)."""

    def __init__(self, server: Server):
        self.server = server
        self.started = time.perf_counter()
        self.web = cpu_seconds(server.pid) if server.pid else 0.0
        self.backends = BackendCpu(server.app_name).start() if server.app_name else None

    def stop(self) -> dict:
        if not self.server.pid:
            return {}
        return {
            "seconds": time.perf_counter() - self.started,
            "web_cpu": cpu_seconds(self.server.pid) - self.web,
            "db_cpu": self.backends.stop() if self.backends else 0.0,
        }


def bench_write_isolation(
    base_url: str, agent_token: str, manager_token: str, submissions: int, viewers: int, rounds: int = 3
) -> dict:
    """The phases of `make bench` against one server: alone and with read-model viewers in alternating rounds,
    then the single-database way once per scenario of ON_THE_FLY."""
    client = Client(Server(base_url), agent_token, manager_token)
    per_round = max(submissions // rounds, 1)
    alone_runs: list[dict] = []
    read_runs: dict[str, list[dict]] = {name: [] for name, _, _ in SCENARIOS}
    for _ in range(rounds):
        alone_runs.append(client.phase(None, viewers, per_round))
        for name, think, staggered in SCENARIOS:
            read_runs[name].append(client.phase(REPORT, viewers, per_round, think, staggered))
    alone = _pooled(alone_runs)
    phases: dict = {"alone": alone}
    for name, think, staggered in SCENARIOS:
        read = _pooled(read_runs[name])
        phases[name] = {
            "with_read_model_viewers": read,
            "p95_ratio_read_models_vs_alone": _ratio(read, alone),
        }
        if name in ON_THE_FLY:
            fly = _pooled([client.phase("/bench/onthefly/summary/", viewers, submissions, think, staggered)])
            phases[name]["with_on_the_fly_viewers"] = fly
            phases[name]["p95_ratio_on_the_fly_vs_alone"] = _ratio(fly, alone)
    return {"submissions_per_phase": submissions, "rounds": rounds, "viewers": viewers, "seed": SEED, **phases}


def _ratio(phase: dict, alone: dict) -> float:
    return round(phase["submit"]["p95_ms"] / alone["submit"]["p95_ms"], 2)


def _pooled(runs: list[dict]) -> dict:
    """One phase's figures from its rounds' raw samples (and, where measured, the CPU it cost)."""
    latencies = [s for run in runs for s in run["latencies"]]
    out = {
        "submit": {**summary_ms(latencies), "timeouts": sum(run["timeouts"] for run in runs)},
        "viewer_requests": summary_ms([s for run in runs for s in run["done"]]),
        # Other work on the box: read the ratios, not the times.
        "load_average_1m": [round(run["load"], 2) for run in runs],
    }
    if all("web_cpu" in run for run in runs):
        out["cpu_seconds"] = {
            "web": round(sum(run["web_cpu"] for run in runs), 3),
            "db": round(sum(run["db_cpu"] for run in runs), 3),
            "wall": round(sum(run["seconds"] for run in runs), 2),
            "submissions": len(latencies),
            "views": sum(run["views_measured"] for run in runs),
        }
    return out


def _cancel_slow_queries() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active' AND now() - query_start > interval '1 second'"
        )


def _per_request_ms(phase: dict, alone: dict) -> dict:
    """CPU per viewer request (web, PostgreSQL) in a phase: its CPU less what its submissions cost alone."""
    cpu, base = phase["cpu_seconds"], alone["cpu_seconds"]
    out = {}
    for side in ("web", "db"):
        per_submission = base[side] / max(base["submissions"], 1)
        viewers_cpu = cpu[side] - per_submission * cpu["submissions"]
        out[side] = round(1000 * viewers_cpu / max(cpu["views"], 1), 2)
    return out


def compare(clients: dict[str, Client], submissions: int, viewers: int, rounds: int, idle_seconds: float) -> dict:
    """Every checkout's phases in alternating rounds (this, other; then other, this...): alone, the viewers of
    each paced scenario, and the viewers with no submission (the checkpoint still: every view a cache hit)."""
    per_round = max(submissions // rounds, 1)
    paced = [s for s in SCENARIOS if s[1] > 0]
    runs: dict[str, dict[str, list[dict]]] = {
        label: {name: [] for name in ("alone", "viewers_only", *(s[0] for s in paced))} for label in clients
    }
    for round_ in range(rounds):
        order = list(clients) if round_ % 2 == 0 else list(reversed(clients))
        for label in order:
            client, mine = clients[label], runs[label]
            mine["alone"].append(client.phase(None, viewers, per_round))
            for name, think, staggered in paced:
                mine[name].append(client.phase(REPORT, viewers, per_round, think, staggered, seed=SEED + round_))
            mine["viewers_only"].append(client.phase(REPORT, viewers, 0, 1.0, True, seconds=idle_seconds))
            print(f"   round {round_ + 1}, {label}: done (load {os.getloadavg()[0]:.1f})", flush=True)
    out: dict = {}
    for label, phases in runs.items():
        pooled = {name: _pooled(phase_runs) for name, phase_runs in phases.items()}
        alone, idle = pooled["alone"], pooled["viewers_only"]
        out[label] = {
            **pooled,
            "ratios": {name: _ratio(pooled[name], alone) for name, _, _ in paced},
            "cpu_ms_per_submission": {
                side: round(1000 * alone["cpu_seconds"][side] / alone["cpu_seconds"]["submissions"], 2)
                for side in ("web", "db")
            },
            "cpu_ms_per_view": {
                "hit (no submissions)": {
                    side: round(1000 * idle["cpu_seconds"][side] / max(idle["cpu_seconds"]["views"], 1), 2)
                    for side in ("web", "db")
                },
                **{name: _per_request_ms(pooled[name], alone) for name, _, _ in paced},
            },
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000, help="complaints in the bench tenant")
    parser.add_argument("--compare", help="another checkout's directory (e.g. git archive of an earlier commit)")
    parser.add_argument("--submissions", type=int, default=240, help="per phase and checkout, over all rounds")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--viewers", type=int, default=10)
    parser.add_argument("--idle-seconds", type=float, default=5, help="each round's phase of viewers alone")
    parser.add_argument("--threads", type=int, default=16, help="gunicorn threads per worker (2 workers)")
    parser.add_argument("--reuse", action="store_true", help="keep the tenant of an earlier run")
    parser.add_argument("--output", default=str(ROOT / "bench-results" / "write-isolation.json"))
    args = parser.parse_args()
    if not os.environ.get("DJANGO_SETTINGS_MODULE", "").startswith("helpdesk.settings.bench"):
        raise SystemExit("benchmark: run it with DJANGO_SETTINGS_MODULE=helpdesk.settings.bench")
    checkouts = {"this": ROOT}
    if args.compare:
        other = Path(args.compare).resolve()
        if not (other / "manage.py").is_file():
            raise SystemExit("benchmark: --compare must name another checkout of this project (with manage.py)")
        checkouts["other"] = other
    import django

    django.setup()
    from benchmarks.tenant import grow_to, setup_tenant

    users = setup_tenant(reuse=args.reuse)
    data = grow_to(args.size, months=12)
    procs = Processes()
    load_before = load_average()
    try:
        procs.worker()
        clients = {}
        for label, path in checkouts.items():
            app_name = f"bench-web-{label}"
            base_url = procs.web(workers=2, threads=args.threads, extra_env={"PGAPPNAME": app_name}, checkout=path)
            server = Server(base_url, procs.webs[-1].pid, app_name)
            clients[label] = Client(server, users["agent"][1], users["manager"][1])
        results = compare(clients, args.submissions, args.viewers, args.rounds, args.idle_seconds)
    finally:
        procs.stop()
    report = {
        "checkouts": {label: str(path) for label, path in checkouts.items()},
        "data": data,
        "viewers": args.viewers,
        "rounds": args.rounds,
        "submissions_per_phase": args.submissions,
        "gunicorn": f"2 workers x {args.threads} threads",
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "results": results,
    }
    write_json(args.output, report)
    _print(report)


def _print(report: dict) -> None:
    from benchmarks.report import print_rows

    results = report["results"]
    labels = list(results)
    rows = [("figure", *labels)]

    def row(title, value):
        rows.append((title, *(value(results[label]) for label in labels)))

    row("submission p95 alone (ms)", lambda r: r["alone"]["submit"]["p95_ms"])
    for name in _paced_names(results):
        row(f"submission p95 {name} (ms)", lambda r, n=name: r[n]["submit"]["p95_ms"])
        row(f"  ratio to alone {name}", lambda r, n=name: f"{r['ratios'][n]}x")
    row("CPU per submission, web / db (ms)", lambda r: "{web} / {db}".format(**r["cpu_ms_per_submission"]))
    for name in ("hit (no submissions)", *_paced_names(results)):
        row(f"CPU per view {name}, web / db (ms)", lambda r, n=name: "{web} / {db}".format(**r["cpu_ms_per_view"][n]))
    row("viewer requests p95, staggered (ms)", lambda r: r["paced_1s_staggered"]["viewer_requests"]["p95_ms"])
    print_rows(rows)
    print(
        f"\n{report['data']['complaints']} complaints, {report['viewers']} viewers, {report['rounds']} rounds, "
        f"{report['submissions_per_phase']} submissions a phase; gunicorn {report['gunicorn']}; load average "
        f"before {report['load_average_before']}, after {report['load_average_after']}"
    )


def _paced_names(results: dict) -> list[str]:
    return list(next(iter(results.values()))["ratios"])


if __name__ == "__main__":
    main()
