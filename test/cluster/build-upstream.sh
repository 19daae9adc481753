#!/usr/bin/env bash
# Builds upstream cert-manager trust-manager (the Go binary) from the Go module proxy, for the
# migration tests, and copies its Bundle CRD from the same module. Cached by version:
#   ~/.cache/trust-manager-ts/upstream/trust-manager-<version>/{trust-manager,trust.cert-manager.io_bundles.yaml}
# A warm cache costs nothing; a cold build prints how long it took.
# Usage: build-upstream.sh                 build what is missing, print the directory on the last line
#        build-upstream.sh --image         also an image of the binary for the test node (the pods
#                                          benchmark runs it side by side with ours), its OCI archive
#                                          on the last line: localhost/upstream-trust-manager:<version>
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

if [ "${1:-}" != --image ]; then echo "$OUT"; exit 0; fi

# The image: the static binary alone, run as 65532 (upstream's distroless base adds CA certificates,
# /etc/passwd and tzdata, which its controller does not read). Built with the private containers
# storage of images/build.sh, which has run before (with-cluster.sh builds our images first).
IMAGE="localhost/upstream-trust-manager:$UPSTREAM_VERSION"
ARCHIVE="$OUT/image.oci.tar"
if [ ! -s "$ARCHIVE" ] || [ "$OUT/trust-manager" -nt "$ARCHIVE" ]; then
  images="${TM_CACHE:-$HOME/.cache/trust-manager-ts}/images"
  [ -f "$images/containers.conf" ] || { log "no $images/containers.conf: run bash images/build.sh first"; exit 1; }
  export CONTAINERS_CONF="$images/containers.conf" CONTAINERS_STORAGE_CONF="$images/storage.conf"
  container="$(buildah from scratch)"
  buildah copy --chmod 0555 "$container" "$OUT/trust-manager" /trust-manager >/dev/null
  buildah config --entrypoint '["/trust-manager"]' --user 65532:65532 "$container"
  buildah commit -q "$container" "$IMAGE" >/dev/null
  buildah rm "$container" >/dev/null
  rm -f "$ARCHIVE.tmp"
  podman save -q --format oci-archive -o "$ARCHIVE.tmp" "$IMAGE"
  mv "$ARCHIVE.tmp" "$ARCHIVE"
  log "built image $IMAGE"
fi
echo "$ARCHIVE"
