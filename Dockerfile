# pullgate: the node-level image-pull gate (daemonset/ runs it as `serve`, `hosts` and `webhook`).
# The image runs the bundle (`npm run build` → dist/pullgate.mjs: plain JavaScript, every dependency inside),
# not the TypeScript sources: type stripping at start-up and ~600 separately loaded modules cost ~50 MiB of
# RSS per node and seconds of start-up on a busy node (README § Footprint; bench/footprint.ts measures both).
# Pin both stages by digest in your build (docker build --build-arg NODE_IMAGE=node:24-bookworm-slim@sha256:…).
ARG NODE_IMAGE=node:24-bookworm-slim

# Stage 1: build. All dependencies (esbuild is a devDependency; its binary comes in the matching optional
# @esbuild/<platform> package, so --ignore-scripts runs no install scripts), then the sources, then the bundle.
# `node scripts/build.ts` rather than `npm run build`: npm would put the npm `node` package (not installed
# without its scripts) first on PATH; the base image's Node 24 is the one to use.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY scripts ./scripts
COPY bin ./bin
COPY cli ./cli
COPY config ./config
COPY policy ./policy
COPY proxy ./proxy
COPY webhook ./webhook
COPY node ./node
COPY pki ./pki
COPY oci ./oci
COPY registry ./registry
COPY telemetry ./telemetry
COPY errors ./errors
COPY verifiers ./verifiers
RUN node scripts/build.ts

# Stage 2: the runtime. Same base (glibc, Node 24) minus the package managers, which the gate never uses:
# less to scan, less to exploit, ~20 MB smaller. No node_modules: the bundle imports only Node built-ins.
FROM ${NODE_IMAGE}
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
LABEL org.opencontainers.image.title="pullgate" \
      org.opencontainers.image.description="OCI registry mirror for containerd that serves only Notation-verified manifests" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
# Owned by root and read-only to the runtime user: the gate cannot modify its own code. package.json sits one
# level above the bundle, where `pullgate --version` reads it.
COPY --from=build /app/dist ./dist
COPY package.json ./
# Numeric, so kubelet can check runAsNonRoot. The `node` user of the official image; daemonset/ runs only the
# hosts.toml init container as root (certs.d on the host belongs to root).
USER 1000:1000
ENV NODE_ENV=production
# IMAGE_ENV in scripts/build.ts: glibc returns the blob splicer's freed 256 KiB slots (measured there).
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072
EXPOSE 5050 8443 9050
# --max-semi-space-size=1: IMAGE_NODE_FLAGS in scripts/build.ts (a small young generation; measured there).
ENTRYPOINT ["node", "--max-semi-space-size=1", "/app/dist/pullgate.mjs"]
CMD ["serve", "--config", "/etc/pullgate/config/config.yaml"]
