#!/usr/bin/env bash
# The demo: on a bare machine, set up, build or reuse a local control plane with a kubelet node and the
# images built from the Dockerfile, install the chart into cert-manager and walk the admin's journeys
# as pods, printing each step; then keep running until Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
# The chart installs the Bundle CRD itself.
TM_NODE=1 TM_INSTALL_CRD=0 exec bash test/cluster/with-cluster.sh node test/demo.ts "$@"
