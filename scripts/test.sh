#!/usr/bin/env bash
# The whole test suite on real PostgreSQL (both databases), Redis, a real Celery worker and chromium, after the
# lock, lint, format, type and migration checks. Extra arguments go to pytest (scripts/test.sh tests/complaints -x).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/lock.sh --check
scripts/bootstrap.sh --browser
export DJANGO_SETTINGS_MODULE=helpdesk.settings.test
. .venv/bin/activate
ruff check .
ruff format --check . >/dev/null || { echo "Code is not formatted: run .venv/bin/ruff format ." >&2; exit 1; }
python manage.py makemigrations --check --dry-run >/dev/null || { echo "Models changed without a migration: run makemigrations" >&2; exit 1; }
# mypy (about 30 s from a fresh clone's empty cache) runs beside pytest, whose first seconds are spent starting
# servers and databases; its verdict is read after pytest's and fails the run the same way.
mkdir -p test-output
mypy --no-error-summary > test-output/mypy.log 2>&1 &
mypy_pid=$!
trap 'kill "$mypy_pid" 2>/dev/null || true' EXIT  # interrupted: no mypy left running
# The whole suite runs on TEST_WORKERS parallel workers (pytest-xdist, default one per core; each has its own
# databases, Redis, Celery worker and gunicorn: helpdesk/settings/test.py); a targeted run (any argument) runs in
# one process unless it passes -n N itself.
if [ $# -eq 0 ]; then set -- -n "${TEST_WORKERS:-$(nproc)}"; fi
# pytest exits 5 when it collected no test: that is a failure here too, never a pass.
status=0
python -m pytest "$@" || status=$?
if ! wait "$mypy_pid"; then
    cat test-output/mypy.log >&2
    echo "Type errors (listed above): run .venv/bin/mypy" >&2
    exit 1
fi
exit "$status"
