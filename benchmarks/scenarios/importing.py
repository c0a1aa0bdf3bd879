"""Benchmark scenario: import_complaints, streamed. Rows/s into the bench tenant (whatever its size) and the
import process's peak memory for a small and a 10x larger file, measured side by side in one run.

Part of `make bench` (on the largest size), or alone on a tenant grown to --tenant complaints:

    DJANGO_SETTINGS_MODULE=helpdesk.settings.bench python -m benchmarks.scenarios.importing --tenant 1000000

Alone, it can also time a larger file into a new, empty tenant (--empty-rows), and put another checkout of the
project (--compare DIR, e.g. `git archive main | tar -x -C DIR`) beside this one: each import is then run by
both, one after the other on equally shaped files, and the ratio printed.

Each import runs as `manage.py import_complaints` in its own process (os.wait4 gives that process's peak RSS),
and includes the projector catching the read models up, as the command does before it returns.
"""

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from benchmarks import ROOT

BYTES_PER_PADDED_ROW = 4_400  # with a 4,000-character description


def write_csv(path: Path, *, rows: int, prefix: str, description_chars: int = 0) -> int:
    """A generated year of complaints as an import file; returns its size in bytes."""
    from django.utils import timezone

    from complaints import demo_data
    from complaints.import_format import COLUMNS

    categories, agents = demo_data.ensure_categories(8), demo_data.ensure_agents(12)
    now = timezone.now() - timedelta(hours=1)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        generated = demo_data.generate(count=rows, months=12, categories=categories, agents=agents, seed=rows)
        for i, c in enumerate(generated):
            stamps = {
                name: min(value, now).isoformat() if value else ""
                for name, value in (
                    ("created_at", c.created_at),
                    ("first_response_at", c.first_response_at),
                    ("resolved_at", c.resolved_at),
                    ("closed_at", c.closed_at),
                )
            }
            writer.writerow(
                {
                    "reference": f"{prefix}-{i}",
                    **stamps,
                    "status": c.status,
                    # Real exports spell a category several ways; the import merges them.
                    "category": c.category.name.upper() if i % 7 == 0 else c.category.name,
                    "priority": c.priority,
                    "assignee": c.assignee.username if c.assignee else "",
                    "channel": c.channel,
                    "title": c.title,
                    "description": (c.description + " " + "x" * description_chars)[:description_chars]
                    if description_chars
                    else c.description,
                    "customer_name": c.customer_name,
                    "customer_email": c.customer_email,
                    "customer_phone": "",
                    "reopen_count": c.reopen_count,
                }
            )
    return path.stat().st_size


def _figure(pattern: str, output: str) -> str:
    """A figure the import command printed; its absence means the command's report changed under the benchmark."""
    if not (match := re.search(pattern, output)):
        raise RuntimeError(f"import_complaints printed nothing matching {pattern!r}")
    return match.group(1)


