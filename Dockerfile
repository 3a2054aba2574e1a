# vmq-otel-sidecar: one per VerneMQ node, reached by the vmq_events_sidecar plugin over loopback.
# Build: docker build -t vmq-otel-sidecar .
#
# Node 24 (LTS, maintained until April 2028), the same major the suite runs on in CI and on
# machines whose Node is older (scripts/runtime.mjs installs 24.22.3): the image ships what the
# tests ran. Node 26 (the active LTS) passes the suite too; moving to it is this line and
# PINNED_NODE. OpenTelemetry JS 3.x needs Node 22.15 or newer (package.json engines).

FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY test ./test
COPY bench ./bench
COPY scripts ./scripts
COPY proto ./proto
RUN npx tsc -p . && npm prune --omit=dev

# The MQTT 5 companion plugin (plugin/vmq_events_sidecar_m5, docs/mqtt5.md), compiled with
# Debian's Erlang/OTP 25 (an OTP release loads the beams of the two before it, so the fork's OTP 27
# broker image too). The image only
# carries it; an init container copies it to where the broker loads plugins from.
FROM node:24.22.3-bookworm-slim AS plugin
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends erlang-base >/dev/null && rm -rf /var/lib/apt/lists/*
WORKDIR /plugin
COPY plugin/vmq_events_sidecar_m5 ./vmq_events_sidecar_m5
RUN rm -rf vmq_events_sidecar_m5/ebin && sh vmq_events_sidecar_m5/build.sh

FROM node:24.22.3-bookworm-slim
ENV NODE_ENV=production \
    VMQ_SIDECAR_LISTEN=127.0.0.1:8890 \
    VMQ_SIDECAR_ADMIN_LISTEN=0.0.0.0:9464
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist/src ./dist/src
COPY --from=build --chown=node:node /app/proto ./proto
COPY --from=plugin /plugin/vmq_events_sidecar_m5/ebin ./plugin/vmq_events_sidecar_m5/ebin
USER node
# 8890: the plugin's connections (keep it on loopback next to the broker); 9464: admin listener.
EXPOSE 8890 9464
# The health check runs apart from the sidecar and cannot see its flags: it asks /readyz at the
# admin listener's configured address, VMQ_SIDECAR_ADMIN_LISTEN (else OTEL_EXPORTER_PROMETHEUS_HOST/
# _PORT, else 127.0.0.1:9464; a wildcard address is asked on loopback), so set the admin address
# with a variable, not with --admin-listen. With the admin listener off there is nothing to ask: it passes.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "const e = process.env; const a = (e.VMQ_SIDECAR_ADMIN_LISTEN || '').trim(); if (a.toLowerCase() === 'off') process.exit(0); const m = /^\\[(.*)\\]:(\\d+)$/.exec(a) || /^(.*):(\\d+)$/.exec(a); let host = m ? m[1] : (e.OTEL_EXPORTER_PROMETHEUS_HOST || '127.0.0.1').trim(); const port = m ? m[2] : (e.OTEL_EXPORTER_PROMETHEUS_PORT || '9464').trim(); if (host === '' || host === '0.0.0.0') host = '127.0.0.1'; if (host === '::') host = '::1'; fetch('http://' + (host.includes(':') ? '[' + host + ']' : host) + ':' + port + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
# Node flags: src/cli/node-flags.ts says why.
ENTRYPOINT ["node", "--max-semi-space-size=2", "--no-concurrent-recompilation", "dist/src/cli/main.js"]
