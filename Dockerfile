# ditto-sync-exporter: the CLI on Node 20. docker-compose.yml builds it and runs the simulated mesh;
# set DITTO_EXPORTER_SOURCE=ditto (and the DITTO_EXPORTER_* license or server settings) for a real
# peer, whose store is kept in the volume /app/data; the compose profile "fleet" runs it as a fleet exporter.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here; nothing else needs a script.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# Only settings every source uses: a variable for one source makes the others warn at start.
ENV NODE_ENV=production \
    DITTO_EXPORTER_LISTEN=:9730
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# --persistence-dir defaults to ./data/ditto: from this WORKDIR the Ditto store (--source ditto)
# lives in the volume /app/data, with no variable to set.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME /app/data
EXPOSE 9730
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9730/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/cli.js"]
