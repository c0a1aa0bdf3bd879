#!/usr/bin/env bash
# Exploratory fuzzing of the API (tests/api/fuzz_explore.py): a random seed (printed), all phases, every role,
# a reproducing curl per failure. FUZZ_SECONDS bounds the run (default 600); FUZZ_SEED=N repeats a run.
# Uses the test databases and Redis (see helpdesk/settings/test.py), like `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export DJANGO_SETTINGS_MODULE=helpdesk.settings.test
export FUZZ_SECONDS="${FUZZ_SECONDS:-600}"
. .venv/bin/activate
exec python -m pytest tests/api/fuzz_explore.py -s -p no:cacheprovider "$@"
