# Sourced by scripts/run.sh: keep a background process running, restarting it whenever it exits.
#
#   restart_forever NAME COMMAND [ARGS...]   runs COMMAND in the background under a supervisor whose pid is
#                                            appended to the caller's `pids` array
#
# A crashed Celery worker or beat must not take the demo down (the web keeps serving; events wait in the outbox
# and are projected once the worker is back). The pause before a restart doubles from RESTART_DELAY_SECONDS
# (default 1) up to 30 s while the process keeps dying within a minute, and is reset once it has run longer.
# TERM or INT to the supervisor stops its process and the supervisor. stop_all stops every pid in `pids`.

pids=()

stop_all() {
  trap - INT TERM EXIT
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}

restart_forever() {
  local name=$1
  shift
  (
    child=
    trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait 2>/dev/null; exit 0' TERM INT
    first_delay=${RESTART_DELAY_SECONDS:-1}
    delay=$first_delay
    while true; do
      started=$SECONDS
      "$@" &
      child=$!
      status=0
      wait "$child" || status=$?
      child=
      if ((SECONDS - started >= 60)); then delay=$first_delay; fi
      echo "==> $name exited with status $status; restarting it in ${delay}s" >&2
      sleep "$delay" &
      wait $! || true
      delay=$(awk -v d="$delay" 'BEGIN { d *= 2; print (d > 30 ? 30 : d) }')
    done
  ) &
  pids+=($!)
}
