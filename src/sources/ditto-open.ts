import { mkdirSync, statfsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Authenticator, Ditto, DittoConfig, Logger as DittoLogger, type LogLevel as DittoLogLevel } from '@dittolive/ditto';
import type { Logger } from '../logger.js';
import { assertEngineExporterSafe, configureEngineExporter, freeLoopbackPort, type LoopbackListener } from './engine-exporter-env.js';
import { portOwner } from './socket-owner.js';

import { DITTO_LOG_LEVELS, type DittoLogLevelName } from './ditto-log-levels.js';

export { DITTO_LOG_LEVELS, type DittoLogLevelName };

export const DEFAULT_PERSISTENCE_DIR = './data/ditto';

const SDK_LOG_LEVEL: Readonly<Record<DittoLogLevelName, DittoLogLevel>> = {
  error: 'Error',
  warning: 'Warning',
  info: 'Info',
  debug: 'Debug',
  verbose: 'Verbose',
};

/** How the CLI opens its own Ditto store. */
export interface DittoOpenConfig {
  /** Database (app) id from the Ditto portal; default DittoConfig.DEFAULT_DATABASE_ID (all zeros). */
  readonly databaseId?: string;
  /** Relative paths are resolved against the working directory (default ./data/ditto). */
  readonly persistenceDir?: string;
  /** Activates peer-to-peer sync (smallPeersOnly mode). */
  readonly offlineLicenseToken?: string;
  /** Ditto server (Big Peer) auth URL, https://…; switches to server mode. */
  readonly serverUrl?: string;
  readonly authToken?: string;
  /** Authentication provider name; default Ditto's development provider (for development tokens). */
  readonly authProvider?: string;
  /** Accept peer TCP connections on HOST:PORT. */
  readonly tcpListen?: string;
  /** Peers to connect to over TCP, each HOST:PORT. */
  readonly tcpConnect?: readonly string[];
  /** Ditto's own log level (global to the process), default warning. */
  readonly logLevel?: DittoLogLevelName;
  /** Keep the SDK's automatic peer-to-peer transports (LAN discovery, Bluetooth LE); default true. */
  readonly peerToPeer?: boolean;
  /**
   * Start Ditto's own Prometheus exporter on a free loopback port (process-wide environment
   * variables, docs/engine-metrics.md). Without it, an environment that would start the exporter
   * beyond loopback is refused either way.
   */
  readonly engineMetrics?: boolean;
}

/** Free space the store's filesystem must have: the SDK aborts the process (exit 134) on a full disk. */
export const MIN_FREE_BYTES = 16 * 1024 * 1024;
/** Free inodes it must have: SQLite creates journal files as it opens. */
export const MIN_FREE_INODES = 64;

/** What the free-space check reads; `fs.statfsSync` by default, replaced in tests. */
export type FilesystemStats = (dir: string) => { readonly bavail: number; readonly bsize: number; readonly files: number; readonly ffree: number };

export interface OpenDittoHooks {
  readonly statfs?: FilesystemStats;
}

export interface OpenedDitto {
  readonly ditto: Ditto;
  readonly syncStarted: boolean;
  /** Where Ditto's engine exporter serves, with `engineMetrics`. */
  readonly engineMetricsUrl?: string;
}

/** A configuration the CLI must refuse (exit 2); `field` names the config key at fault. */
export class DittoConfigError extends Error {
  constructor(
    readonly field: keyof DittoOpenConfig,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'DittoConfigError';
  }
}

/**
 * The machine cannot host the store as configured (a full disk): the CLI prints the message on one
 * line and exits 1, instead of letting the SDK abort the process.
 */
export class DittoEnvironmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DittoEnvironmentError';
  }
}

/** The one line logged when sync cannot start; names the CLI's flags and their environment twins. */
export const SYNC_NOT_ACTIVATED_MESSAGE =
  'Ditto sync is not activated: the store is open and /metrics is served, but no peer will connect. ' +
  'Activate it with --offline-license-token (or DITTO_EXPORTER_OFFLINE_LICENSE_TOKEN) for peer-to-peer sync, ' +
  'or --server-url with --auth-token (DITTO_EXPORTER_SERVER_URL, DITTO_EXPORTER_AUTH_TOKEN) for a Ditto server.';

