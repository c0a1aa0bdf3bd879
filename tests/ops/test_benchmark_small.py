"""A small-size run of the benchmark, so it cannot rot: every figure must be produced (not how fast)."""

import json
import os
import subprocess
import sys

from tests.conftest import OUTPUT, ROOT


def test_benchmark_produces_every_figure(redis_server):
    output = OUTPUT / "bench-small.json"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.bench",
        "BENCH_DATABASE_URL": "postgres://postgres@127.0.0.1:5432/helpdesk_benchtest",
        "BENCH_REPORTING_DATABASE_URL": "postgres://postgres@127.0.0.1:5432/helpdesk_reporting_benchtest",
        "BENCH_REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/3",
    }
    result = subprocess.run(
        [sys.executable, "-m", "helpdesk.benchmark", "--sizes", "300", "--quick", "--output", str(output)],
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
    assert entry["import"]["rows"] == 300 and entry["import"]["rows_per_second"] > 0
    assert entry["projection"]["events_per_second"] > 0
    assert entry["lag"]["visible"] == entry["lag"]["submitted"] > 0
    held = entry["lag_open_transaction"]  # the same phase under an unrelated open transaction
    assert held["visible"] == held["submitted"] == entry["lag"]["submitted"]
    sweep = entry["sweep"]
    assert (sweep["idle"], sweep["busy"]) == (20, 2)
    assert 0 < sweep["sweep"]["queries"] < sweep["per_tenant"]["queries"]
    assert "dashboard 180 d p95 (ms)" in result.stdout  # the printed table
