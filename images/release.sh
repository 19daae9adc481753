#!/usr/bin/env bash
# Pushes this project's two images to a registry and prints the `helm install` line that runs them.
#
#   bash images/release.sh [--dry-run] [--insecure] <registry>[/<namespace>]
#
#   e.g. bash images/release.sh ghcr.io/my-org
#        -> ghcr.io/my-org/trust-manager:<appVersion>
#           ghcr.io/my-org/trust-pkg-debian-trixie:<package version>
#
# Builds them first (images/build.sh, cached), then copies each OCI archive with skopeo, tags and
# names as the chart composes them (images/chart-images.ts). Registry credentials: skopeo's usual
# auth file (`skopeo login <registry>`, or REGISTRY_AUTH_FILE). --insecure: plain HTTP or an
# untrusted certificate (a local registry). --dry-run: print the copies instead of running them.
# The last stdout line is the helm command; everything else goes to stderr.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage() { echo "usage: $0 [--dry-run] [--insecure] <registry>[/<namespace>]" >&2; exit 2; }

dry_run=false
tls_verify=true
while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) dry_run=true ;;
    --insecure) tls_verify=false ;;
    -h | --help) usage ;;
    -*) echo "unknown flag $1" >&2; usage ;;
    *) break ;;
  esac
  shift
done
[ $# -eq 1 ] || usage
destination="${1%/}"
[[ "$destination" =~ ^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*$ ]] || { echo "not a registry path: $1" >&2; exit 2; }
registry="${destination%%/*}"
namespace=""
[ "$registry" = "$destination" ] || namespace="${destination#*/}"

dir="$(bash "$REPO/images/build.sh" | tail -n 1)"
field() { node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]][process.argv[3]])' "$dir/images.json" "$1" "$2"; }

for image in operator package; do
  ref="$(field "$image" ref)"
  name_tag="${ref##*/}"                          # <name>:<tag>
  target="$destination/$name_tag"
  copy=(skopeo copy --dest-tls-verify="$tls_verify" "oci-archive:$(field "$image" archive)" "docker://$target")
  if $dry_run; then
    echo "${copy[*]}" >&2
  else
    echo "pushing $target" >&2
    "${copy[@]}" >&2
  fi
done

echo "helm upgrade --install trust-manager $REPO/charts/trust-manager --namespace cert-manager --create-namespace --set imageRegistry=$registry --set imageNamespace=$namespace"