interface Plan {
  readonly databaseId: string;
  readonly persistenceDir: string;
  readonly server: { url: string; token: string; provider: string } | undefined;
  readonly licenseToken: string | undefined;
  readonly listen: { host: string; port: number } | undefined;
  readonly connect: readonly string[];
  readonly logLevel: DittoLogLevel;
  readonly peerToPeer: boolean;
}

/**
 * Opens the CLI's Ditto store and starts sync when it can. Without a license or server it still
 * returns the open store (logging one warning); a bad configuration is a DittoConfigError and
 * leaves nothing open.
 */
export async function openDitto(config: DittoOpenConfig, logger?: Logger, hooks: OpenDittoHooks = {}): Promise<OpenedDitto> {
  const plan = validate(config);
  DittoLogger.minimumLogLevel = plan.logLevel;
  try {
    mkdirSync(plan.persistenceDir, { recursive: true });
  } catch (error) {
    throw new DittoConfigError('persistenceDir', `cannot create ${plan.persistenceDir}: ${messageOf(error)}`);
  }
  checkFreeSpace(plan.persistenceDir, hooks.statfs ?? statfsSync);
  const connect = plan.server ? { mode: 'server' as const, url: plan.server.url } : { mode: 'smallPeersOnly' as const };
  const port = config.engineMetrics ? await freeLoopbackPort() : 0;
  // Checked and set in the same synchronous stretch as the open below, which reads the variables.
  const engine = config.engineMetrics ? configureEngineExporter(process.env, port) : undefined;
  if (!engine) warnOfEnvironmentExporter(assertEngineExporterSafe(process.env), logger);
  let ditto: Ditto;
  try {
    ditto = await withoutExporterVariables(() => Ditto.open(new DittoConfig(plan.databaseId, connect, plan.persistenceDir)));
  } catch (error) {
    throw new Error(`could not open the Ditto store in ${plan.persistenceDir}: ${messageOf(error)}`, { cause: error });
  }
  try {
    if (engine) await checkEngineListener(engine, logger);
    applyTransports(ditto, plan);
    const syncStarted = await activateAndStart(ditto, plan, logger);
    return { ditto, syncStarted, engineMetricsUrl: engine?.url.href };
  } catch (error) {
    await ditto.close().catch(() => undefined);
    throw error;
  }
}

/** The exporter's own environment twins; the CLI has read them before it opens Ditto. */
const EXPORTER_VARIABLE = /^DITTO_EXPORTER_/;

/**
 * Ditto reads every `DITTO_*` variable as a system parameter when it opens (`DITTO_EXPORTER_SOURCE`
 * becomes `exporter_source`), warns about each it does not know, and would apply one it does if
 * Ditto ever names a parameter `exporter_…`. The exporter's twins are hidden from it while it
 * opens, and put back afterwards.
 */
export async function withoutExporterVariables<T>(open: () => Promise<T>, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const hidden = Object.entries(env).filter(([name]) => EXPORTER_VARIABLE.test(name));
  for (const [name] of hidden) delete env[name];
  try {
    return await open();
  } finally {
    for (const [name, value] of hidden) if (env[name] === undefined) env[name] = value;
  }
}

function warnOfEnvironmentExporter(setting: ReturnType<typeof assertEngineExporterSafe>, logger: Logger | undefined): void {
  if (setting.kind !== 'loopback') return;
  logger?.info({ address: `${setting.host}:${setting.port}` }, "Ditto's engine exporter is enabled by the environment on loopback; its metrics are not merged into /metrics (use --ditto-engine-metrics for that)");
}

/**
 * The engine port was free when chosen, but another process could have bound it before Ditto did
 * (Ditto then logs a warning and serves nothing): never read metrics from a listener that is not
 * this process's.
 */
