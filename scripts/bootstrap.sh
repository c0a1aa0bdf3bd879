#!/usr/bin/env bash
# Make this machine ready for the project: PostgreSQL, Redis and RabbitMQ answering, a virtualenv installed from
# the lock (requirements/dev.lock: every package pinned with its hashes), and (with --browser) Debian's chromium
# for the browser tests and promtool for the alert rules. --production installs requirements/runtime.lock only
# (no test or type-checking tools).
# Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
lock=requirements/dev.lock
browser=
for arg in "$@"; do
  case "$arg" in
    --production) lock=requirements/runtime.lock ;;
    --browser) browser=1 ;;
    *) echo "usage: scripts/bootstrap.sh [--production | --browser]" >&2; exit 2 ;;
  esac
done

log() { printf '==> %s\n' "$*"; }

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.5; done
fi
pg_isready -h 127.0.0.1 -p 5432 -q || { echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.25; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "Redis does not answer on 127.0.0.1:6379" >&2; exit 1; }

# RabbitMQ: the other broker the pipeline tests run on (and `make bench` measures); the tests make their own vhost.
if command -v rabbitmq-server >/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
  log "starting RabbitMQ"
  rabbitmq-server -detached >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && break; sleep 0.5; done
fi

if [ ! -x .venv/bin/python ]; then
  log "creating the virtualenv"
  python3 -m venv .venv
fi
want="$lock $(sha256sum "$lock" | cut -d' ' -f1)"
if [ "$(cat .venv/.lock.sha 2>/dev/null)" != "$want" ]; then
  log "installing $lock"
  # --require-hashes: every package, transitive ones too, must be the very file that was locked.
  if [ "$lock" = requirements/dev.lock ]; then
    # uv (itself locked in dev.lock, installed by pip from its hashes) installs and syncs the whole lock in
    # seconds from its cache, where pip takes a minute: a fresh clone's `make test` starts that much sooner.
    if [ ! -x .venv/bin/uv ]; then
      awk '/^uv==/ {found = 1} found {print} found && !/\\$/ {exit}' "$lock" > .venv/uv.lock
      .venv/bin/pip install -q --disable-pip-version-check --require-hashes -r .venv/uv.lock
    fi
    .venv/bin/uv pip sync --quiet --python .venv/bin/python --require-hashes "$lock"
  else
    .venv/bin/pip install -q --disable-pip-version-check --require-hashes -r "$lock"
  fi
  echo "$want" > .venv/.lock.sha
fi

if [ -n "$browser" ] && [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# promtool (Debian's prometheus package) checks and unit-tests the alert rules (ops/prometheus). Only promtool is
# used; on this kind of machine policy-rc.d keeps the package's server from starting.
if [ -n "$browser" ] && ! command -v promtool >/dev/null; then
  log "installing Debian's prometheus package for promtool"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
mkdir -p var
