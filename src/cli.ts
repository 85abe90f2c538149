#!/usr/bin/env node
import type { Server } from 'node:http';
import { CommanderError, configErrorLine, parseConfig, type CliConfig } from './config.js';
import { resolveOtlpEndpoint, startOtlpPush, type OtlpPush } from './backends/otlp-push.js';
import { SyncExporter } from './exporter.js';
import { createLogger } from './logger.js';
import { boundPort, closeServer, createApp, createRouter, listen } from './server.js';
import { createSource } from './sources/create.js';
import type { SyncSource } from './sources/source.js';
import { createServerFactory, describeWebConfig, loadWebConfig, secureRouter, WebConfigError, type WebConfig } from './web/index.js';

/** The flag behind each Ditto config key, for a one-line error naming what the user typed. */
const DITTO_FLAGS: Readonly<Record<string, string>> = {
  databaseId: '--database-id',
  persistenceDir: '--persistence-dir',
  offlineLicenseToken: '--offline-license-token',
  serverUrl: '--server-url',
  authToken: '--auth-token',
  authProvider: '--auth-provider',
  tcpListen: '--tcp-listen',
  tcpConnect: '--tcp-connect',
  logLevel: '--ditto-log-level',
  engineMetrics: '--ditto-engine-metrics',
};

/** openDitto's DittoConfigError or EngineExporterEnvError (matched by name: the SDK module is loaded lazily). */
function dittoConfigErrorLine(error: unknown): string | undefined {
  if (error instanceof Error && error.name === 'EngineExporterEnvError') return error.message;
  if (!(error instanceof Error) || error.name !== 'DittoConfigError') return undefined;
  const field = (error as Error & { field?: string }).field ?? '';
  const flag = DITTO_FLAGS[field];
  return flag ? `${flag}${error.message.slice(field.length)}` : error.message;
}

/** Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad flags or configuration. */
async function main(argv: readonly string[]): Promise<number> {
  let config: CliConfig;
  try {
    config = parseConfig(argv);
  } catch (error) {
    // --help: commander already printed it.
    if (error instanceof CommanderError && error.exitCode === 0) return 0;
    const line = configErrorLine(error);
    if (line === undefined) throw error;
    process.stderr.write(`ditto-sync-exporter: ${line}\n`);
    return 2;
  }

  let otlpEndpoint: string | undefined;
  try {
    otlpEndpoint = resolveOtlpEndpoint(config.otlpEndpoint);
  } catch (error) {
    process.stderr.write(`ditto-sync-exporter: ${(error as Error).message}\n`);
    return 2;
  }

  let web: WebConfig | undefined;
  if (config.webConfigFile) {
    try {
      web = await loadWebConfig(config.webConfigFile);
    } catch (error) {
      if (!(error instanceof WebConfigError)) throw error;
      process.stderr.write(`ditto-sync-exporter: ${error.message}\n`);
      return 2;
    }
  }

  const logger = createLogger(config.logLevel);
  let source: SyncSource;
  let engineMetricsUrl: string | undefined;
  try {
    ({ source, engineMetricsUrl } = await createSource(config, logger));
  } catch (error) {
    const line = dittoConfigErrorLine(error);
    if (line !== undefined) {
      process.stderr.write(`ditto-sync-exporter: ${line}\n`);
      return 2;
    }
    logger.error({ err: error }, `cannot open the source: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const exporter = new SyncExporter(source, {
    // prom-client's process metrics live in its registry; the otel backend serves only its own.
    collectDefaultMetrics: config.backend === 'prom-client' && config.processMetrics,
    maxPeers: config.maxPeers,
    maxTrackedCommits: config.maxTrackedCommits,
    maxSnapshotAge: config.maxSnapshotAge,
    refreshTimeout: config.refreshTimeout,
    stallAfter: config.stallAfter,
    peerIdLabel: config.peerIdLabel,
    peerDeviceName: config.peerDeviceName,
    peerIdHashKey: config.peerIdHashKey,
    backend: config.backend,
    engineMetrics: engineMetricsUrl === undefined ? undefined : { url: engineMetricsUrl },
    publishHealth: config.publishHealth,
    publishInterval: config.publishInterval,
    logger,
  });

  let server: Server | undefined;
  let push: OtlpPush | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      logger.info({ signal }, 'shutting down');
      if (server) await closeServer(server);
      // One last push before the source goes away.
      await push?.shutdown();
      await exporter.close();
      logger.info('stopped');
    })();
    return stopping;
  };

  try {
    await exporter.start();
    if (otlpEndpoint) {
      push = startOtlpPush({ target: exporter, endpoint: otlpEndpoint, intervalMs: config.otlpInterval * 1000, serviceInstanceId: source.localPeerId, logger });
      logger.info({ endpoint: push.endpoint, intervalSeconds: config.otlpInterval }, 'pushing metrics over OTLP/HTTP');
    }
    const app = createApp(secureRouter(createRouter(exporter, logger), web, { logger }), logger);
    server = await listen(app, {
      host: config.listen.host,
      port: config.listen.port,
      // Also without a web config: it enforces the slow-client timeouts promptly.
      createServer: createServerFactory(web?.tls, { logger }),
    });
  } catch (error) {
    logger.error({ err: error }, `cannot start: ${error instanceof Error ? error.message : String(error)}`);
    await push?.shutdown().catch(() => {});
    await exporter.close().catch(() => {});
    return 1;
  }
  logger.info(
    { source: source.kind, backend: config.backend, address: `${config.listen.host}:${boundPort(server)}`, web: describeWebConfig(web), engineMetrics: engineMetricsUrl, publishHealth: config.publishHealth },
    'serving /metrics',
  );

  await new Promise<void>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => void stop(signal).then(resolve, resolve));
    }
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`ditto-sync-exporter: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
