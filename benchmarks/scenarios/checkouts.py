"""Benchmark scenario: the staff-list actions of this checkout against another checkout, side by side.

    git worktree add /tmp/before <commit>
    python -m benchmarks.scenarios.checkouts --other /tmp/before --schema bench --rounds 8 --reps 4

One process per checkout, each with its own code, on the same tenant of the benchmark databases (both read
what the databases hold: an index a migration of this checkout added serves both). The actions of
`lists._actions` (this checkout's) are asked of both in interleaved rounds (this then other, then other then
this), so a change of the machine's load weighs on both alike and the ratio stays meaningful on a shared box.
Prints p50 / p95 per action and checkout and their ratio; writes JSON (bench-results/checkouts.json).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import ROOT
from benchmarks.stats import load_average, summary_ms, write_json


def serve(schema: str) -> None:
    """Answer timing requests on stdin (one JSON line: path, api, reps) with the seconds of each repetition."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django_tenants.utils import schema_context
    from rest_framework.test import APIClient

    from tenants.models import Domain

    host = Domain.objects.filter(tenant__schema_name=schema).values_list("domain", flat=True).first()
    with schema_context(schema):
        agent = get_user_model().objects.get(username="agent")
        html, api = Client(HTTP_HOST=host), APIClient(HTTP_HOST=host)
        html.force_login(agent)
        api.force_authenticate(agent)
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            ask = json.loads(line)
            client = api if ask["api"] else html
            seconds: list[float | str] = []
            for _ in range(ask["reps"]):
                started = time.perf_counter()
                status = client.get(ask["path"]).status_code
                seconds.append(time.perf_counter() - started)
                if status != 200:
                    seconds = [f"{ask['path']} answered {status}"]
                    break
            print(json.dumps(seconds), flush=True)


class Checkout:
    def __init__(self, path: Path, schema: str):
        self.path = path
        # This file's serve(), run with the checkout's own packages first on the path (it may not have this file).
        serve_here = f"import runpy, sys; sys.argv = ['serve', '--serve', '--schema', {schema!r}]; "
        serve_here += f"runpy.run_path({__file__!r}, run_name='__main__')"
        self.process = subprocess.Popen(
            [sys.executable, "-c", serve_here],
            cwd=path,
            env={**os.environ, "PYTHONPATH": str(path)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self._answer() != {"ready": True}:
            raise SystemExit(f"benchmark: the checkout at {path} did not start")

    def _answer(self):
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"benchmark: the checkout at {self.path} stopped (see its output above)")
        return json.loads(line)

    def time(self, path: str, api: bool, reps: int) -> list[float]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"path": path, "api": api, "reps": reps}) + "\n")
        self.process.stdin.flush()
        seconds = self._answer()
        if seconds and isinstance(seconds[0], str):
            raise SystemExit(f"benchmark: {self.path}: {seconds[0]}")
        return seconds

    def stop(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def measure(this: Checkout, other: Checkout, actions: dict[str, str], rounds: int, reps: int) -> dict:
    samples: dict[str, dict[str, list[float]]] = {"this": {n: [] for n in actions}, "other": {n: [] for n in actions}}
    for round_ in range(rounds + 1):  # round 0 warms caches and connections; not kept
        order = (("this", this), ("other", other)) if round_ % 2 else (("other", other), ("this", this))
        for name, path in actions.items():
            for side, checkout in order:
                seconds = checkout.time(path, name.startswith("api"), reps)
                if round_:
                    samples[side][name] += seconds
    out = {}
    for name in actions:
        mine, theirs = summary_ms(samples["this"][name]), summary_ms(samples["other"][name])
        out[name] = {
            "this": mine,
            "other": theirs,
            "ratio_p50": round(mine["p50_ms"] / theirs["p50_ms"], 2),
            "ratio_p95": round(mine["p95_ms"] / theirs["p95_ms"], 2),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--other", help="the other checkout's directory (e.g. a git worktree)")
    parser.add_argument("--schema", default="bench", help="the benchmark databases' tenant to measure")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--reps", type=int, default=4, help="repetitions of each action per checkout and round")
    parser.add_argument("--output", default=str(ROOT / "bench-results" / "checkouts.json"))
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # one checkout's process
    args = parser.parse_args()
    if not os.environ.get("DJANGO_SETTINGS_MODULE", "").startswith("helpdesk.settings.bench"):
        raise SystemExit("benchmark: run it with DJANGO_SETTINGS_MODULE=helpdesk.settings.bench")
    if args.serve:
        return serve(args.schema)
    other_path = Path(args.other or "").resolve()
    if not args.other or not (other_path / "manage.py").is_file():
        raise SystemExit("benchmark: --other must name another checkout of this project (a directory with manage.py)")
    import django

    django.setup()
    from django_tenants.utils import schema_context

    from benchmarks.scenarios.lists import _actions
    from complaints.models import Complaint

    with schema_context(args.schema):
        count = Complaint.objects.count()
        actions = _actions(Complaint.objects.order_by("id")[count // 2])
    this, other = Checkout(ROOT, args.schema), Checkout(other_path, args.schema)
    load_before = load_average()
    try:
        results = measure(this, other, actions, args.rounds, args.reps)
    finally:
        this.stop()
        other.stop()
    report = {
        "this": str(ROOT),
        "other": str(other_path),
        "complaints": count,
        "rounds": args.rounds,
        "reps": args.reps,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "actions": results,
    }
    write_json(args.output, report)
    from benchmarks.report import print_rows

    rows = [("action (ms p50 / p95)", "this checkout", "other checkout", "ratio p50 / p95")]
    for name, r in results.items():
        rows.append(
            (
                name,
                f"{r['this']['p50_ms']} / {r['this']['p95_ms']}",
                f"{r['other']['p50_ms']} / {r['other']['p95_ms']}",
                f"{r['ratio_p50']}x / {r['ratio_p95']}x",
            )
        )
    print_rows(rows)
    before, after = report["load_average_before"], report["load_average_after"]
    print(f"\n{count} complaints; load average before {before}, after {after}")


if __name__ == "__main__":
    main()