def import_once(path: Path, schema: str, root: Path = ROOT) -> dict:
    """One import in its own process (the command of the checkout at `root`): wall seconds, peak RSS, and the
    command's own split of the time."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "import_complaints", str(path), "--schema", schema],
            cwd=root,
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (peak RSS)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        output, errors = out.read(), err.read()
    if proc.returncode:
        raise RuntimeError(f"import_complaints failed: {errors.strip()[-500:]}")
    imported = int(_figure(r"imported ([\d,]+) complaints", output).replace(",", ""))
    projector_seconds = float(_figure(r"applied [\d,]+ events in ([\d.]+)s", output))
    written = float(_figure(r"complaints \(.*\) in ([\d.]+)s", output))
    return {
        "rows": imported,
        "seconds": round(seconds, 2),
        "write_seconds": written,
        "projector_seconds": projector_seconds,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def run(*, schema: str, rows: int = 20_000, file_mb: tuple[int, int] = (20, 200), workdir: Path | None = None) -> dict:
    """rows/s for `rows` rows into the tenant as it is, then peak memory for two file sizes (10x apart)."""
    from django_tenants.utils import schema_context

    from complaints.models import Complaint

    workdir = workdir or ROOT / "bench-results" / "import"
    workdir.mkdir(parents=True, exist_ok=True)
    with schema_context(schema):
        tenant_size = Complaint.objects.count()
        rate_file = workdir / "rate.csv"
        write_csv(rate_file, rows=rows, prefix=f"RATE{tenant_size}")
        memory_files = []
        for mb in file_mb:
            path = workdir / f"{mb}mb.csv"
            size = write_csv(
                path,
                rows=max(mb * 1_000_000 // BYTES_PER_PADDED_ROW, 1),
                prefix=f"MEM{mb}-{tenant_size}",
                description_chars=4_000,
            )
            memory_files.append((mb, path, size))
    result = {"tenant_complaints": tenant_size, **import_once(rate_file, schema)}
    result["rows_per_second"] = round(result["rows"] / result["seconds"])
    # Without the command's process start (Django setup), which does not grow with the file.
    result["rows_per_second_in_command"] = round(
        result["rows"] / (result["write_seconds"] + result["projector_seconds"])
    )
    result["memory"] = []
    for _mb, path, size in memory_files:
        measured = import_once(path, schema)
        result["memory"].append({"file_mb": round(size / 1e6, 1), **measured})
        path.unlink()
    rate_file.unlink()
    small, large = result["memory"][0], result["memory"][-1]
    result["memory_ratio"] = round(large["peak_rss_mb"] / small["peak_rss_mb"], 2)
    print_figures(result)
    return result


def print_figures(result: dict) -> None:
    print(
        f"import_complaints: {result['rows']:,} rows into a tenant of {result['tenant_complaints']:,} complaints: "
        f"{result['rows_per_second']:,} rows/s ({result['seconds']} s: write {result['write_seconds']} s, "
        f"projector {result['projector_seconds']} s, rest is process start); "
        f"{result['rows_per_second_in_command']:,} rows/s without the process start"
    )
    for m in result["memory"]:
        print(
            f"import_complaints: {m['file_mb']} MB file, {m['rows']:,} rows: peak RSS {m['peak_rss_mb']} MB "
            f"({m['seconds']} s)"
        )
    print(f"import_complaints: peak RSS, large file / small file: {result['memory_ratio']}x", flush=True)


def side_by_side(*, schemas: tuple[str, str], rows: int, compare: Path, workdir: Path, label: str) -> dict:
    """`rows` rows imported by the checkout at `compare` into schemas[0], then by this one into schemas[1] (the
    same tenant, or two alike), each from its own equally shaped file (same generator and seed, other
    references)."""
    from django_tenants.utils import schema_context

    from complaints.models import Complaint

    workdir.mkdir(parents=True, exist_ok=True)
    result: dict = {"rows": rows}
    for (side, root), schema in zip((("before", compare), ("after", ROOT)), schemas, strict=True):
        path = workdir / f"{label}-{side}.csv"
        with schema_context(schema):
            size = Complaint.objects.count()
            write_csv(path, rows=rows, prefix=f"{label}-{side}-{size}")
        measured = {"tenant_complaints": size, **import_once(path, schema, root=root)}
        measured["rows_per_second"] = round(measured["rows"] / measured["seconds"])
        measured["load_average"] = round(os.getloadavg()[0], 1)
        result[side] = measured
        path.unlink()
    before, after = result["before"], result["after"]
    result["speedup"] = round(after["rows_per_second"] / before["rows_per_second"], 2)
    print(
        f"import_complaints, {label}: {rows:,} rows into a tenant of {before['tenant_complaints']:,} complaints: "
        + ", ".join(
            f"{m['rows_per_second']:,} rows/s {side} ({m['seconds']} s: write {m['write_seconds']} s, projector "
            f"{m['projector_seconds']} s; load {m['load_average']})"
            for side, m in (("before", before), ("after", after))
        )
        + f": {result['speedup']}x",
        flush=True,
    )
    return result


def live_lag_during_import(*, rows: int, compare: Path, agent, window: float, workdir: Path) -> dict:
    """The importing tenant's live lag (complaints submitted at 2/s, each timed until the read side shows it, a
    Celery worker applying events): with no import, then while the checkout at `compare` and then this one
    import `rows` rows into it. Measured in windows of `window` seconds for as long as the import command runs
    (its own catch-up included) and one window after: the worst window is the figure."""
    from django_tenants.utils import schema_context

    from benchmarks.processes import Processes
    from benchmarks.scenarios.lag import measure_lag
    from benchmarks.tenant import SCHEMA

    procs = Processes()
    procs.worker()
    result: dict = {"rows": rows, "window_seconds": window}
    try:
        measure_lag(rate=2, seconds=5, agent=agent)  # the worker's first tasks (imports, connections) unmeasured
        result["idle"] = {"windows": [measure_lag(rate=2, seconds=window, agent=agent)]}
        for side, root in (("before", compare), ("after", ROOT)):
            path = workdir / f"live-{side}.csv"
            with schema_context(SCHEMA):
                write_csv(path, rows=rows, prefix=f"live-{side}")
            started = time.perf_counter()
            with tempfile.TemporaryFile("w+") as sink:
                importer = subprocess.Popen(
                    [sys.executable, "manage.py", "import_complaints", str(path), "--schema", SCHEMA],
                    cwd=root,
                    stdout=sink,
                    stderr=sink,
                )
                windows = []
                while importer.poll() is None:
                    windows.append(measure_lag(rate=2, seconds=window, agent=agent))
                if importer.returncode != 0:
                    raise RuntimeError(f"import_complaints ({side}) failed")
            windows.append(measure_lag(rate=2, seconds=window, agent=agent))
            result[side] = {
                "windows": windows,
                "import_seconds": round(time.perf_counter() - started, 1),
                "load_average": round(os.getloadavg()[0], 1),
            }
            path.unlink()
    finally:
        procs.stop()
    for name in ("idle", "before", "after"):
        worst = max(result[name]["windows"], key=lambda w: w.get("p95_ms") or 0)
        result[name]["worst_p95_ms"] = worst.get("p95_ms")
        result[name]["worst_p99_ms"] = max(w.get("p99_ms") or 0 for w in result[name]["windows"])
        seen = sum(w["visible"] for w in result[name]["windows"])
        sent = sum(w["submitted"] for w in result[name]["windows"])
        print(
            f"live lag in the importing tenant, {name}: worst window p95 {result[name]['worst_p95_ms']} ms, "
            f"p99 {result[name]['worst_p99_ms']} ms ({seen} of {sent} seen, {len(result[name]['windows'])} "
            f"windows of {window:.0f} s; load {result[name].get('load_average', '-')})",
            flush=True,
        )
    return result


def empty_tenant(name: str) -> str:
    """A new tenant with nothing in it (created the normal way; an earlier run's is dropped first)."""
    from tenants.models import Tenant
    from tenants.services import tenant_create, tenant_delete

    if existing := Tenant.objects.filter(schema_name=name).first():
        tenant_delete(tenant=existing)
    tenant_create(
        schema_name=name, name=name, domain=f"{name}.localhost", admin_username="admin", admin_password="unused-pw-1"
    )
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenant", type=int, default=1_000_000, help="grow the bench tenant to this many first")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--mb", default="20,200", help="two file sizes in MB for the memory figure (none: skip)")
    parser.add_argument("--compare", type=Path, help="another checkout to time beside this one (no memory figure)")
    parser.add_argument("--empty-rows", type=int, default=0, help="with --compare: also this many into empty tenants")
    parser.add_argument(
        "--live",
        type=float,
        default=0,
        help="with --compare: the importing tenant's live lag, in windows of this many seconds",
    )
    args = parser.parse_args()
    if not os.environ.get("DJANGO_SETTINGS_MODULE", "").startswith("helpdesk.settings.bench"):
        raise SystemExit("bench_import: run it with DJANGO_SETTINGS_MODULE=helpdesk.settings.bench")
    try:
        small, large = (0, 0) if args.compare or args.mb == "none" else (int(v) for v in args.mb.split(","))
    except ValueError:
        raise SystemExit("bench_import: --mb takes two whole numbers, e.g. 20,200") from None
    if args.compare and not (args.compare / "manage.py").exists():
        raise SystemExit(f"bench_import: {args.compare} is no checkout of this project (no manage.py)")
    import django

    django.setup()
    from benchmarks import tenant

    users = tenant.setup_tenant()
    print(json.dumps(tenant.grow_to(args.tenant, months=12)), flush=True)
    out = ROOT / "bench-results" / "import.json"
    if args.compare:
        workdir = ROOT / "bench-results" / "import"
        if args.live:
            agent = users["agent"][0]
            live = live_lag_during_import(
                rows=args.rows, compare=args.compare, agent=agent, window=args.live, workdir=workdir
            )
            out.write_text(json.dumps(live, indent=2))
            return
        both = (tenant.SCHEMA, tenant.SCHEMA)
        result = {
            "grown": side_by_side(schemas=both, rows=args.rows, compare=args.compare, workdir=workdir, label="grown")
        }
        if args.empty_rows:
            empties = (empty_tenant("bench_empty_before"), empty_tenant("bench_empty_after"))
            result["empty"] = side_by_side(
                schemas=empties, rows=args.empty_rows, compare=args.compare, workdir=workdir, label="empty"
            )
        out.write_text(json.dumps(result, indent=2))
        return
    result = run(schema=tenant.SCHEMA, rows=args.rows, file_mb=(small, large))
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
