"""A small-size run of the benchmark, so it cannot rot: every figure must be produced (not how fast)."""

import json
import os
import subprocess
import sys

from django.conf import settings

from helpdesk.databases import BOTH_ALIASES
from tests.conftest import OUTPUT, ROOT


def bench_env(redis_server, *, suffix: str, redis_db: int) -> dict:
    # Named after this run's test databases, so two checkouts testing on one server never share them.
    write, read = (settings.DATABASES[alias]["NAME"] for alias in BOTH_ALIASES)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.bench",
        "BENCH_DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{write}_{suffix}",
        "BENCH_REPORTING_DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{read}_{suffix}",
        "BENCH_REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/{redis_db}",
    }


def test_benchmark_produces_every_figure(redis_server):
    output = OUTPUT / "bench-small.json"
    env = bench_env(redis_server, suffix="bench", redis_db=3)
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--sizes", "300", "--quick", "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(output.read_text())
    entry = report["sizes"]["300"]
    dashboard = entry["dashboard_180d"]
    for side in ("read_models", "on_the_fly", "page_read_models"):
        assert dashboard[side]["p50_ms"] > 0 and dashboard[side]["p95_ms"] > 0
    assert dashboard["ratio_p50"] > 0 and entry["rebuild"]["complaints"] == 300
    isolation = entry["write_isolation"]
    assert isolation["alone"]["submit"]["n"] == 15
    for scenario in ("closed_loop", "paced_1s"):
        for side in ("with_read_model_viewers", "with_on_the_fly_viewers"):
            assert isolation[scenario][side]["submit"]["n"] == 15 and isolation[scenario][side]["submit"]["p95_ms"] > 0
        assert isolation[scenario]["with_read_model_viewers"]["viewer_requests"]["n"] > 0
    staggered = isolation["paced_1s_staggered"]["with_read_model_viewers"]
    assert staggered["submit"]["n"] == 15 and staggered["viewer_requests"]["n"] > 0
    assert entry["import"]["rows"] == 300 and entry["import"]["rows_per_second"] > 0
    assert entry["projection"]["events_per_second"] > 0 and entry["projection"]["ratio"] > 0
    assert entry["guard"]["dashboard"]["ratio"] > 0 and 0 < entry["guard"]["dashboard_rows_share"] <= 1
    assert entry["lag"]["visible"] == entry["lag"]["submitted"] > 0
    on_rabbitmq = entry["lag_rabbitmq"]  # the same phase with the worker on RabbitMQ (the run's own vhost)
    assert on_rabbitmq["broker"] == "rabbitmq" and on_rabbitmq["visible"] == on_rabbitmq["submitted"] > 0
    assert on_rabbitmq["submit"]["n"] == on_rabbitmq["submitted"] and "RabbitMQ" in result.stdout
    lists = entry["staff_lists"]
    assert lists["complaints"] == 300 and len(lists["actions"]) == 31
    assert all(a["n"] == 5 and a["p95_ms"] > 0 for a in lists["actions"].values())
    many = report["many_tenants"]
    assert many["tenants"] >= 5 and many["setup_databases_seconds"] > 0 and many["old_way_sample"]["n"] == 3
    assert many["catalog_per_empty_tenant"]["total"]["pg_class_rows"] > 100
    held = entry["lag_open_transaction"]  # the same phase under an unrelated open transaction
    assert held["visible"] == held["submitted"] == entry["lag"]["submitted"]
    sweep = entry["sweep"]
    assert (sweep["idle"], sweep["busy"]) == (20, 2)
    assert 0 < sweep["sweep"]["queries"] < sweep["per_tenant"]["queries"]
    assert "dashboard 180 d p95 (ms)" in result.stdout  # the printed table
    assert "staff list / API action" in result.stdout and "setup_databases with" in result.stdout
    polling = entry["polling"]  # open dashboards polling (each 1 s in a quick run): idle ones cost only 304s
    assert polling["dashboards"] == 10 and polling["submissions_alone"]["by_kind"]["submit"]["n"] > 0
    assert set(polling["dashboards_idle"]["by_kind"]["poll"]["statuses"]) == {"304"}
    assert polling["idle_polls_304_pct"] == 100.0 and polling["submit_p95_ratio"] > 0
    assert "kept as" not in result.stdout  # a quick run joins no history
    assert polling["dashboards_and_submissions"]["by_kind"]["poll"]["statuses"].get("200", 0) > 0
    managers = entry["managers"]  # Locust's managers, on the primary and on a replica made for the run
    assert managers["alone"]["submit"]["n"] > 0 and "dashboard" not in managers["alone"]
    for run in ("primary", "replica"):
        assert managers[run]["dashboard"]["page"]["n"] > 0 and managers[run]["dashboard"]["errors"] == 0
        assert managers[run]["submit"]["n"] > 0 and managers[run]["submission_p95_ratio"] > 0
    assert (
        managers["replica"]["replica_lag"]["samples"] > 0
        and managers["replica"]["reporting_transactions"]["replica"] > 0
    )
    at_50 = managers["replica"]["lag_at_50"]  # the lag phase while the replica exists, watched on both servers
    assert at_50["visible"] == at_50["submitted"] == at_50["replica"]["visible"] > 0
    assert at_50["replica"]["replay"]["n"] == at_50["submitted"] and at_50["replay_lag_sampled"]["samples"] > 0
    assert "managers on a replica: dashboard p50/p95/p99" in result.stdout


