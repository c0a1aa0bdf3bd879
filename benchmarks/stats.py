"""Figures from timings: percentiles in milliseconds, and a call timed over repetitions."""

import time


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


def load_average() -> list[float]:
    """The machine's 1, 5 and 15 minute load averages, rounded (other work on the box: read ratios, not times)."""
    import os

    return [round(x, 2) for x in os.getloadavg()]


def write_json(path, report: dict) -> None:
    """A scenario's report as JSON at `path` (its directory made if missing)."""
    import json
    from pathlib import Path

    output = Path(path)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
