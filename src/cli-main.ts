// The CLI behind the bin entry (cli.ts), which listens for stop signals before it loads this.
import type { Server } from 'node:http';
import { CommanderError, configErrorLine, parseConfig, type CliConfig } from './config.js';
import { resolveOtlpEndpoint } from './backends/otlp-endpoint.js';
import type { OtlpPush } from './backends/otlp-push.js';
import { SyncExporter } from './exporter.js';
import { createLogger, type Logger } from './logger.js';
import { stoppedBeforeStartLine, type Lifecycle } from './lifecycle.js';
import { boundPort, closeAllNow, closeServer, createApp, createRouter, listen } from './server.js';
import { createSource } from './sources/create.js';
import type { SyncSource } from './sources/source.js';
import { httpServerFactory, PLAIN_HTTP_DESCRIPTION } from './web/http-server.js';
import type { WebConfig } from './web/index.js';

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

/** A stop before the port listens: releasing what is open and abandoned steps (a store still opening) get this long together. */
const SETTLE_MS = 10_000;
/** After the grace period, releasing the source and the last OTLP push get this long before exit 1. */
const RELEASE_LIMIT_MS = 10_000;

/**
 * A stop signal before the port listens: releases what is open, and what abandoned start-up steps
 * still produce, all under one deadline. Exit 0 once released; 1 when something hung past the
 * deadline (the store may still be locked), as a shutdown that outlives its grace does.
 */
export async function stopBeforeListening(
  lifecycle: Lifecycle,
  logger: Logger,
  stop: { readonly signal: string; readonly step: string },
  release: () => Promise<void>,
  limitMs = SETTLE_MS,
): Promise<number> {
  logger.info(stop, `stop signal while ${stop.step}: releasing what is open`);
  lifecycle.track(release().catch((error: unknown) => logger.error({ err: error }, 'releasing failed')));
  if (!(await lifecycle.settle(limitMs))) {
    logger.error(`releasing what was open did not finish within ${limitMs / 1000}s; exiting`);
    return 1;
  }
  logger.info('stopped');
  return 0;
}

/** A stop before the logger exists, so before anything is open: one plain line on stderr, exit 0. */
function stoppedBeforeLogger(signal: string, step: string): number {
  process.stderr.write(`${stoppedBeforeStartLine(signal, step)}\n`);
  return 0;
}

/** Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad flags or configuration. */
export async function main(argv: readonly string[], lifecycle: Lifecycle): Promise<number> {
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

  // The web config stack (yaml, zod, bcrypt) and OpenTelemetry load only when the flags ask for them.
  let webModule: typeof import('./web/index.js') | undefined;
  let web: WebConfig | undefined;
  if (config.webConfigFile) {
    webModule = await import('./web/index.js');
    try {
      const loaded = await lifecycle.step(webModule.loadWebConfig(config.webConfigFile));
      if (loaded.stopped) return stoppedBeforeLogger(loaded.signal, 'reading the web config');
      web = loaded.value;
    } catch (error) {
      if (!(error instanceof webModule.WebConfigError)) throw error;
      process.stderr.write(`ditto-sync-exporter: ${error.message}\n`);
      return 2;
    }
  }

  // A stop that came while the CLI loaded but reached the lifecycle after cli.ts had handed over:
  // nothing has been opened yet, so nothing is.
  if (lifecycle.stopSignal) return stoppedBeforeLogger(lifecycle.stopSignal, 'loading');

  const logger = createLogger(config.logLevel);
  for (const warning of config.warnings) logger.warn(warning);

  const stopBeforeServing = (signal: string, step: string, release: () => Promise<void>) => stopBeforeListening(lifecycle, logger, { signal, step }, release);

  let source: SyncSource;
  let engineMetricsUrl: string | undefined;
  try {
    logger.debug({ source: config.source }, 'opening the source');
    const opened = await lifecycle.step(createSource(config, logger), (late) => late.source.close());
    if (opened.stopped) return stopBeforeServing(opened.signal, 'opening the source', async () => {});
    ({ source, engineMetricsUrl } = opened.value);
  } catch (error) {
    const line = dittoConfigErrorLine(error);
    if (line !== undefined) {
      process.stderr.write(`ditto-sync-exporter: ${line}\n`);
      return 2;
    }
    if (error instanceof Error && (error.name === 'DittoEnvironmentError' || error.name === 'DittoSdkError')) {
      process.stderr.write(`ditto-sync-exporter: ${error.message}\n`);
      return 1;
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
  try {
    // A --replay or --record FIFO waits here for its other end; a stop signal must not.
    logger.debug('starting the source');
    const started = await lifecycle.step(exporter.start());
    if (started.stopped) return stopBeforeServing(started.signal, 'starting the source', () => exporter.close());
    if (otlpEndpoint) {
      const { startOtlpPush } = await import('./backends/otlp-push.js');
      push = startOtlpPush({ target: exporter, endpoint: otlpEndpoint, intervalMs: config.otlpInterval * 1000, serviceInstanceId: source.localPeerId, logger });
      logger.info({ endpoint: push.endpoint, intervalSeconds: config.otlpInterval }, 'pushing metrics over OTLP/HTTP');
    }
    const router = createRouter(exporter, logger, { maxConcurrentScrapes: config.maxConcurrentScrapes, scrapeSendTimeout: config.scrapeSendTimeout });
    const app = createApp(webModule ? webModule.secureRouter(router, web, { logger, stats: exporter.http }) : router, logger);
    const listening = await lifecycle.step(
      listen(app, {
        host: config.listen.host,
        port: config.listen.port,
        maxConnections: config.maxConnections,
        stats: exporter.http,
        // Also without a web config: it enforces the slow-client timeouts promptly.
        createServer: webModule ? webModule.createServerFactory(web?.tls, { logger }) : httpServerFactory({ logger }),
      }),
      (late) => closeServer(late, 0),
    );
    if (listening.stopped) {
      const openPush = push;
      return stopBeforeServing(listening.signal, 'binding the port', async () => {
        await openPush?.shutdown();
        await exporter.close();
      });
    }
    server = listening.value;
  } catch (error) {
    logger.error({ err: error }, `cannot start: ${error instanceof Error ? error.message : String(error)}`);
    await push?.shutdown().catch(() => {});
    await exporter.close().catch(() => {});
    return 1;
  }
  logger.info(
    {
      source: source.kind,
      backend: config.backend,
      address: `${config.listen.host ?? '*'}:${boundPort(server)}`,
      web: webModule ? webModule.describeWebConfig(web) : PLAIN_HTTP_DESCRIPTION,
      engineMetrics: engineMetricsUrl,
      publishHealth: config.publishHealth,
    },
    'serving /metrics',
  );

  const signal = await lifecycle.stopped;
  const graceMs = config.shutdownGrace * 1000;
  logger.info({ signal, graceSeconds: config.shutdownGrace }, 'shutting down');
  const serving = server;
  lifecycle.onRepeat((again) => {
    logger.warn({ signal: again }, 'stop signal during shutdown: closing every connection now');
    closeAllNow(serving);
  });
  // Shutdown is bounded whatever hangs: past the grace and the release limit, exit 1.
  const deadline = setTimeout(() => {
    logger.error(`shutdown did not finish within ${config.shutdownGrace}s + ${RELEASE_LIMIT_MS / 1000}s; exiting`);
    process.exit(1);
  }, graceMs + RELEASE_LIMIT_MS);
  deadline.unref();
  await closeServer(server, graceMs);
  // One last push before the source goes away.
  await push?.shutdown().catch((error: unknown) => logger.error({ err: error }, 'the last OTLP push failed'));
  await exporter.close();
  clearTimeout(deadline);
  logger.info('stopped');
  return 0;
}