async function checkEngineListener(engine: LoopbackListener, logger: Logger | undefined): Promise<void> {
  const owner = await portOwner(engine.host, engine.port);
  if (owner === 'self') return;
  if (owner === 'unknown') {
    logger?.debug({ port: engine.port }, "cannot tell who listens on the engine port (no /proc here); trusting it is Ditto's");
    return;
  }
  throw new Error(
    owner === 'other'
      ? `Ditto's engine exporter could not bind ${engine.host}:${engine.port}: another process listens there. Start again (a new free port is chosen) or set a free loopback port in DITTO_METRICS_EXPORTER_PROMETHEUS_HTTP_LISTENER_ADDR`
      : `Ditto's engine exporter is not listening on ${engine.host}:${engine.port} after Ditto.open (see Ditto's log above)`,
  );
}

/**
 * The SDK panics and aborts the whole process (exit 134, a Rust backtrace) when SQLite finds the
 * disk full while the store opens, so a full disk is refused before handing over.
 */
export function checkFreeSpace(dir: string, statfs: FilesystemStats): void {
  let stats;
  try {
    stats = statfs(dir);
  } catch {
    return; // No statfs here: the SDK gets its chance.
  }
  const free = stats.bavail * stats.bsize;
  if (free < MIN_FREE_BYTES) {
    throw new DittoEnvironmentError(
      `--persistence-dir ${dir}: its filesystem has ${formatBytes(free)} free; the Ditto store needs at least ${formatBytes(MIN_FREE_BYTES)} (the SDK aborts the process on a full disk)`,
    );
  }
  // Filesystems without inode counts (btrfs, some overlays) report 0 files.
  if (stats.files > 0 && stats.ffree < MIN_FREE_INODES) {
    throw new DittoEnvironmentError(`--persistence-dir ${dir}: its filesystem has ${stats.ffree} free inodes; the Ditto store needs at least ${MIN_FREE_INODES}`);
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.max(0, Math.round(bytes / 1024))} KiB`;
}

function validate(config: DittoOpenConfig): Plan {
  const databaseId = config.databaseId ?? DittoConfig.DEFAULT_DATABASE_ID;
  // The SDK puts the id into a certificate as an ASCII string and panics (aborting the process)
  // on anything else, so only visible ASCII is handed over.
  if (typeof databaseId !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(databaseId)) {
    throw new DittoConfigError('databaseId', `expected the database id from the Ditto portal (1-256 visible ASCII characters), got ${JSON.stringify(databaseId)}`);
  }
  const dir = config.persistenceDir ?? DEFAULT_PERSISTENCE_DIR;
  if (typeof dir !== 'string' || dir.trim() === '') throw new DittoConfigError('persistenceDir', 'must be a non-empty path');

  const licenseToken = optionalString(config.offlineLicenseToken, 'offlineLicenseToken');
  const serverUrl = optionalString(config.serverUrl, 'serverUrl');
  const authToken = optionalString(config.authToken, 'authToken');
  const authProvider = optionalString(config.authProvider, 'authProvider');
  if (serverUrl && licenseToken) {
    throw new DittoConfigError('offlineLicenseToken', 'an offline license token is for peer-to-peer mode; do not combine it with serverUrl');
  }
  if (serverUrl && !authToken) throw new DittoConfigError('authToken', 'serverUrl needs an auth token to log in with');
  if (!serverUrl && authToken) throw new DittoConfigError('serverUrl', 'an auth token needs the server URL to log in to');
  if (!serverUrl && authProvider) throw new DittoConfigError('serverUrl', 'an auth provider needs the server URL to log in to');

  const logLevel = config.logLevel ?? 'warning';
  if (!DITTO_LOG_LEVELS.includes(logLevel)) {
    throw new DittoConfigError('logLevel', `expected one of ${DITTO_LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  }
  const tcpConnect = config.tcpConnect ?? [];
  if (!Array.isArray(tcpConnect)) throw new DittoConfigError('tcpConnect', 'expected a list of HOST:PORT');

  return {
    databaseId,
    persistenceDir: resolve(process.cwd(), dir),
    server: serverUrl && authToken ? { url: serverHttpUrl(serverUrl), token: authToken, provider: authProvider ?? Authenticator.DEVELOPMENT_PROVIDER } : undefined,
    licenseToken,
    listen: config.tcpListen === undefined ? undefined : parseHostPort(config.tcpListen, 'tcpListen'),
    connect: tcpConnect.map((address) => {
      const { host, port } = parseHostPort(address, 'tcpConnect');
      return `${host}:${port}`;
    }),
    logLevel: SDK_LOG_LEVEL[logLevel],
    peerToPeer: config.peerToPeer ?? true,
  };
}

