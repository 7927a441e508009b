# pullgate: the node-level image-pull gate. Multi-stage: dependencies are installed in a build stage and only
# production node_modules and the sources reach the final image. Node 24 runs the TypeScript sources directly
# (type stripping), so there is no compile step and no source maps to ship.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=dev drops tap, typescript and the npm `node` binary package (the base image already is Node 24).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim
LABEL org.opencontainers.image.title="pullgate" \
      org.opencontainers.image.description="OCI registry mirror for containerd that serves only Notation-verified manifests" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY cli ./cli
COPY config ./config
COPY policy ./policy
COPY proxy ./proxy
# The node user (uid 1000) exists in the official image; the gate needs no privileges of its own. The
# hosts.toml installer init container is the only part that writes to the host (see daemonset/).
USER 1000:1000
ENV NODE_ENV=production
EXPOSE 5050 9050
ENTRYPOINT ["node", "/app/bin/pullgate.ts"]
CMD ["serve", "--config", "/etc/pullgate/config.yaml"]
