#!/usr/bin/env bash
# The one test command: set-up on a bare machine, lint, type-check, then every test (units,
# integration and end-to-end) against a real local control plane in a private network namespace,
# then the chart's journeys as pods on a real kubelet node.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh

echo "== lint and type-check"
pnpm run --silent lint
pnpm run --silent typecheck

echo "== control-plane binaries (cached under ~/.cache/trust-manager-ts)"
bash test/cluster/build-testbin.sh --node >/dev/null
# Upstream trust-manager v0.24.0 for the migration test (test/e2e/migration.test.ts).
bash test/cluster/build-upstream.sh >/dev/null

echo "== images (built outside the test network namespace; cached under ~/.cache/trust-manager-ts/images)"
TM_IMAGES_DIR="$(bash images/build.sh | tail -n 1)"
export TM_IMAGES_DIR

echo "== tests on the control plane"
# Files run one after another: test files that start a controller must not share the cluster with
# another controller (each reconciles every Bundle). All files of a phase share one control plane.
status=0
bash test/cluster/with-cluster.sh node --test --test-concurrency=1 --test-reporter=spec --test-timeout=600000 \
  "shared/src/**/*.test.ts" "controller/src/**/*.test.ts" "webhook/src/**/*.test.ts" "test/!(pods)/**/*.test.ts" "$@" || status=$?

echo "== tests as pods on a kubelet node (images built from the Dockerfile, cached)"
# The chart installs the Bundle CRD itself here (TM_INSTALL_CRD=0), as on a real cluster.
TM_NODE=1 TM_INSTALL_CRD=0 bash test/cluster/with-cluster.sh node --test --test-concurrency=1 --test-reporter=spec --test-timeout=900000 \
  "test/pods/**/*.test.ts" || status=$?
exit "$status"
