"""Benchmark: the read-model design against the single-database way, side by side in one run.

    python -m benchmarks --sizes 100000,1000000          (what `make bench` runs)
    python -m benchmarks --sizes 500 --quick             (seconds; the test suite runs this)
    python -m benchmarks --sizes 10000000 --core         (dashboards, staff lists, rebuild only; --reuse resumes)
    python -m benchmarks --sizes 100000 --only managers  (one phase: 100 managers, with and without a replica)

Prints a table and writes JSON (bench-results/latest.json). Every comparison measures both sides in the same
run, on the same data, and reports their ratio. Uses its own databases (helpdesk.settings.bench).
"""

import argparse
import os
from pathlib import Path

from benchmarks import ROOT
from benchmarks.run import PHASES, run


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000", help="complaint counts, ascending (comma-separated)")
    parser.add_argument("--quick", action="store_true", help="few repetitions: proves every figure is produced")
    parser.add_argument("--output", default=str(ROOT / "bench-results" / "bench.json"))
    parser.add_argument("--tenants", type=int, help="tenants for the release figure (default 1000; 3 with --quick)")
    parser.add_argument(
        "--core", action="store_true", help="dashboards, staff lists and rebuild only, per size (e.g. at 10 M)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the databases and tenant of an earlier run (resume a seed)"
    )
    parser.add_argument(
        "--only",
        help="run only these phases (comma-separated, of: " + ", ".join(PHASES) + "); the tenant is grown either way",
    )
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    if only and (unknown := only - set(PHASES)):
        raise SystemExit(f"benchmark: unknown phase {', '.join(sorted(unknown))}; phases: {', '.join(PHASES)}")
    try:
        sizes = sorted(int(s) for s in args.sizes.split(","))
    except ValueError:
        raise SystemExit("benchmark: --sizes takes whole numbers, e.g. 100000,1000000") from None
    if not sizes or sizes[0] < 100:
        raise SystemExit("benchmark: sizes must be at least 100")
    if not os.environ.get("DJANGO_SETTINGS_MODULE", "").startswith("helpdesk.settings.bench"):
        raise SystemExit("benchmark: run it with DJANGO_SETTINGS_MODULE=helpdesk.settings.bench (scripts/bench.sh)")
    tenants = args.tenants if args.tenants is not None else (3 if args.quick else 1000)
    if tenants < 1:
        raise SystemExit("benchmark: --tenants must be at least 1")
    run(sizes, args.quick, Path(args.output), tenants=tenants, core=args.core, reuse=args.reuse, only=only)


if __name__ == "__main__":
    main()
