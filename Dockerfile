# syntax=docker/dockerfile:1.7
# One file, two images (BuildKit):
#
#   docker build -t trust-manager .
#       The operator image: the controller and the webhook, two entrypoints in one image.
#         node --max-semi-space-size=2 /app/controller/src/main.ts [flags]   (the default command;
#                                                     the V8 flag: controller/src/node-flags.ts)
#         node /app/webhook/src/main.ts [flags]
#
#   docker build --target trust-pkg-debian -t trust-pkg-debian-trixie:<version tag> .
#       The default CA package image (a drop-in for quay.io/jetstack/trust-pkg-debian-trixie):
#       /debian-package/cert-manager-package-debian.json and the copier entrypoint
#       (`[--wait] <in> <out>`, or the deprecated `/copyandmaybepause <in> <out>`).
#       Its tag is the package version with "+" and "~" replaced by "-" (printed by make-package.ts).
#
# Both run as uid/gid 65532 and work with a read-only root filesystem.

ARG NODE_IMAGE=docker.io/library/node:24-trixie-slim
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
# Operator: production dependencies and sources, laid out as the pnpm workspace.
#
# Not `pnpm deploy`: it copies the workspace packages (@trust-manager/shared) into node_modules,
# and Node refuses to strip types from .ts files under node_modules
# (ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING). A filtered production install of the workspace
# keeps them where they are (symlinked), with only production dependencies in node_modules.
FROM ${NODE_IMAGE} AS build
ARG PNPM_VERSION=10.34.9
RUN npm install --global --no-audit --no-fund --loglevel=error "pnpm@${PNPM_VERSION}"
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY shared/package.json shared/
COPY controller/package.json controller/
COPY webhook/package.json webhook/
COPY test/package.json test/
RUN pnpm install --frozen-lockfile --prod --filter "@trust-manager/controller..." --filter "@trust-manager/webhook..."
COPY shared/src shared/src
COPY controller/src controller/src
COPY webhook/src webhook/src
# Tests, benchmarks and test helpers stay out of the image.
RUN find shared/src controller/src webhook/src \( -name '*.test.ts' -o -name '*.bench.ts' \) -type f -delete \
 && find shared/src controller/src webhook/src -type d -name testing -prune -exec rm -rf {} + \
 && rm -rf test

FROM ${NODE_IMAGE} AS trust-manager
# Nothing but node runs here: drop the package managers the base image ships.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
USER 65532:65532
ENTRYPOINT ["node"]
CMD ["--max-semi-space-size=2", "/app/controller/src/main.ts"]
LABEL org.opencontainers.image.title="trust-manager" \
      org.opencontainers.image.description="trust-manager (TypeScript): Bundle controller and validating webhook" \
      org.opencontainers.image.licenses="Apache-2.0"
