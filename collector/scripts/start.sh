#!/usr/bin/env bash
# Starts Loki and our collector on loopback, waits until both are ready, writes their PIDs.
#
#   collector/scripts/start.sh [loki|collector|all]   (default: all)
#
# Env (all optional):
#   OTELCOL_CONFIG (collector/otelcol.loki.yaml)  the collector config to run
#   RUN_DIR (collector/.cache/run)                PID files, logs, data directories
#   LOKI_PORT (3100), LOKI_GRPC_PORT (9096), OTLP_HTTP_PORT (4318), OTELCOL_HEALTH_PORT (13133),
#   OTELCOL_METRICS_PORT (8888)                   loopback ports
#   LOKI_DATA_DIR ($RUN_DIR/loki), OTELCOL_STORAGE_DIR ($RUN_DIR/otelcol-storage),
#   AUDIT_FILE_PATH ($RUN_DIR/audit.jsonl)        data locations
#   READY_TIMEOUT (90)                            seconds to wait for each process
# Stop with collector/scripts/stop.sh (same RUN_DIR).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
what="${1:-all}"
RUN_DIR="${RUN_DIR:-$here/.cache/run}"
mkdir -p "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"

export LOKI_PORT="${LOKI_PORT:-3100}"
export LOKI_GRPC_PORT="${LOKI_GRPC_PORT:-9096}"
export OTLP_HTTP_PORT="${OTLP_HTTP_PORT:-4318}"
export OTELCOL_HEALTH_PORT="${OTELCOL_HEALTH_PORT:-13133}"
export OTELCOL_METRICS_PORT="${OTELCOL_METRICS_PORT:-8888}"
export LOKI_DATA_DIR="${LOKI_DATA_DIR:-$RUN_DIR/loki}"
export OTELCOL_STORAGE_DIR="${OTELCOL_STORAGE_DIR:-$RUN_DIR/otelcol-storage}"
export AUDIT_FILE_PATH="${AUDIT_FILE_PATH:-$RUN_DIR/audit.jsonl}"
OTELCOL_CONFIG="${OTELCOL_CONFIG:-$here/otelcol.loki.yaml}"
READY_TIMEOUT="${READY_TIMEOUT:-90}"

die() { echo "start.sh: $*" >&2; exit 1; }

# running NAME → true when NAME.pid names a live process.
running() { [ -f "$RUN_DIR/$1.pid" ] && kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null; }

# wait_for NAME URL EXPECT: polls URL until it answers HTTP 200 with body EXPECT exactly (any body
# when EXPECT is empty), at most READY_TIMEOUT seconds; fails early if the process died.
# Exactly: Loki answers "Ingester not ready: waiting for 15s after being ready" while starting.
wait_for() {
  local name="$1" url="$2" expect="$3" start=$SECONDS body code
  while (( SECONDS - start < READY_TIMEOUT )); do
    running "$name" || { tail -n 20 "$RUN_DIR/$name.log" >&2; die "$name exited during start-up (log: $RUN_DIR/$name.log)"; }
    body="$(curl -s -m 2 -w '\n%{http_code}' "$url" 2>/dev/null || true)"
    code="${body##*$'\n'}"
    body="$(printf '%s' "${body%$'\n'*}" | tr -d '\r\n')"
    if [ "$code" = 200 ] && { [ -z "$expect" ] || [ "$body" = "$expect" ]; }; then
      echo "start.sh: $name ready after $((SECONDS - start)) s"; return 0
    fi
    sleep 0.5
  done
  die "$name not ready after ${READY_TIMEOUT} s at $url (log: $RUN_DIR/$name.log)"
}

start_loki() {
  [ -x "$here/bin/loki" ] || die "no $here/bin/loki: run collector/scripts/build.sh"
  running loki && { echo "start.sh: loki already running (pid $(cat "$RUN_DIR/loki.pid"))"; return 0; }
  mkdir -p "$LOKI_DATA_DIR"
  echo "start.sh: loki on 127.0.0.1:$LOKI_PORT (grpc $LOKI_GRPC_PORT), data $LOKI_DATA_DIR"
  "$here/bin/loki" -config.file="$here/loki/loki.yaml" -config.expand-env=true \
    >"$RUN_DIR/loki.log" 2>&1 &
  echo $! >"$RUN_DIR/loki.pid"
  wait_for loki "http://127.0.0.1:$LOKI_PORT/ready" "ready"
}

start_collector() {
  [ -x "$here/bin/otelcol-auth-audit" ] || die "no $here/bin/otelcol-auth-audit: run collector/scripts/build.sh"
  running otelcol && { echo "start.sh: collector already running (pid $(cat "$RUN_DIR/otelcol.pid"))"; return 0; }
  mkdir -p "$OTELCOL_STORAGE_DIR"
  echo "start.sh: collector ($(basename "$OTELCOL_CONFIG")) OTLP/HTTP on 127.0.0.1:$OTLP_HTTP_PORT, health $OTELCOL_HEALTH_PORT"
  "$here/bin/otelcol-auth-audit" --config "$OTELCOL_CONFIG" >"$RUN_DIR/otelcol.log" 2>&1 &
  echo $! >"$RUN_DIR/otelcol.pid"
  wait_for otelcol "http://127.0.0.1:$OTELCOL_HEALTH_PORT/" ""
}

case "$what" in
  loki) start_loki ;;
  collector) start_collector ;;
  all) start_loki; start_collector ;;
  *) die "usage: start.sh [loki|collector|all]" ;;
esac
