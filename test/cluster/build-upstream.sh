#!/usr/bin/env bash
# Builds upstream cert-manager trust-manager (the Go binary) from the Go module proxy, for the
# migration tests, and copies its Bundle CRD from the same module. Cached by version:
#   ~/.cache/trust-manager-ts/upstream/trust-manager-<version>/{trust-manager,trust.cert-manager.io_bundles.yaml}
# A warm cache costs nothing; a cold build prints how long it took.
# Usage: build-upstream.sh                 build what is missing, print the directory on the last line
#        UPSTREAM_REBUILD=1 build-upstream.sh  rebuild (the Go module and build caches are reused)
set -euo pipefail

UPSTREAM_VERSION="${UPSTREAM_VERSION:-v0.24.0}"
MODULE="github.com/cert-manager/trust-manager"
ROOT="${UPSTREAM_ROOT:-${TM_CACHE:-$HOME/.cache/trust-manager-ts}/upstream}"
OUT="$ROOT/trust-manager-$UPSTREAM_VERSION"
CRD="trust.cert-manager.io_bundles.yaml"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

log() { printf '[upstream] %s\n' "$*" >&2; }

[ "${UPSTREAM_REBUILD:-}" = 1 ] && rm -rf "$OUT"
mkdir -p "$OUT"

if [ ! -x "$OUT/trust-manager" ] || [ ! -f "$OUT/$CRD" ]; then
  start=$(date +%s)
  # The module has no replace directives, so `go install module@version` builds it as released.
  log "building trust-manager $UPSTREAM_VERSION from the Go module proxy (cold: a few minutes on 2 cores)"
  GOBIN="$OUT/.tmp" go install -trimpath -ldflags "-s -w" "$MODULE/cmd/trust-manager@$UPSTREAM_VERSION"
  mv "$OUT/.tmp/trust-manager" "$OUT/trust-manager"
  rmdir "$OUT/.tmp"
  # The CRD the release ships (deploy/crds in the module zip; the chart's copy has the same spec).
  moddir="$(go env GOMODCACHE)/$MODULE@$UPSTREAM_VERSION"
  [ -f "$moddir/deploy/crds/$CRD" ] || { log "no deploy/crds/$CRD in $moddir"; exit 1; }
  cp "$moddir/deploy/crds/$CRD" "$OUT/$CRD.tmp"
  mv "$OUT/$CRD.tmp" "$OUT/$CRD"
  log "built trust-manager $UPSTREAM_VERSION in $(( $(date +%s) - start ))s"
fi

echo "$OUT"