def test_core_run_resumes_and_growth_compares_two_tenants_in_interleaved_rounds(redis_server):
    """`--core` (the 10 M configuration: dashboards, lists, rebuild), `--reuse` of its tenant, and bench_growth."""
    env = bench_env(redis_server, suffix="bench_core", redis_db=4)

    def run(*args):
        result = subprocess.run(
            [sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result

    core = OUTPUT / "bench-core.json"
    run("benchmarks", "--sizes", "200", "--quick", "--core", "--output", str(core))
    run("benchmarks", "--sizes", "300", "--quick", "--core", "--reuse", "--output", str(core))
    entry = json.loads(core.read_text())["sizes"]["300"]
    assert entry["data"]["seeded"] == 100 and entry["staff_lists"]["complaints"] == 300  # grown, not re-seeded
    assert "write_isolation" not in entry and entry["rebuild"]["complaints"] == 300
    growth = OUTPUT / "bench-growth.json"
    printed = run(
        "benchmarks.scenarios.growth",
        "--small",
        "small:150",
        "--large",
        "bench:320",  # grown to a size given, as a 10 M tenant is
        "--rounds",
        "2",
        "--reps",
        "1",
        "--output",
        str(growth),
    ).stdout
    report = json.loads(growth.read_text())
    assert (report["small"]["complaints"], report["large"]["complaints"]) == (150, 320)
    assert len(report["actions"]) == 33 and all(
        a["small"]["n"] == a["large"]["n"] == 2 and a["growth_p95"] > 0 for a in report["actions"].values()
    )
    assert "staff lists: worst growth p95" in printed
    # This checkout against another (here itself), one process each, interleaved.
    checkouts = OUTPUT / "bench-checkouts.json"
    printed = run(
        "benchmarks.scenarios.checkouts",
        *("--other", str(ROOT), "--schema", "bench", "--rounds", "1", "--reps", "2", "--output", str(checkouts)),
    ).stdout
    compared = json.loads(checkouts.read_text())
    assert compared["complaints"] == 320 and len(compared["actions"]) == 31
    assert all(a["this"]["n"] == a["other"]["n"] == 2 and a["ratio_p95"] > 0 for a in compared["actions"].values())
    assert "ratio p50 / p95" in printed


def test_history_prints_each_figure_beside_the_previous_run_and_the_best(tmp_path):
    from benchmarks import history

    def run(commit, started, p95, events):
        report = {
            "commit": commit,
            "started_at": started,
            "sizes": {
                "1000": {
                    "dashboard_180d": {"read_models": {"p95_ms": p95}},
                    "projection": {"events_per_second": events},
                }
            },
        }
        history.keep(report, tmp_path)
        return report

    run("aaa", "2026-12-01T10:00:00+00:00", 8.0, 3000)  # best dashboard
    run("bbb", "2026-12-02T10:00:00+00:00", 12.0, 6000)  # best projector, and the previous run
    rows = history.comparison_rows(
        {
            "sizes": {
                "1000": {"dashboard_180d": {"read_models": {"p95_ms": 20.0}}, "projection": {"events_per_second": 700}}
            }
        },
        history.earlier_runs(tmp_path),
    )
    assert ("dashboard 180 d p95 (ms)", "1000", 20.0, 12.0, "8.0 (aaa)") in rows  # lower is better
    assert ("projector events/s (1 process)", "1000", 700, 6000, "6000 (bbb)") in rows  # higher is better
    assert len(list(tmp_path.glob("*.json"))) == 2
