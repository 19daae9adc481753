# syntax=docker/dockerfile:1.7
# One file, two images (BuildKit, buildah or podman; docs/images.md):
#
#   docker build -t trust-manager .
#       The operator image: the controller and the webhook, two entrypoints in one image, compiled
#       to JavaScript (scripts/build.ts) on a distroless Node 24 base: no shell, no package manager.
#         /nodejs/bin/node --max-semi-space-size=1 --optimize-for-size --no-maglev --no-turbofan --no-sparkplug \
#                          /app/controller.js [flags]
#                                   (the default command; the V8 flags: controller/src/node-flags.ts)
#         /nodejs/bin/node /app/webhook.js [flags]
#
#   docker build --target trust-pkg-debian -t trust-pkg-debian-trixie:<version tag> .
#       The default CA package image (a drop-in for quay.io/jetstack/trust-pkg-debian-trixie):
#       /debian-package/cert-manager-package-debian.json and the copier entrypoint
#       (`[--wait] <in> <out>`, or the deprecated `/copyandmaybepause <in> <out>`).
#       Its tag is the package version with "+" and "~" replaced by "-" (printed by make-package.ts).
#
# Both run as uid/gid 65532 and work with a read-only root filesystem.
#
# Behind a TLS-intercepting proxy, give npm the proxy's CA as a build secret; it is mounted only
# while npm/pnpm run and never stored in a layer:
#   docker build --secret id=build-ca,src=/path/to/proxy-ca.pem .

# The build stages: Debian with Node 24 and npm.
ARG NODE_IMAGE=docker.io/library/node:24-trixie-slim
# The operator's runtime: node at /nodejs/bin/node, glibc, CA certificates, nothing else.
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian13
# The package image's runtime: a static busybox (the copier is a POSIX sh script).
ARG PACKAGE_BASE_IMAGE=docker.io/library/busybox:1.37-musl

# ---------------------------------------------------------------------------------------------
# Default CA package: Debian's ca-certificates bundle as a trust-manager package JSON.
FROM ${NODE_IMAGE} AS debian-package
# Pin the Debian package version (e.g. 20250419) to rebuild a release; empty = what the release ships.
ARG CA_CERTIFICATES_VERSION=
# The <n> of "<ca-certificates version>.<n>": bump it to re-release the same Debian version.
ARG PACKAGE_REVISION=1
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "ca-certificates${CA_CERTIFICATES_VERSION:+=${CA_CERTIFICATES_VERSION}}" \
 && rm -rf /var/lib/apt/lists/*
COPY images/package/make-package.ts /build/make-package.ts
RUN node /build/make-package.ts --revision "${PACKAGE_REVISION}" --expected-version "${CA_CERTIFICATES_VERSION}" \
      --out /debian-package/cert-manager-package-debian.json

FROM ${PACKAGE_BASE_IMAGE} AS trust-pkg-debian
COPY --from=debian-package --chmod=0444 /debian-package/cert-manager-package-debian.json /debian-package/cert-manager-package-debian.json
COPY --chmod=0555 images/package/copier.sh /copier
COPY --chmod=0555 images/package/copier.sh /copyandmaybepause
USER 65532:65532
ENTRYPOINT ["/copier"]
CMD ["/debian-package", "/packages"]

# ---------------------------------------------------------------------------------------------
# Operator: the workspace's dependencies (build tools included), then `pnpm build`'s bundler run
# on the sources: /app holds the compiled entrypoints and their lazily loaded chunks, and nothing
# of node_modules, tests or TypeScript sources (a bundle holds only what the entrypoints import).
FROM ${NODE_IMAGE} AS build
ARG PNPM_VERSION=10.34.9
RUN --mount=type=secret,id=build-ca \
    NODE_EXTRA_CA_CERTS=/run/secrets/build-ca npm install --global --no-audit --no-fund --loglevel=error "pnpm@${PNPM_VERSION}"
WORKDIR /src
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY shared/package.json shared/
COPY controller/package.json controller/
COPY webhook/package.json webhook/
COPY test/package.json test/
RUN --mount=type=secret,id=build-ca \
    NODE_EXTRA_CA_CERTS=/run/secrets/build-ca pnpm install --frozen-lockfile --filter "trust-manager-ts" --filter "@trust-manager/controller..." --filter "@trust-manager/webhook..."
COPY tsconfig.json tsconfig.base.json ./
COPY scripts/build.ts scripts/
COPY shared/src shared/src
COPY controller/src controller/src
COPY webhook/src webhook/src
RUN node scripts/build.ts --outdir /app \
 && mkdir /compile-cache

# V8's code cache of both entrypoints, made by the runtime image's own node, as the image's user and
# with the chart's V8 flags: all three key the cache, and a process started otherwise ignores it.
# Starting from it skips compiling the bundles: ready 18-50 ms (about 8 %) sooner (docs/performance.md).
# A stage of its own, so that what RUN leaves behind (/etc/hosts and the like) stays out of the image.
FROM ${RUNTIME_IMAGE} AS code-cache
COPY --from=build /app /app
COPY --from=build --chown=65532:65532 /compile-cache /app/compile-cache
USER 65532:65532
ENV NODE_COMPILE_CACHE=/app/compile-cache
RUN ["/nodejs/bin/node", "--max-semi-space-size=1", "--optimize-for-size", "--no-maglev", "--no-turbofan", "--no-sparkplug", "/app/controller.js", "--help"]
RUN ["/nodejs/bin/node", "--max-semi-space-size=1", "--optimize-for-size", "/app/webhook.js", "--help"]

FROM ${RUNTIME_IMAGE} AS trust-manager
ENV NODE_ENV=production
# glibc hands large freed blocks back to the system (GLIBC_TUNABLES in controller/src/node-flags.ts).
ENV GLIBC_TUNABLES=glibc.malloc.mmap_threshold=16384:glibc.malloc.trim_threshold=65536
# Read only at run time (read-only root filesystem): nothing is written there.
ENV NODE_COMPILE_CACHE=/app/compile-cache
WORKDIR /app
COPY --from=build /app /app
COPY --from=code-cache --chown=65532:65532 /app/compile-cache /app/compile-cache
USER 65532:65532
# The distroless image's own entrypoint, stated here so that the chart's command matches it.
ENTRYPOINT ["/nodejs/bin/node"]
CMD ["--max-semi-space-size=1", "--optimize-for-size", "--no-maglev", "--no-turbofan", "--no-sparkplug", "/app/controller.js"]
LABEL org.opencontainers.image.title="trust-manager" \
      org.opencontainers.image.description="trust-manager (TypeScript): Bundle controller and validating webhook" \
      org.opencontainers.image.licenses="Apache-2.0"
