#!/usr/bin/env bash
# Stops exactly the processes whose PIDs start.sh wrote (RUN_DIR/{otelcol,loki}.pid).
#
#   collector/scripts/stop.sh [loki|collector|all]   (default: all; the collector first, so it
#                                                      can still flush to Loki)
# Env: RUN_DIR (collector/.cache/run), STOP_TIMEOUT (20) seconds before SIGKILL.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${RUN_DIR:-$here/.cache/run}"
STOP_TIMEOUT="${STOP_TIMEOUT:-20}"

stop_one() {
  local name="$1" pidfile="$RUN_DIR/$1.pid" pid start=$SECONDS
  [ -f "$pidfile" ] || { echo "stop.sh: $name: no pid file"; return 0; }
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null && (( SECONDS - start < STOP_TIMEOUT )); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "stop.sh: $name (pid $pid) still running after ${STOP_TIMEOUT} s, sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "stop.sh: $name (pid $pid) stopped"
  else
    echo "stop.sh: $name (pid $pid) was not running"
  fi
  rm -f "$pidfile"
}

case "${1:-all}" in
  loki) stop_one loki ;;
  collector) stop_one otelcol ;;
  all) stop_one otelcol; stop_one loki ;;
  *) echo "usage: stop.sh [loki|collector|all]" >&2; exit 2 ;;
esac
