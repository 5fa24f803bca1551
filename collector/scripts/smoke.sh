#!/usr/bin/env bash
# Smoke test of the Loki path, with curl only: OTLP/JSON in → collector → Loki → LogQL out.
#   1. one audit record (scope otel-auth-audit, eventName auth.sign_in.email) and one app log;
#      both must come back from Loki, the audit one with its structured metadata.
#   2. Loki stopped for OUTAGE_SECONDS while records keep coming, the collector restarted while
#      Loki is still down, then Loki restarted: every record must arrive exactly once (the
#      collector's file_storage queue holds them across its own restart).
# Starts its own Loki + collector on its own ports and data dirs, and stops them (by PID) at exit.
#
# Env: SMOKE_DIR (collector/.cache/smoke-run, wiped first), OUTAGE_SECONDS (30), ports
#   LOKI_PORT (3310), LOKI_GRPC_PORT (9310), OTLP_HTTP_PORT (4390), OTELCOL_HEALTH_PORT (13190),
#   OTELCOL_METRICS_PORT (8890). Needs curl and python3 (JSON parsing only).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export RUN_DIR="${SMOKE_DIR:-$here/.cache/smoke-run}"
export LOKI_PORT="${LOKI_PORT:-3310}" LOKI_GRPC_PORT="${LOKI_GRPC_PORT:-9310}"
export OTLP_HTTP_PORT="${OTLP_HTTP_PORT:-4390}" OTELCOL_HEALTH_PORT="${OTELCOL_HEALTH_PORT:-13190}"
export OTELCOL_METRICS_PORT="${OTELCOL_METRICS_PORT:-8890}"
export OTELCOL_CONFIG="$here/otelcol.loki.yaml"
OUTAGE_SECONDS="${OUTAGE_SECONDS:-30}"
run_id="smoke-$(date +%s)-$$"
loki="http://127.0.0.1:$LOKI_PORT"

fail() { echo "smoke.sh: FAIL: $*" >&2; exit 1; }
"$here/scripts/stop.sh" all >/dev/null 2>&1 || true
rm -rf "$RUN_DIR"
trap '"$here/scripts/stop.sh" all' EXIT
"$here/scripts/start.sh" all

# post_record SEQ: one audit record (and, for SEQ 0, one ordinary app log) as OTLP/JSON.
post_record() {
  local seq="$1" now app=""
  now="$(date +%s%N)"
  if [ "$seq" = 0 ]; then
    app=',{"scope":{"name":"some-other-lib"},"logRecords":[{"timeUnixNano":"'"$now"'","severityNumber":9,"body":{"stringValue":"ordinary app log"},"attributes":[{"key":"smoke.run","value":{"stringValue":"'"$run_id"'"}}]}]}'
  fi
  curl -s -f -m 5 -o /dev/null -H 'Content-Type: application/json' "http://127.0.0.1:$OTLP_HTTP_PORT/v1/logs" --data-binary @- <<EOF
{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"smoke-app"}}]},
 "scopeLogs":[{"scope":{"name":"otel-auth-audit","version":"0.0.0"},
  "logRecords":[{"timeUnixNano":"$now","severityNumber":13,"severityText":"WARN","eventName":"auth.sign_in.email",
   "body":{"stringValue":"sign-in:email failure"},
   "attributes":[{"key":"user.id","value":{"stringValue":"u_123"}},
    {"key":"audit.action","value":{"stringValue":"sign-in:email"}},
    {"key":"audit.outcome","value":{"stringValue":"failure"}},
    {"key":"audit.severity","value":{"stringValue":"high"}},
    {"key":"audit.id","value":{"stringValue":"$run_id-$seq"}},
    {"key":"client.address","value":{"stringValue":"203.0.113.7"}},
    {"key":"smoke.run","value":{"stringValue":"$run_id"}}]}]}$app]}]}
EOF
}

# query LOGQL → the categorize-labels JSON answer of query_range over the last hour.
query() {
  curl -s -f -m 10 -G "$loki/loki/api/v1/query_range" \
    -H 'X-Loki-Response-Encoding-Flags: categorize-labels' \
    --data-urlencode "query=$1" --data-urlencode "limit=5000" \
    --data-urlencode "start=$(( $(date +%s) - 3600 ))000000000"
}

# count_entries JSON → number of log lines in a query_range answer.
count_entries() { python3 -c 'import json,sys; print(sum(len(s["values"]) for s in json.load(sys.stdin)["data"]["result"]))'; }

# wait_count LOGQL N SECONDS: polls until LOGQL returns N lines.
wait_count() {
  local start=$SECONDS n=0
  while (( SECONDS - start < $3 )); do
    n="$(query "$1" | count_entries 2>/dev/null || echo 0)"
    [ "$n" -ge "$2" ] && { echo "$n"; return 0; }
    sleep 1
  done
  echo "$n"; return 1
}

echo "== 1. one record through the collector into Loki (run $run_id)"
post_record 0 || fail "collector refused the record"
audit_q="{audit_stream=\"audit\"} | smoke_run=\"$run_id\" | event_name=\"auth.sign_in.email\" | audit_outcome=\"failure\""
wait_count "$audit_q" 1 30 >/dev/null || fail "audit record not in Loki after 30 s: $audit_q"
wait_count "{audit_stream=\"app\"} | smoke_run=\"$run_id\"" 1 30 >/dev/null || fail "app log not in Loki"
query "$audit_q" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"][0]
ts, line, meta = r["values"][0]
sm = meta.get("structuredMetadata", {})
print("labels:", json.dumps(r["stream"], sort_keys=True))
print("line:", line)
print("structured metadata:", json.dumps(sm, sort_keys=True))
need = {"event_name": "auth.sign_in.email", "audit_action": "sign-in:email", "audit_outcome": "failure",
        "audit_severity": "high", "user_id": "u_123", "scope_name": "otel-auth-audit"}
bad = {k: sm.get(k) for k, v in need.items() if sm.get(k) != v}
if bad or r["stream"].get("service_name") != "smoke-app":
    sys.exit("smoke.sh: FAIL: unexpected labels/metadata: %r" % bad)
'

echo "== 2. Loki down for ${OUTAGE_SECONDS} s while records keep coming"
"$here/scripts/stop.sh" loki
sent=0
for (( i = 1; i <= OUTAGE_SECONDS; i++ )); do
  post_record "$i" || fail "collector refused record $i during the outage"
  sent=$((sent + 1)); sleep 1
done
echo "smoke.sh: sent $sent records while Loki was down"
# The queue is on disk: a collector restart while Loki is down must not lose it either.
"$here/scripts/stop.sh" collector
"$here/scripts/start.sh" collector
"$here/scripts/start.sh" loki
t0=$SECONDS
got="$(wait_count "{audit_stream=\"audit\"} | smoke_run=\"$run_id\"" $((sent + 1)) 120)" \
  || fail "only $got of $((sent + 1)) audit records in Loki 120 s after restart"
echo "smoke.sh: all $got audit records in Loki $((SECONDS - t0)) s after Loki came back"
[ "$got" -eq $((sent + 1)) ] || fail "expected $((sent + 1)) records, Loki has $got (duplicates?)"
echo "smoke.sh: PASS"
