#!/usr/bin/env bash
# Builds the real control-plane binaries from the Go module proxy and caches them by version:
#   kube-apiserver, kube-controller-manager, kubectl, and for the test node kubelet and kube-scheduler
#   (one wrapper module, Kubernetes 1.36.x),
#   etcd 3.6.x (its own wrapper module), helm v3.
# A warm cache costs nothing; a cold build prints which binary and how long it took.
# Usage: build-testbin.sh            build what is missing, print the bin directory on the last line
#        build-testbin.sh --node     the same, plus kubelet and kube-scheduler for the test node
#        TESTBIN_REBUILD=1 ...       rebuild everything (the Go module and build caches are reused)
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
GO_LANG_VERSION="${GO_LANG_VERSION:-1.26}"   # the go/godebug line Kubernetes 1.36 needs
ROOT="${TESTBIN_ROOT:-$HOME/.cache/trust-manager-ts/testbin}"
BIN="$ROOT/bin-k8s-$KUBE_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION"
STAGING_VERSION="v0${KUBE_VERSION#v1}"          # v1.36.3 -> v0.36.3
MINOR="$(echo "$KUBE_VERSION" | cut -d. -f2)"
K8S_TOOLS="kube-apiserver kube-controller-manager kubectl"
[ "${1:-}" = --node ] && K8S_TOOLS="$K8S_TOOLS kubelet kube-scheduler"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

log() { printf '[testbin] %s\n' "$*" >&2; }
elapsed() { echo "$(( $(date +%s) - $1 ))s"; }

# Fast path: everything wanted is built already (a helm of an older recipe, without helm.ldflags, is not).
all_built=1
for t in $K8S_TOOLS etcd helm; do [ -x "$BIN/$t" ] || all_built=0; done
if [ "$all_built" = 1 ] && [ "${TESTBIN_REBUILD:-}" != 1 ] && [ -f "$BIN/helm.ldflags" ]; then echo "$BIN"; exit 0; fi

mkdir -p "$ROOT"
# One build at a time: concurrent test runs wait for the first one's binaries instead of racing it.
exec 9>"$ROOT/.build.lock"
flock 9
[ "${TESTBIN_REBUILD:-}" = 1 ] && rm -rf "$BIN"
mkdir -p "$BIN"

missing_k8s=""
for t in $K8S_TOOLS; do [ -x "$BIN/$t" ] || missing_k8s="$missing_k8s $t"; done

if [ -n "$missing_k8s" ]; then
  SRC="$ROOT/src-k8s-$KUBE_VERSION"
  mkdir -p "$SRC"
  cd "$SRC"
  if [ ! -f go.mod ]; then
    start=$(date +%s)
    log "kubernetes $KUBE_VERSION: resolving modules (first run downloads ~0.5 GB)"
    tmp="$(mktemp -d)"
    # Read k8s.io/kubernetes's own go.mod and turn its ./staging replaces into published-version replaces.
    kgomod="$(cd "$tmp" && printf 'module tmp\n\ngo 1.26.0\n' > go.mod && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" \
      | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
    rm -rf "$tmp"
    [ -f "$kgomod" ] || { log "could not read go.mod of k8s.io/kubernetes@$KUBE_VERSION"; exit 1; }
    if grep -E '=>' "$kgomod" | grep -v '\./staging/src/' >&2; then log "non-staging replace in k8s go.mod: add it here"; exit 1; fi
    if grep -qE '^[[:space:]]*exclude' "$kgomod"; then log "exclude directive in k8s go.mod: add it here"; exit 1; fi
    {
      printf 'module local/k8s-testbin\n\ngo %s.0\n\ngodebug default=go%s\n\n' "$GO_LANG_VERSION" "$GO_LANG_VERSION"
      grep -oE 'k8s\.io/[a-z0-9-]+ => \./staging/src/k8s\.io/[a-z0-9-]+' "$kgomod" \
        | awk -v v="$STAGING_VERSION" '{print "replace " $1 " => " $1 " " v}'
    } > go.mod.new
    mv go.mod.new go.mod
    for t in $K8S_TOOLS; do go get -tool "k8s.io/kubernetes/cmd/$t@$KUBE_VERSION"; done
    log "kubernetes $KUBE_VERSION: modules resolved in $(elapsed "$start")"
  fi
  # A wrapper module made by an older recipe lacks the newer tools (their dependencies' go.sum lines).
  for t in $missing_k8s; do
    grep -q "k8s.io/kubernetes/cmd/$t\$" go.mod || go get -tool "k8s.io/kubernetes/cmd/$t@$KUBE_VERSION"
  done
  # Version stamping: without it /version reports v0.0.0-master and Helm's kubeVersion checks fail.
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION \
    -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$MINOR \
    -X k8s.io/component-base/version.gitTreeState=clean \
    -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION \
    -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$MINOR"
  for t in $missing_k8s; do
    start=$(date +%s)
    log "building $t $KUBE_VERSION (cold: many minutes on 2 cores)"
    go build -trimpath -ldflags "$ldflags" -o "$BIN/$t.tmp" "k8s.io/kubernetes/cmd/$t"
    mv "$BIN/$t.tmp" "$BIN/$t"
    log "built $t in $(elapsed "$start")"
  done
fi

if [ ! -x "$BIN/etcd" ]; then
  start=$(date +%s)
  SRC="$ROOT/src-etcd-$ETCD_VERSION"
  mkdir -p "$SRC"
  cd "$SRC"
  # Its own module: minimal version selection must not unify etcd's deps with kubernetes's.
  [ -f go.mod ] || { printf 'module local/etcd-testbin\n\ngo 1.26.0\n' > go.mod; go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION"; }
  log "building etcd $ETCD_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$BIN/etcd.tmp" "$BIN/etcd"
  log "built etcd in $(elapsed "$start")"
fi

# Helm's default Kubernetes version (helm template, lint) comes from ldflags its Makefile derives from the
# client-go version in helm's go.mod; without them it claims v1.20 and kubeVersion checks fail.
helm_major="${HELM_VERSION%%.*}"
helm_gomod="$(cd "$(mktemp -d)" && printf 'module tmp\n\ngo 1.26.0\n' > go.mod && go mod download -json "helm.sh/helm/$helm_major@$HELM_VERSION" \
  | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
helm_k8s_minor="$(sed -n 's/^[[:space:]]*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$helm_gomod")"
[ -n "$helm_k8s_minor" ] || { log "could not read helm's client-go version from $helm_gomod"; exit 1; }
helm_ldflags="-s -w -X helm.sh/helm/$helm_major/internal/version.version=$HELM_VERSION \
  -X helm.sh/helm/$helm_major/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/$helm_major/pkg/chartutil.k8sVersionMinor=$helm_k8s_minor \
  -X helm.sh/helm/$helm_major/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/$helm_major/pkg/lint/rules.k8sVersionMinor=$helm_k8s_minor"
# A binary built with other flags (an older recipe) is rebuilt.
if [ ! -x "$BIN/helm" ] || [ "$(cat "$BIN/helm.ldflags" 2>/dev/null)" != "$helm_ldflags" ]; then
  start=$(date +%s)
  log "building helm $HELM_VERSION"
  GOBIN="$BIN/.helm-tmp" go install -trimpath -ldflags "$helm_ldflags" "helm.sh/helm/$helm_major/cmd/helm@$HELM_VERSION"
  mv "$BIN/.helm-tmp/helm" "$BIN/helm"
  rmdir "$BIN/.helm-tmp"
  echo "$helm_ldflags" > "$BIN/helm.ldflags"
  log "built helm in $(elapsed "$start")"
fi

echo "$BIN"