function applyTransports(ditto: Ditto, plan: Plan): void {
  ditto.updateTransportConfig((transports) => {
    if (!plan.peerToPeer) transports.setAllPeerToPeerEnabled(false);
    if (plan.listen) {
      transports.listen.tcp.isEnabled = true;
      transports.listen.tcp.interfaceIP = plan.listen.host;
      transports.listen.tcp.port = plan.listen.port;
    }
    if (plan.connect.length > 0) transports.connect.tcpServers = [...new Set([...transports.connect.tcpServers, ...plan.connect])];
  });
}

async function activateAndStart(ditto: Ditto, plan: Plan, logger: Logger | undefined): Promise<boolean> {
  if (plan.server) {
    const { token, provider } = plan.server;
    // Server mode: the SDK calls this before the first connection and whenever the login nears expiry.
    await ditto.auth.setExpirationHandler(async (instance) => {
      try {
        const result = await instance.auth.login(token, provider);
        if (result.error) logger?.error({ err: result.error }, `Ditto server login failed (provider ${provider})`);
        else logger?.info('logged in to the Ditto server');
      } catch (error) {
        logger?.error({ err: error }, 'Ditto server login failed');
      }
    });
  } else if (plan.licenseToken) {
    try {
      ditto.setOfflineOnlyLicenseToken(plan.licenseToken);
    } catch (error) {
      throw new DittoConfigError('offlineLicenseToken', `Ditto rejected the offline license token: ${messageOf(error)}`);
    }
  }
  if (!ditto.isActivated) {
    logger?.warn(SYNC_NOT_ACTIVATED_MESSAGE);
    return false;
  }
  ditto.sync.start();
  logger?.info({ mode: plan.server ? 'server' : 'smallPeersOnly', tcpListen: plan.listen, tcpConnect: plan.connect }, 'Ditto sync started');
  return true;
}

/** Listening on `:PORT` means every interface, as the SDK's own default (`[::]`) does. */
const ALL_INTERFACES = '[::]';

/**
 * HOST:PORT with an IPv4 address, a name, or a bracketed IPv6 address; port 1-65535. For
 * tcpListen the host may be left out (`:4040`) to listen on every interface.
 */
export function parseHostPort(value: unknown, field: 'tcpListen' | 'tcpConnect'): { host: string; port: number } {
  const text = typeof value === 'string' ? value.trim() : '';
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):([0-9]{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  const host = match?.[1] === '' && field === 'tcpListen' ? ALL_INTERFACES : match?.[1];
  if (!match || !host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DittoConfigError(field, `expected HOST:PORT (IPv6 in brackets, port 1-65535), got ${JSON.stringify(value)}`);
  }
  return { host, port };
}

/** Ditto logs in over HTTP(S) and derives the websocket URL itself, so a wss:// URL cannot work. */
function serverHttpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DittoConfigError('serverUrl', `not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new DittoConfigError('serverUrl', `expected the https:// auth URL from the Ditto portal, got ${url.protocol}//`);
  }
  return value;
}

function optionalString(value: unknown, field: keyof DittoOpenConfig): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new DittoConfigError(field, 'must be a string');
  const trimmed = value.trim();
  if (trimmed === '') throw new DittoConfigError(field, 'must not be empty');
  return trimmed;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
