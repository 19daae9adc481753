#!/usr/bin/env bash
# Runs a command against a fresh local control plane inside a private network + PID namespace:
#   bash test/cluster/with-cluster.sh node --test test/integration/x.test.ts
# In the namespace, lo carries a non-loopback address ($TM_LOCAL_ADDRESS) that EndpointSlices may name,
# so the API server reaches locally running webhooks through real Service references. When the
# namespace's first process ends, the kernel ends every process in it: nothing is left running.
# Everything that needs the network (installs, builds) happens before entering it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TM_TESTBIN_DIR="$(bash "$here/build-testbin.sh" | tail -n1)"
export TM_TESTBIN_DIR
LOCAL_ADDRESS="${TM_NETNS_ADDRESS:-10.200.0.1}"

if [ "${TM_NO_NETNS:-}" != 1 ] && unshare --net --pid --fork --mount-proc --kill-child true 2>/dev/null; then
  export TM_LOCAL_ADDRESS="$LOCAL_ADDRESS"
  # unshare keeps this PID and holds the new network namespace: nsenter --net=/proc/$TM_NETNS_PID/ns/net
  export TM_NETNS_PID=$$
  exec unshare --net --pid --fork --mount-proc --kill-child -- bash -c '
    set -e
    ip link set lo up
    ip addr add "$TM_LOCAL_ADDRESS/32" dev lo
    node "$0/run.ts" -- "$@"' "$here" "$@"
else
  echo "[cluster] WARNING: no private network namespace (unshare failed or TM_NO_NETNS=1): webhooks must use clientConfig.url on 127.0.0.1" >&2
  unset TM_LOCAL_ADDRESS
  exec node "$here/run.ts" -- "$@"
fi
