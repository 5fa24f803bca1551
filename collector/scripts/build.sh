#!/usr/bin/env bash
# Builds our collector distribution (bin/otelcol-auth-audit) and Grafana Loki (bin/loki) from Go
# modules, into collector/bin/ (git-ignored). Idempotent: a build is skipped when its binary and a
# stamp of its inputs (pinned versions, manifest, flags) already exist; FORCE=1 rebuilds.
# Uses the ordinary Go module and build caches, so a rebuild after a change is fast.
#
#   collector/scripts/build.sh [otelcol|loki|all]    (default: all)
#
# Logs: collector/.cache/build-*.log. Needs Go >= the `go` line of Loki's go.mod (1.26.5).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$here/bin"
cache="$here/.cache"
what="${1:-all}"
mkdir -p "$bin/tools" "$cache"

# One pin per tool; builder-config.yaml pins every component on the same minor.
BUILDER_VERSION="v0.152.0"
LOKI_MODULE="github.com/grafana/loki/v3"
LOKI_VERSION="$(awk -v m="$LOKI_MODULE" '$1 == "require" && $2 == m { print $3 } $1 == m { print $2 }' "$here/loki/build/go.mod" | head -n 1)"
# Loki's go.mod asks for go 1.26.5; never fetch a toolchain behind the user's back.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export CGO_ENABLED=0

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[build] FAILED: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "go not found on PATH"
[ -n "$LOKI_VERSION" ] || die "cannot read the Loki version from loki/build/go.mod"

# version_ge A B: true when Go version A >= B (1.26.8 >= 1.26.5).
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]; }

# stamp_of FILE...: a digest of the build inputs, so a changed pin or manifest rebuilds.
stamp_of() { { go env GOVERSION; cat "$@"; } | sha256sum | cut -c1-16; }

# run NAME LOGFILE CMD...: runs CMD with output to LOGFILE, prints the time taken, fails clearly.
run() {
  local name="$1" logfile="$2" start=$SECONDS; shift 2
  log "$name ... (log: ${logfile#"$here"/})"
  if ! "$@" >>"$logfile" 2>&1; then
    tail -n 25 "$logfile" >&2
    die "$name (after $((SECONDS - start)) s; full log: $logfile)"
  fi
  log "$name done in $((SECONDS - start)) s"
}

build_otelcol() {
  local out="$bin/otelcol-auth-audit" stampfile="$bin/.otelcol-auth-audit.stamp" logfile="$cache/build-otelcol.log"
  local builder="$bin/tools/builder-$BUILDER_VERSION" src="$cache/otelcol-src" stamp t0=$SECONDS
  stamp="$BUILDER_VERSION-$(stamp_of "$here/builder-config.yaml" "$here/scripts/build.sh")"
  if [ -z "${FORCE:-}" ] && [ -x "$out" ] && [ "$(cat "$stampfile" 2>/dev/null)" = "$stamp" ]; then
    log "otelcol-auth-audit up to date ($stamp), skipped"; return 0
  fi
  : >"$logfile"
  if [ ! -x "$builder" ]; then
    run "install builder $BUILDER_VERSION" "$logfile" \
      env GOBIN="$bin/tools" go install "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION"
    mv "$bin/tools/builder" "$builder"
  fi
  rm -rf "$src"
  # The builder's own `go mod tidy` fails here: it also resolves the test-only dependencies of
  # components (telemetrytest, zpagesextension, extensionauthtest, …), which the module proxy
  # does not serve. So: generate, tidy tolerating those (-e), then let the builder compile.
  (cd "$here" && run "generate sources" "$logfile" \
    "$builder" --config builder-config.yaml --skip-get-modules --skip-compilation)
  (cd "$src" && run "resolve modules (go mod tidy -e)" "$logfile" go mod tidy -e -compat=1.25)
  (cd "$here" && run "compile otelcol-auth-audit" "$logfile" \
    "$builder" --config builder-config.yaml --skip-generate --skip-get-modules)
  install -m 0755 "$src/otelcol-auth-audit" "$out"
  echo "$stamp" >"$stampfile"
  log "bin/otelcol-auth-audit: $("$out" --version) in $((SECONDS - t0)) s"
}

build_loki() {
  local out="$bin/loki" stampfile="$bin/.loki.stamp" logfile="$cache/build-loki.log" stamp t0=$SECONDS
  local need
  need="$(awk '$1 == "go" { print $2; exit }' "$(go env GOMODCACHE)/cache/download/$LOKI_MODULE/@v/$LOKI_VERSION.mod" 2>/dev/null || true)"
  stamp="$LOKI_VERSION-$(stamp_of "$here/loki/build/go.mod" "$here/loki/build/go.sum" "$here/scripts/build.sh")"
  if [ -z "${FORCE:-}" ] && [ -x "$out" ] && [ "$(cat "$stampfile" 2>/dev/null)" = "$stamp" ]; then
    log "loki up to date ($stamp), skipped"; return 0
  fi
  : >"$logfile"
  if [ -n "$need" ] && ! version_ge "$(go env GOVERSION | sed 's/^go//')" "$need"; then
    die "Loki $LOKI_VERSION needs Go >= $need, this is $(go env GOVERSION); install it or set GOTOOLCHAIN=go$need+auto"
  fi
  # cmd/loki is a main package of a dependency: `go build` of it from our wrapper module works,
  # where `go install ...@version` refuses Loki's replace directives.
  (cd "$here/loki/build" && run "compile loki $LOKI_VERSION" "$logfile" \
    go build -trimpath -tags netgo \
      -ldflags "-s -w -X github.com/grafana/loki/v3/pkg/util/build.Version=${LOKI_VERSION#v} -X github.com/grafana/loki/v3/pkg/util/build.Branch=$LOKI_VERSION" \
      -o "$out.tmp" "$LOKI_MODULE/cmd/loki")
  mv "$out.tmp" "$out"
  echo "$stamp" >"$stampfile"
  log "bin/loki: $("$out" -version | head -n 1) in $((SECONDS - t0)) s"
}

log "Go $(go env GOVERSION), GOTOOLCHAIN=$GOTOOLCHAIN, module cache $(go env GOMODCACHE), build cache $(go env GOCACHE)"
case "$what" in
  otelcol) build_otelcol ;;
  loki) build_loki ;;
  all) build_otelcol; build_loki ;;
  *) die "usage: build.sh [otelcol|loki|all]" ;;
esac
