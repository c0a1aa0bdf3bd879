#!/usr/bin/env bash
# A streaming replica of this machine's PostgreSQL (the cluster on 127.0.0.1:5432, which holds both databases) as
# a cluster of its own on another port: PostgreSQL's physical replication (pg_basebackup -R), nothing home-made.
#   scripts/replica.sh create NAME PORT   # a hot standby NAME (helpdesk...) on 127.0.0.1:PORT; returns once caught up
#   scripts/replica.sh remove NAME        # stop it, delete it (configuration, data) and its replication slot
# Used by the replica tests, `make bench`'s managers phase and scripts/run_with_replica.sh. Needs root (it creates
# a cluster owned by postgres). The primary must accept replication connections from 127.0.0.1: if its pg_hba.conf
# has no such line, `create` adds "host replication postgres 127.0.0.1/32 trust" and reloads it (said in README).
set -euo pipefail
PRIMARY_PORT=5432
version=$(pg_lsclusters -h | awk -v port="$PRIMARY_PORT" '$3 == port { print $1; exit }')
[ -n "$version" ] || { echo "no PostgreSQL cluster on port $PRIMARY_PORT" >&2; exit 1; }
primary() { psql -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d postgres -Atqc "$1"; }

allow_replication() {
  local hba
  hba=$(primary "SHOW hba_file")
  (
    flock 9  # two sessions creating replicas at once add the line once
    if ! grep -Eq '^[[:space:]]*host[[:space:]]+replication[[:space:]]+(all|postgres)[[:space:]]+127\.0\.0\.1/32' "$hba"; then
      printf '\n# Streaming replicas of the reporting database on this machine (helpdesk scripts/replica.sh)\n' >> "$hba"
      echo "host replication postgres 127.0.0.1/32 trust" >> "$hba"
      primary "SELECT pg_reload_conf()" >/dev/null
    fi
  ) 9>>"$hba.helpdesk-lock"
}

# The primary keeps the WAL a replica has not received yet in a replication slot named after it (a replica that was
# stopped for a while then resumes where it stopped). A slot whose cluster is gone would keep WAL forever: dropped.
drop_orphan_slots() {
  local slot
  for slot in $(primary "SELECT slot_name FROM pg_replication_slots WHERE NOT active AND slot_name LIKE 'helpdesk%'"); do
    pg_lsclusters -h | awk '{ print $2 }' | grep -qx "$slot" || primary "SELECT pg_drop_replication_slot('$slot')" >/dev/null || true
  done
}

# Replicas of test sessions and benchmark runs end in the pid of the process that made them: one whose process
# is gone was left by an interrupted run (a killed session cannot remove its own).
drop_orphan_clusters() {
  local cluster
  for cluster in $(pg_lsclusters -h | awk '$2 ~ /^helpdesk[a-z0-9_]*_[0-9]+$/ { print $2 }'); do
    kill -0 "${cluster##*_}" 2>/dev/null || remove "$cluster"
  done
}

remove() {
  local name=$1
  pg_dropcluster --stop "$version" "$name" 2>/dev/null || true
  primary "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$name'" >/dev/null
}

create() {
  local name=$1 port=$2 data
  [[ "$name" =~ ^helpdesk[a-z0-9_]*$ ]] || { echo "a replica's name is helpdesk followed by [a-z0-9_]" >&2; exit 2; }
  allow_replication
  remove "$name"  # one left by an interrupted run
  drop_orphan_clusters
  drop_orphan_slots
  # A hot standby needs these at least as high as on its primary.
  local options=()
  for guc in max_connections max_worker_processes max_wal_senders max_prepared_transactions max_locks_per_transaction; do
    options+=(-o "$guc=$(primary "SHOW $guc")")
  done
  # fsync off: a disposable copy (tests, benchmark, demo) that a crash would make again; with it on, the first
  # start of a copy taken without syncing (--no-sync below) first syncs every file, minutes on a busy machine.
  pg_createcluster "$version" "$name" -p "$port" --start-conf=manual -o shared_buffers=64MB -o hot_standby=on \
    -o fsync=off "${options[@]}" >/dev/null
  data=$(pg_lsclusters -h | awk -v name="$name" '$2 == name { print $6 }')
  # Whoever may read the primary may read its copy, the same way.
  cp "$(primary "SHOW hba_file")" "/etc/postgresql/$version/$name/pg_hba.conf"
  find "$data" -mindepth 1 -delete
  # The reload that allowed replication is asynchronous: try a few times.
  for attempt in 1 2 3 4 5; do
    if runuser -u postgres -- pg_basebackup -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$data" -R -X stream \
        -C -S "$name" -c fast --no-sync 2>"$data.basebackup.log"; then
      break
    fi
    [ "$attempt" = 5 ] && { cat "$data.basebackup.log" >&2; exit 1; }
    find "$data" -mindepth 1 -delete
    primary "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$name'" >/dev/null
    sleep 0.5
  done
  rm -f "$data.basebackup.log"
  pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start -- -t 300
  local replica="psql -h 127.0.0.1 -p $port -U postgres -d postgres -Atqc" target
  for _ in $(seq 1 600); do
    [ "$($replica 'SELECT pg_is_in_recovery()' 2>/dev/null)" = t ] && break
    sleep 0.1
  done
  [ "$($replica 'SELECT pg_is_in_recovery()' 2>/dev/null)" = t ] || { echo "the replica $name did not start" >&2; exit 1; }
  # Caught up with what the primary had written by now (the WAL of the copy itself): a fresh replica is not
  # days behind, but on a busy machine its replay may take a while.
  target=$(primary "SELECT pg_current_wal_lsn()")
  for _ in $(seq 1 3000); do
    [ "$($replica "SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn")" = t ] && return 0
    sleep 0.2
  done
  echo "the replica $name did not catch up with the primary in 10 minutes" >&2
  exit 1
}

case "${1:-}" in
  create) [ $# -eq 3 ] || { echo "usage: $0 create NAME PORT" >&2; exit 2; }; create "$2" "$3" ;;
  remove) [ $# -eq 2 ] || { echo "usage: $0 remove NAME" >&2; exit 2; }; remove "$2" ;;
  *) echo "usage: $0 create NAME PORT | remove NAME" >&2; exit 2 ;;
esac
