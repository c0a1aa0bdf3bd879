#!/usr/bin/env bash
# The demo (`make run`) with its dashboards, CSVs and report API read from a streaming replica of the reporting
# database: creates the replica (scripts/replica.sh: a hot standby of this machine's PostgreSQL on REPLICA_PORT,
# default 5433), runs scripts/run.sh with REPORTING_REPLICA_URLS pointing at it, and removes it when the demo ends.
# The first start of a fresh machine creates the demo's databases on the primary: the replica replays that too.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${REPLICA_PORT:-5433}
name=helpdesk_demo_replica
reporting_url=${REPORTING_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/helpdesk_reporting}
scripts/bootstrap.sh
scripts/replica.sh create "$name" "$port"
trap 'scripts/replica.sh remove "$name"' EXIT
echo "==> reporting replica on 127.0.0.1:$port (replay lag: /metrics, helpdesk_reporting_replica_lag_seconds)"
REPORTING_REPLICA_URLS="postgres://postgres@127.0.0.1:$port/${reporting_url##*/}" scripts/run.sh
