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
# @dittolive/ditto is an optional peer dependency (a devDependency here, pinned by the lockfile), so
# pruning the dev tools would drop it: set it aside and put it back, for --source ditto. It has no
# dependencies of its own.
RUN npm run build \
 && mv node_modules/@dittolive/ditto /tmp/ditto-sdk \
 && npm prune --omit=dev \
 && mkdir -p node_modules/@dittolive \
 && mv /tmp/ditto-sdk node_modules/@dittolive/ditto \
 && node -e "require('@dittolive/ditto')"

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
