#!/usr/bin/env bash
# Runs a command against a fresh local control plane inside a private network + PID namespace:
#   bash test/cluster/with-cluster.sh node --test test/integration/x.test.ts
# In the namespace, lo carries a non-loopback address ($TM_LOCAL_ADDRESS) that EndpointSlices may name,
# so the API server reaches locally running webhooks through real Service references. When the
# namespace's first process ends, the kernel ends every process in it: nothing is left running.
# Everything that needs the network (installs, builds) happens before entering it.
#
# TM_NODE=1 adds a real kubelet node (containerd, runc, CNI bridge, kube-scheduler) that runs pods of the
# images built by images/build.sh, imported under the chart's default names (docs/test-cluster.md).
# TM_UPSTREAM_IMAGE=1 imports an image of upstream trust-manager too (test/cluster/build-upstream.sh --image).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LOCAL_ADDRESS="${TM_NETNS_ADDRESS:-10.200.0.1}"

if [ "${TM_NODE:-}" = 1 ]; then
  TM_TESTBIN_DIR="$(bash "$here/build-testbin.sh" --node | tail -n1)"
  if [ -z "${TM_IMAGES_DIR:-}" ]; then TM_IMAGES_DIR="$(bash "$here/../../images/build.sh" | tail -n1)"; fi
  export TM_IMAGES_DIR
  if [ "${TM_UPSTREAM_IMAGE:-}" = 1 ]; then TM_UPSTREAM_IMAGE_ARCHIVE="$(bash "$here/build-upstream.sh" --image | tail -n1)"; export TM_UPSTREAM_IMAGE_ARCHIVE; fi
else
  TM_TESTBIN_DIR="$(bash "$here/build-testbin.sh" | tail -n1)"
fi
export TM_TESTBIN_DIR

if [ "${TM_NO_NETNS:-}" != 1 ] && unshare --net --pid --fork --mount-proc --kill-child true 2>/dev/null; then
  export TM_LOCAL_ADDRESS="$LOCAL_ADDRESS"
  # unshare keeps this PID and holds the new network namespace: nsenter --net=/proc/$TM_NETNS_PID/ns/net
  export TM_NETNS_PID=$$
  status=0
  unshare --net --pid --fork --mount-proc --kill-child -- bash -c '
    set -e
    ip link set lo up
    ip addr add "$TM_LOCAL_ADDRESS/32" dev lo
    node "$0/run.ts" -- "$@"' "$here" "$@" || status=$?
  # A node's pods leave empty cgroups in every v1 hierarchy, also when the run was killed before its clean-up.
  if [ "${TM_NODE:-}" = 1 ]; then
    for dir in /sys/fs/cgroup/*/"tm-node-$TM_NETNS_PID"; do
      [ -d "$dir" ] && find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
    done
  fi
  exit "$status"
else
  [ "${TM_NODE:-}" = 1 ] && { echo "[cluster] a node needs the private network namespace (root, unshare)" >&2; exit 1; }
  echo "[cluster] WARNING: no private network namespace (unshare failed or TM_NO_NETNS=1): webhooks must use clientConfig.url on 127.0.0.1" >&2
  unset TM_LOCAL_ADDRESS
  exec node "$here/run.ts" -- "$@"
fi
