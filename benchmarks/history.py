"""The benchmark's memory: every full run is kept as one JSON (with the commit it measured) in benchmarks/history/,
and the headline figures are printed beside the previous run's and the best run's, so a regression shows in the
table of the run that caused it. Commit the file of a run worth keeping: fresh machines start from what is in git.

Figures from different machines or loads differ; the guard ratios (benchmarks/guard.py) are the ones that travel.
"""

import json
import subprocess
from datetime import datetime
from pathlib import Path

from benchmarks import ROOT

HISTORY = ROOT / "benchmarks" / "history"

# (path in a size's entry, label, whether higher is better)
HEADLINES: list[tuple[tuple[str, ...], str, bool]] = [
    (("dashboard_180d", "read_models", "p50_ms"), "dashboard 180 d p50 (ms)", False),
    (("dashboard_180d", "read_models", "p95_ms"), "dashboard 180 d p95 (ms)", False),
    (("guard", "dashboard", "ratio"), "dashboard ÷ reference query", False),
    (("guard", "dashboard_rows_share"), "dashboard rows read ÷ read-model rows", False),
    (("projection", "events_per_second"), "projector events/s (1 process)", True),
    (("projection", "ratio"), "projector ÷ plain upsert loop", False),
    (("write_isolation", "paced_1s", "p95_ratio_read_models_vs_alone"), "submit p95, paced viewers ÷ alone", False),
    (
        ("write_isolation", "paced_1s_staggered", "p95_ratio_read_models_vs_alone"),
        "submit p95, paced viewers started apart ÷ alone",
        False,
    ),
    (("polling", "idle_polls_304_pct"), "idle polls answered 304 (%)", True),
    (("polling", "submit_p95_ratio"), "submit p95, polling dashboards ÷ alone", False),
    (("lag", "p99_ms"), "event->read model lag p99 (ms)", False),
    (("managers", "p95_ms"), "100 managers, dashboard p95 on a replica (ms)", False),
    (("managers", "submission_p95_ratio"), "submit p95, 100 managers ÷ alone", False),
    (("import", "rows_per_second"), "import rows/s", True),
]


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
        return out.stdout.strip() + ("+changes" if dirty.strip() else "")
    except OSError:
        return "unknown"


def _value(entry: dict, path: tuple[str, ...]) -> float | None:
    found: object = entry
    for part in path:
        if not isinstance(found, dict) or part not in found:
            return None
        found = found[part]
    return found if isinstance(found, int | float) else None


def headlines(report: dict) -> dict[tuple[str, str], float]:
    """(label, size) -> value, for every headline figure the report has."""
    out = {}
    for size, entry in report.get("sizes", {}).items():
        for path, label, _ in HEADLINES:
            if (value := _value(entry, path)) is not None:
                out[(label, size)] = value
    return out


def earlier_runs(directory: Path = HISTORY) -> list[dict]:
    """The kept runs, oldest first (by file name: the start time leads it)."""
    runs = []
    for path in sorted(directory.glob("*.json")):
        try:
            runs.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue  # a damaged file is not a reason to lose this run's table
    return runs


def keep(report: dict, directory: Path = HISTORY) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    started = datetime.fromisoformat(report["started_at"]).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"{started}-{report.get('commit', 'unknown').replace('+', '-')}.json"
    path.write_text(json.dumps(report, indent=2))
    return path


def comparison_rows(report: dict, runs: list[dict]) -> list[tuple]:
    """Each headline figure of this run beside the latest earlier run that has it and the best one."""
    better = {label: higher for _, label, higher in HEADLINES}
    rows: list[tuple] = [("figure", "size", "this run", "previous", "best (commit)")]
    for (label, size), value in headlines(report).items():
        earlier: list[tuple[str, float]] = []
        for run in runs:
            if (found := headlines(run).get((label, size))) is not None:
                earlier.append((run.get("commit", "?"), found))
        previous: float | str = earlier[-1][1] if earlier else ""
        best = ""
        if earlier:
            pick = max if better[label] else min
            commit_of_best, best_value = pick(earlier, key=lambda cv: cv[1])
            best = f"{best_value} ({commit_of_best})"
        rows.append((label, size, value, previous, best))
    return rows
