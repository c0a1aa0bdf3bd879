#!/usr/bin/env bash
# Benchmark the read-model design against the single-database way (see benchmarks/).
# Default sizes 100k and 1M complaints (~15 min on 2 cores); pass e.g. --sizes 20000 for a quick look.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
. .venv/bin/activate
export DJANGO_SETTINGS_MODULE=helpdesk.settings.bench
exec python -m benchmarks "$@"
