import { accessSync, constants, statSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { integer, milliseconds, number, parseBoolean, seconds, type BoundedParser } from './config-parsers.js';
import { BACKENDS, type BackendName } from './backends/backend.js';
import { RANGES } from './bounds.js';
import { hasOtlpEndpoint } from './backends/otlp-endpoint.js';
import { DEFAULTS } from './exporter.js';
import { LOG_LEVELS, type LogLevel } from './logger.js';
import { DEFAULT_PORT, SERVER_DEFAULTS } from './server.js';
import { DEFAULT_MESH, type MeshOptions } from './sources/mesh-simulator.js';
import { DEFAULT_REPLAY_MAX_LINE_BYTES } from './sources/replay.js';
import { FLEET_DEFAULTS } from './sources/fleet/defaults.js';
import { SOURCE_KINDS, type SourceKind } from './sources/source.js';
import { PEER_ID_MODES, type PeerIdMode } from './state/peer-labels.js';

import { DITTO_LOG_LEVELS, type DittoLogLevelName as DittoLogLevel } from './sources/ditto-log-levels.js';

export interface ListenAddress {
  /** Undefined for every interface: IPv6 and IPv4 where the host has both, as Node's listen() does. */
  readonly host: string | undefined;
  readonly port: number;
}

export interface CliConfig {
  readonly source: SourceKind;
  readonly listen: ListenAddress;
  readonly logLevel: LogLevel;
  readonly maxPeers: number;
  readonly maxTrackedCommits: number;
  readonly maxSnapshotAge: number;
  readonly refreshTimeout: number;
  readonly stallAfter: number;
  readonly peerIdLabel: PeerIdMode;
  readonly peerIdHashKey: string | undefined;
  readonly peerDeviceName: boolean;
  readonly processMetrics: boolean;
  readonly backend: BackendName;
  readonly otlpEndpoint: string | undefined;
  readonly otlpInterval: number;
  readonly webConfigFile: string | undefined;
  readonly maxConnections: number;
  readonly maxConcurrentScrapes: number;
  readonly scrapeSendTimeout: number;
  /** Seconds in-flight responses get after a stop signal. */
  readonly shutdownGrace: number;
  /** Problems worth a log line that do not stop start-up (variables for another source). */
  readonly warnings: readonly string[];
  readonly record: string | undefined;
  readonly replay: string | undefined;
  readonly replayMaxLineBytes: number;
  readonly publishHealth: boolean;
  readonly publishInterval: number;
  readonly simulate: MeshOptions & { readonly tickMs: number };
  readonly fleet: FleetConfig;
  readonly ditto: {
    readonly databaseId: string | undefined;
    readonly persistenceDir: string;
    readonly offlineLicenseToken: string | undefined;
    readonly serverUrl: string | undefined;
    readonly authToken: string | undefined;
    readonly authProvider: string | undefined;
    readonly tcpListen: string | undefined;
    readonly tcpConnect: readonly string[];
    readonly peerToPeer: boolean;
    readonly logLevel: DittoLogLevel;
    readonly engineMetrics: boolean;
  };
}

export interface FleetConfig {
  readonly url: string | undefined;
  readonly apiKeyFile: string | undefined;
  /** DITTO_EXPORTER_FLEET_API_KEY: the key itself, for set-ups without a key file. */
  readonly apiKeyFromEnv: string | undefined;
  readonly intervalSeconds: number;
  readonly pageSize: number;
  readonly requestTimeoutSeconds: number;
  readonly retries: number;
  readonly maxDevices: number;
  readonly deviceIdLabel: PeerIdMode;
  readonly shard: number;
  readonly totalShards: number;
  readonly live: boolean;
  readonly liveTimeoutSeconds: number;
}

/** The environment variable that may hold the fleet API key itself (no flag: a key on argv shows in ps). */
export const FLEET_API_KEY_ENV = 'DITTO_EXPORTER_FLEET_API_KEY';

/** A bad flag, value or combination: the CLI prints the message on one line and exits 2. */
export class ConfigError extends Error {}

const fail = (message: string): never => {
  throw new InvalidArgumentError(message);
};

const oneOf =
  <T extends string>(values: readonly T[]) =>
  (v: string): T =>
    (values as readonly string[]).includes(v) ? (v as T) : fail(`expected one of ${values.join(', ')}`);

const nonEmpty = (v: string): string => (v.trim() !== '' ? v : fail('expected a non-empty value'));

const url = (v: string): string => {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:' ? v : fail('expected an http(s) URL');
  } catch {
    return fail('expected an http(s) URL');
  }
};

/** `HOST:PORT`, `:PORT` (every interface, IPv6 and IPv4) or `[IPv6]:PORT`. */
export function parseListen(v: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]]*)):(\d{1,5})$/.exec(v.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) return fail('expected HOST:PORT, :PORT or [IPv6]:PORT with a port up to 65535');
  return { host: m[1] ?? (m[2] || undefined), port };
}

const hostPort = (v: string): string => {
  parseListen(v);
  return v.trim();
};

const hostPortList = (v: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(hostPort),
];

export interface FlagSpec {
  readonly flags: string;
  readonly env: string;
  readonly description: string;
  readonly group: string;
  readonly default?: unknown;
  readonly defaultText?: string;
  /** A BoundedParser documents its accepted range in --help and the README. */
  readonly parse?: ((value: string, previous: never) => unknown) & Partial<Pick<BoundedParser<unknown>, 'bounds' | 'range' | 'integer'>>;
  /** Sources the flag applies to; given on the command line with another source, it is refused. */
  readonly sources?: readonly SourceKind[];
}

/** The value parser of every numeric flag, from the ranges the library options share (bounds.ts). */
export const BOUNDS = {
  maxPeers: integer(RANGES.maxPeers),
  maxTrackedCommits: integer(RANGES.maxTrackedCommits),
  maxSnapshotAge: seconds(RANGES.maxSnapshotAge),
  refreshTimeout: seconds(RANGES.refreshTimeout),
  stallAfter: seconds(RANGES.stallAfter),
  otlpInterval: seconds(RANGES.otlpInterval),
  shutdownGrace: seconds(RANGES.shutdownGrace),
  maxConnections: integer(RANGES.maxConnections),
  maxConcurrentScrapes: integer(RANGES.maxConcurrentScrapes),
  scrapeSendTimeout: seconds(RANGES.scrapeSendTimeout),
  replayMaxLineBytes: integer(RANGES.replayMaxLineBytes),
  simulateDevices: integer(RANGES.simulateDevices),
  simulateCloudServers: integer(RANGES.simulateCloudServers),
  simulateWriteRate: number(RANGES.simulateWriteRate, 'per second'),
  simulateChurn: number(RANGES.simulateChurn),
  simulateTickMs: milliseconds(RANGES.simulateTickMs),
  simulateOutage: seconds(RANGES.simulateOutage),
  simulateSeed: integer(RANGES.simulateSeed),
  publishInterval: seconds(RANGES.publishInterval),
  fleetInterval: seconds(RANGES.fleetInterval),
  fleetPageSize: integer(RANGES.fleetPageSize),
  fleetRequestTimeout: seconds(RANGES.fleetRequestTimeout),
  fleetRetries: integer(RANGES.fleetRetries),
  maxDevices: integer(RANGES.maxDevices),
  shard: integer(RANGES.shard),
  totalShards: integer(RANGES.totalShards),
  fleetLiveTimeout: seconds(RANGES.fleetLiveTimeout),
} as const satisfies Record<string, BoundedParser<number>>;

const d = DEFAULT_MESH;
const ditto = ['ditto'] as const;
const simulate = ['simulate'] as const;
const replay = ['replay'] as const;
const fleet = ['fleet'] as const;
/** Sources that read system:data_sync_info. */
const sync = ['ditto', 'replay', 'simulate'] as const;

/** Every flag, its environment twin, default and parser: the CLI, `--help` and the README table come from here. */
export const FLAGS: readonly FlagSpec[] = [
  { group: 'exporter', flags: '--source <kind>', env: 'DITTO_EXPORTER_SOURCE', description: `where rows come from: ${SOURCE_KINDS.join('|')}`, default: 'ditto', parse: oneOf(SOURCE_KINDS) },
  { group: 'exporter', flags: '--listen <host:port>', env: 'DITTO_EXPORTER_LISTEN', description: 'address to serve /metrics on (":PORT" = every interface, IPv6 and IPv4)', default: `:${DEFAULT_PORT}`, parse: (v: string) => (parseListen(v), v) },
  { group: 'exporter', flags: '--log-level <level>', env: 'DITTO_EXPORTER_LOG_LEVEL', description: `exporter log level: ${LOG_LEVELS.join('|')}`, default: 'info', parse: oneOf(LOG_LEVELS) },
  { group: 'exporter', flags: '--max-peers <n>', env: 'DITTO_EXPORTER_MAX_PEERS', description: 'per-peer series for at most this many peers (kept peers stay kept; freed slots go to cloud servers first)', default: DEFAULTS.maxPeers, parse: BOUNDS.maxPeers , sources: sync },
  { group: 'exporter', flags: '--max-tracked-commits <n>', env: 'DITTO_EXPORTER_MAX_TRACKED_COMMITS', description: 'unacked local commits remembered before the oldest are dropped', default: DEFAULTS.maxTrackedCommits, parse: BOUNDS.maxTrackedCommits , sources: sync },
  { group: 'exporter', flags: '--max-snapshot-age <seconds>', env: 'DITTO_EXPORTER_MAX_SNAPSHOT_AGE', description: 'a scrape re-reads system:data_sync_info when the latest snapshot is older', default: DEFAULTS.maxSnapshotAge, parse: BOUNDS.maxSnapshotAge , sources: sync },
  { group: 'exporter', flags: '--refresh-timeout <seconds>', env: 'DITTO_EXPORTER_REFRESH_TIMEOUT', description: 'a scrape waits at most this long for that re-read; past it the source counts as failing (ditto_sync_up 0, no snapshot series until a read succeeds)', default: DEFAULTS.refreshTimeout, parse: BOUNDS.refreshTimeout , sources: sync },
  { group: 'exporter', flags: '--stall-after <seconds>', env: 'DITTO_EXPORTER_STALL_AFTER', description: '/readyz fails when the snapshot is older than this', default: DEFAULTS.stallAfter, parse: BOUNDS.stallAfter , sources: sync },
  { group: 'exporter', flags: '--peer-id-label <mode>', env: 'DITTO_EXPORTER_PEER_ID_LABEL', description: `peer_id label: ${PEER_ID_MODES.join('|')} (hash = keyed hash, none = aggregates only)`, default: DEFAULTS.peerIdLabel, parse: oneOf(PEER_ID_MODES) , sources: sync },
  { group: 'exporter', flags: '--peer-id-hash-key <key>', env: 'DITTO_EXPORTER_PEER_ID_HASH_KEY', description: 'secret key for --peer-id-label hash and --fleet-device-id-label hash (required with them, refused without them; one key, so a device hashes alike in both)', parse: nonEmpty },
  { group: 'exporter', flags: '--no-peer-device-name', env: 'DITTO_EXPORTER_NO_PEER_DEVICE_NAME', description: 'leave the device_name label (user-chosen, can be personal) out of ditto_sync_peer_info (variable: true or false)', sources: sync },
  { group: 'exporter', flags: '--no-process-metrics', env: 'DITTO_EXPORTER_NO_PROCESS_METRICS', description: "leave out prom-client's process_* and nodejs_* metrics (variable: true or false)" },
  { group: 'exporter', flags: '--backend <name>', env: 'DITTO_EXPORTER_BACKEND', description: `metrics library behind /metrics: ${BACKENDS.join('|')}`, default: 'prom-client', parse: oneOf(BACKENDS) },
  { group: 'exporter', flags: '--otlp-endpoint <url>', env: 'DITTO_EXPORTER_OTLP_ENDPOINT', description: 'push metrics over OTLP/HTTP to this URL (also OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)', parse: url },
  { group: 'exporter', flags: '--otlp-interval <seconds>', env: 'DITTO_EXPORTER_OTLP_INTERVAL', description: 'seconds between OTLP pushes', default: 15, parse: BOUNDS.otlpInterval },
  { group: 'exporter', flags: '--web.config.file <path>', env: 'DITTO_EXPORTER_WEB_CONFIG_FILE', description: 'exporter-toolkit web config: TLS, basic auth, bearer token', parse: nonEmpty },
  { group: 'exporter', flags: '--max-connections <n>', env: 'DITTO_EXPORTER_MAX_CONNECTIONS', description: 'open HTTP connections at most; at the cap a new one evicts the oldest idle one, or is closed', default: SERVER_DEFAULTS.maxConnections, parse: BOUNDS.maxConnections },
  { group: 'exporter', flags: '--max-concurrent-scrapes <n>', env: 'DITTO_EXPORTER_MAX_CONCURRENT_SCRAPES', description: '/metrics requests in progress at most; more get 503 with Retry-After', default: SERVER_DEFAULTS.maxConcurrentScrapes, parse: BOUNDS.maxConcurrentScrapes },
  { group: 'exporter', flags: '--scrape-send-timeout <seconds>', env: 'DITTO_EXPORTER_SCRAPE_SEND_TIMEOUT', description: 'a /metrics response may take this long, render and send; past it its connection is closed (a reader that stalls would hold a scrape slot)', default: SERVER_DEFAULTS.scrapeSendTimeoutSeconds, parse: BOUNDS.scrapeSendTimeout },
  { group: 'exporter', flags: '--shutdown-grace <seconds>', env: 'DITTO_EXPORTER_SHUTDOWN_GRACE', description: 'on SIGTERM/SIGINT/SIGHUP, in-flight responses get this long to finish before every connection is closed', default: SERVER_DEFAULTS.shutdownGraceSeconds, parse: BOUNDS.shutdownGrace },
  { group: 'exporter', flags: '--record <file>', env: 'DITTO_EXPORTER_RECORD', description: 'append every tick to this file in the replay format (for --source replay later)', parse: nonEmpty },
  { group: 'replay', flags: '--replay <file>', env: 'DITTO_EXPORTER_REPLAY', description: 'JSON Lines file (or FIFO) to replay (with --source replay)', parse: nonEmpty, sources: replay },
  { group: 'replay', flags: '--replay-max-line-bytes <n>', env: 'DITTO_EXPORTER_REPLAY_MAX_LINE_BYTES', description: 'longer replay lines are skipped and counted', default: DEFAULT_REPLAY_MAX_LINE_BYTES, parse: BOUNDS.replayMaxLineBytes, sources: replay },
  { group: 'simulate', flags: '--simulate-devices <n>', env: 'DITTO_EXPORTER_SIMULATE_DEVICES', description: 'simulated small peers', default: d.devices, parse: BOUNDS.simulateDevices, sources: simulate },
  { group: 'simulate', flags: '--simulate-cloud-servers <n>', env: 'DITTO_EXPORTER_SIMULATE_CLOUD_SERVERS', description: 'simulated cloud server sessions', default: d.cloudServers, parse: BOUNDS.simulateCloudServers, sources: simulate },
  { group: 'simulate', flags: '--simulate-write-rate <per-second>', env: 'DITTO_EXPORTER_SIMULATE_WRITE_RATE', description: 'simulated local writes per second', default: d.writeRate, parse: BOUNDS.simulateWriteRate, sources: simulate },
  { group: 'simulate', flags: '--simulate-churn <p>', env: 'DITTO_EXPORTER_SIMULATE_CHURN', description: 'chance per device per tick to connect or disconnect', default: d.churn, parse: BOUNDS.simulateChurn, sources: simulate },
  { group: 'simulate', flags: '--simulate-tick-ms <ms>', env: 'DITTO_EXPORTER_SIMULATE_TICK_MS', description: 'milliseconds between simulated observer ticks', default: 500, parse: BOUNDS.simulateTickMs, sources: simulate },
  { group: 'simulate', flags: '--simulate-outage-after <seconds>', env: 'DITTO_EXPORTER_SIMULATE_OUTAGE_AFTER', description: 'seconds after start when the scripted cloud outage begins', default: d.outageAfter, parse: BOUNDS.simulateOutage, sources: simulate },
  { group: 'simulate', flags: '--simulate-outage-duration <seconds>', env: 'DITTO_EXPORTER_SIMULATE_OUTAGE_DURATION', description: 'length of each cloud outage (0 = none)', default: d.outageDuration, parse: BOUNDS.simulateOutage, sources: simulate },
  { group: 'simulate', flags: '--simulate-outage-every <seconds>', env: 'DITTO_EXPORTER_SIMULATE_OUTAGE_EVERY', description: 'outage period (0 = a single outage)', default: d.outageEvery, parse: BOUNDS.simulateOutage, sources: simulate },
  { group: 'simulate', flags: '--simulate-seed <n>', env: 'DITTO_EXPORTER_SIMULATE_SEED', description: 'random seed of the simulated mesh', default: d.seed, parse: BOUNDS.simulateSeed, sources: simulate },
  { group: 'fleet', flags: '--fleet-url <url>', env: 'DITTO_EXPORTER_FLEET_URL', description: 'Ditto Server HTTP API base from the portal, which may include a path; /api/v5/store/execute is appended (--source fleet)', parse: url, sources: fleet },
  { group: 'fleet', flags: '--fleet-api-key-file <path>', env: 'DITTO_EXPORTER_FLEET_API_KEY_FILE', description: `file holding the Ditto Server API key, re-read before every inventory read (or the key itself in ${FLEET_API_KEY_ENV}); use a read-only key`, parse: nonEmpty, sources: fleet },
  { group: 'fleet', flags: '--fleet-interval <seconds>', env: 'DITTO_EXPORTER_FLEET_INTERVAL', description: 'seconds from the start of one inventory read to the next; scrapes serve the last complete inventory', default: FLEET_DEFAULTS.intervalSeconds, parse: BOUNDS.fleetInterval, sources: fleet },
  { group: 'fleet', flags: '--fleet-page-size <n>', env: 'DITTO_EXPORTER_FLEET_PAGE_SIZE', description: 'documents per inventory request (paged by _id)', default: FLEET_DEFAULTS.pageSize, parse: BOUNDS.fleetPageSize, sources: fleet },
  { group: 'fleet', flags: '--fleet-request-timeout <seconds>', env: 'DITTO_EXPORTER_FLEET_REQUEST_TIMEOUT', description: 'timeout of each inventory request, body included', default: FLEET_DEFAULTS.requestTimeoutSeconds, parse: BOUNDS.fleetRequestTimeout, sources: fleet },
  { group: 'fleet', flags: '--fleet-retries <n>', env: 'DITTO_EXPORTER_FLEET_RETRIES', description: 'retries of a request answered 408, 429 or 503 (jittered exponential backoff, Retry-After honoured)', default: FLEET_DEFAULTS.retries, parse: BOUNDS.fleetRetries, sources: fleet },
  { group: 'fleet', flags: '--max-devices <n>', env: 'DITTO_EXPORTER_MAX_DEVICES', description: 'per-device series for at most this many devices of the shard (the aggregates count every device)', default: FLEET_DEFAULTS.maxDevices, parse: BOUNDS.maxDevices, sources: fleet },
  { group: 'fleet', flags: '--fleet-device-id-label <mode>', env: 'DITTO_EXPORTER_FLEET_DEVICE_ID_LABEL', description: `device_id label: ${PEER_ID_MODES.join('|')} (hash = keyed hash with --peer-id-hash-key, device_name left out; none = aggregates only)`, default: 'full', parse: oneOf(PEER_ID_MODES), sources: fleet },
  { group: 'fleet', flags: '--shard <n>', env: 'DITTO_EXPORTER_SHARD', description: 'this exporter\'s shard, from 0: it keeps the devices whose id hashes to it (64-bit FNV-1a then jump consistent hash, as kube-state-metrics shards by UID)', default: 0, parse: BOUNDS.shard, sources: fleet },
  { group: 'fleet', flags: '--total-shards <n>', env: 'DITTO_EXPORTER_TOTAL_SHARDS', description: 'how many exporters split the fleet (each with its own --shard)', default: 1, parse: BOUNDS.totalShards, sources: fleet },
  { group: 'fleet', flags: '--fleet-live', env: 'DITTO_EXPORTER_FLEET_LIVE', description: "also read connected devices' system:data_sync_info over POST /api/v5/sync/remote_execute, which is not in Ditto's public reference (the key needs remote-query permission)", sources: fleet },
  { group: 'fleet', flags: '--fleet-live-timeout <seconds>', env: 'DITTO_EXPORTER_FLEET_LIVE_TIMEOUT', description: 'timeout of each remote execute request (--fleet-live)', default: FLEET_DEFAULTS.liveTimeoutSeconds, parse: BOUNDS.fleetLiveTimeout, sources: fleet },
  { group: 'ditto', flags: '--database-id <id>', env: 'DITTO_EXPORTER_DATABASE_ID', description: "Ditto database (app) id, visible ASCII; default: the SDK's default id", parse: nonEmpty, sources: ditto },
  { group: 'ditto', flags: '--persistence-dir <dir>', env: 'DITTO_EXPORTER_PERSISTENCE_DIR', description: 'Ditto persistence directory (its filesystem needs 16 MiB free)', default: './data/ditto', parse: nonEmpty, sources: ditto },
  { group: 'ditto', flags: '--offline-license-token <token>', env: 'DITTO_EXPORTER_OFFLINE_LICENSE_TOKEN', description: 'offline license token: activates small-peer sync', parse: nonEmpty, sources: ditto },
  { group: 'ditto', flags: '--server-url <url>', env: 'DITTO_EXPORTER_SERVER_URL', description: 'Ditto server (Big Peer) URL: server mode', parse: url, sources: ditto },
  { group: 'ditto', flags: '--auth-token <token>', env: 'DITTO_EXPORTER_AUTH_TOKEN', description: 'token to log in to the server with (server mode)', parse: nonEmpty, sources: ditto },
  { group: 'ditto', flags: '--auth-provider <name>', env: 'DITTO_EXPORTER_AUTH_PROVIDER', description: 'authentication provider name for --auth-token', parse: nonEmpty, sources: ditto },
  { group: 'ditto', flags: '--tcp-listen <host:port>', env: 'DITTO_EXPORTER_TCP_LISTEN', description: 'accept peer-to-peer TCP connections on this address', parse: hostPort, sources: ditto },
  { group: 'ditto', flags: '--tcp-connect <host:port,...>', env: 'DITTO_EXPORTER_TCP_CONNECT', description: 'connect to these peers over TCP (repeatable, comma-separated)', parse: hostPortList, sources: ditto },
  { group: 'ditto', flags: '--no-ditto-p2p', env: 'DITTO_EXPORTER_NO_DITTO_P2P', description: "turn off Ditto's automatic peer-to-peer transports (LAN, Bluetooth), keeping explicit TCP (variable: true or false)", sources: ditto },
  { group: 'ditto', flags: '--ditto-log-level <level>', env: 'DITTO_EXPORTER_DITTO_LOG_LEVEL', description: `Ditto SDK log level: ${DITTO_LOG_LEVELS.join('|')}`, default: 'warning', parse: oneOf(DITTO_LOG_LEVELS), sources: ditto },
  { group: 'ditto', flags: '--ditto-engine-metrics', env: 'DITTO_EXPORTER_DITTO_ENGINE_METRICS', description: "serve Ditto's own engine metrics (SQLite, store transactions, connections) on /metrics, read from the SDK's exporter on a free 127.0.0.1 port", sources: ditto },
  { group: 'ditto', flags: '--publish-health', env: 'DITTO_EXPORTER_PUBLISH_HEALTH', description: 'publish a sync-health summary into this device\'s small peer info metadata (key ditto_sync_health), which Ditto syncs to the Ditto Server', sources: ditto },
  { group: 'ditto', flags: '--publish-interval <seconds>', env: 'DITTO_EXPORTER_PUBLISH_INTERVAL', description: 'seconds between refreshes of that summary', default: DEFAULTS.publishInterval, parse: BOUNDS.publishInterval, sources: ditto },
];

export function buildProgram(): Command {
  const program = new Command('ditto-sync-exporter')
    .description("Prometheus exporter for Ditto's system:data_sync_info (peer sync status, commit lag, cloud sync gap)")
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  for (const spec of FLAGS) {
    const bounds = spec.parse?.bounds;
    const option = new Option(spec.flags, bounds ? `${spec.description} (${bounds})` : spec.description).env(spec.env);
    if (spec.parse) option.argParser(spec.parse as (value: string, previous: unknown) => unknown);
    if (spec.default !== undefined) option.default(spec.default, spec.defaultText);
    program.addOption(option);
  }
  return program;
}

type Raw = Record<string, unknown>;

/** Parses argv (without node and script) and the DITTO_EXPORTER_* environment. Throws ConfigError or CommanderError. */
export function parseConfig(argv: readonly string[]): CliConfig {
  const program = buildProgram();
  program.parse([...argv], { from: 'user' });
  readBooleanVariables(program);
  const warnings = checkSources(program, program.opts()['source'] as SourceKind);
  return { ...toConfig(program.opts(), givenBy(program)), warnings };
}

/** How the user gave a flag: on the command line, as its variable, or not at all (it has its default). */
type Given = (flag: string) => 'cli' | 'env' | undefined;

function givenBy(program: Command): Given {
  return (flag) => {
    const option = program.options.find((o) => o.long === flag);
    const from = option && program.getOptionValueSource(option.attributeName());
    return from === 'cli' ? 'cli' : from === 'env' ? 'env' : undefined;
  };
}

/**
 * Commander turns a boolean flag on whenever its variable is set, whatever the value, so
 * `DITTO_EXPORTER_NO_PROCESS_METRICS=false` would switch process metrics off. The variable's value
 * is read here instead: true/false (1/0, yes/no, on/off), anything else refused.
 */
function readBooleanVariables(program: Command): void {
  for (const option of program.options) {
    if (option.required || option.optional || !option.envVar) continue;
    const key = option.attributeName();
    if (program.getOptionValueSource(key) !== 'env') continue;
    let on: boolean;
    try {
      on = parseBoolean(process.env[option.envVar] ?? '');
    } catch (error) {
      throw new ConfigError(`environment variable '${option.envVar}' argument '${process.env[option.envVar]}' is invalid. ${(error as Error).message}`);
    }
    program.setOptionValueWithSource(key, option.negate ? !on : on, 'env');
  }
}

/**
 * A flag for another source would be silently ignored: on the command line that is refused. A
 * variable is only warned about, because one environment often serves several sources (the
 * compose stack switches with DITTO_EXPORTER_SOURCE alone).
 */
function checkSources(program: Command, source: SourceKind): string[] {
  const warnings: string[] = [];
  for (const spec of FLAGS) {
    if (!spec.sources || spec.sources.includes(source)) continue;
    const option = program.options.find((o) => o.envVar === spec.env);
    const from = option && program.getOptionValueSource(option.attributeName());
    const only = `only used with --source ${spec.sources.join(' or ')}`;
    if (from === 'cli') throw new ConfigError(`${spec.flags.split(' ')[0]} is ${only}, not with --source ${source}`);
    if (from === 'env') warnings.push(`${spec.env} is set but ${only}; ignored with --source ${source}`);
  }
  return warnings;
}

function toConfig(o: Raw, given: Given): Omit<CliConfig, 'warnings'> {
  const config: Omit<CliConfig, 'warnings'> = {
    source: o['source'] as SourceKind,
    listen: parseListen(o['listen'] as string),
    logLevel: o['logLevel'] as LogLevel,
    maxPeers: o['maxPeers'] as number,
    maxTrackedCommits: o['maxTrackedCommits'] as number,
    maxSnapshotAge: o['maxSnapshotAge'] as number,
    refreshTimeout: o['refreshTimeout'] as number,
    stallAfter: o['stallAfter'] as number,
    // The fleet source reads no system:data_sync_info: a DITTO_EXPORTER_PEER_ID_LABEL there is ignored (with a warning).
    peerIdLabel: o['source'] === 'fleet' ? DEFAULTS.peerIdLabel : (o['peerIdLabel'] as PeerIdMode),
    peerIdHashKey: o['peerIdHashKey'] as string | undefined,
    peerDeviceName: o['peerDeviceName'] !== false,
    processMetrics: o['processMetrics'] !== false,
    backend: o['backend'] as BackendName,
    otlpEndpoint: o['otlpEndpoint'] as string | undefined,
    otlpInterval: o['otlpInterval'] as number,
    webConfigFile: o['web.config.file'] as string | undefined,
    maxConnections: o['maxConnections'] as number,
    maxConcurrentScrapes: o['maxConcurrentScrapes'] as number,
    scrapeSendTimeout: o['scrapeSendTimeout'] as number,
    shutdownGrace: o['shutdownGrace'] as number,
    record: o['record'] as string | undefined,
    replay: o['replay'] as string | undefined,
    replayMaxLineBytes: o['replayMaxLineBytes'] as number,
    publishHealth: o['publishHealth'] === true,
    publishInterval: o['publishInterval'] as number,
    simulate: {
      devices: o['simulateDevices'] as number,
      cloudServers: o['simulateCloudServers'] as number,
      writeRate: o['simulateWriteRate'] as number,
      churn: o['simulateChurn'] as number,
      tickMs: o['simulateTickMs'] as number,
      outageAfter: o['simulateOutageAfter'] as number,
      outageDuration: o['simulateOutageDuration'] as number,
      outageEvery: o['simulateOutageEvery'] as number,
      seed: o['simulateSeed'] as number,
    },
    fleet: {
      url: o['fleetUrl'] as string | undefined,
      apiKeyFile: o['fleetApiKeyFile'] as string | undefined,
      apiKeyFromEnv: process.env[FLEET_API_KEY_ENV] || undefined,
      intervalSeconds: o['fleetInterval'] as number,
      pageSize: o['fleetPageSize'] as number,
      requestTimeoutSeconds: o['fleetRequestTimeout'] as number,
      retries: o['fleetRetries'] as number,
      maxDevices: o['maxDevices'] as number,
      deviceIdLabel: o['fleetDeviceIdLabel'] as PeerIdMode,
      shard: o['shard'] as number,
      totalShards: o['totalShards'] as number,
      live: o['fleetLive'] === true,
      liveTimeoutSeconds: o['fleetLiveTimeout'] as number,
    },
    ditto: {
      databaseId: o['databaseId'] as string | undefined,
      persistenceDir: o['persistenceDir'] as string,
      offlineLicenseToken: o['offlineLicenseToken'] as string | undefined,
      serverUrl: o['serverUrl'] as string | undefined,
      authToken: o['authToken'] as string | undefined,
      authProvider: o['authProvider'] as string | undefined,
      tcpListen: o['tcpListen'] as string | undefined,
      tcpConnect: (o['tcpConnect'] as string[] | undefined) ?? [],
      peerToPeer: o['dittoP2p'] !== false,
      logLevel: o['dittoLogLevel'] as DittoLogLevel,
      engineMetrics: o['dittoEngineMetrics'] === true,
    },
  };
  checkCombinations(config);
  checkDependentFlags(config, given);
  return config;
}

function checkCombinations(c: Omit<CliConfig, 'warnings'>): void {
  if (c.source === 'replay') {
    if (!c.replay) throw new ConfigError('--source replay needs --replay FILE (or DITTO_EXPORTER_REPLAY)');
    try {
      accessSync(c.replay, constants.R_OK);
    } catch {
      throw new ConfigError(`--replay: cannot read ${c.replay}`);
    }
    let kind: string;
    try {
      const stat = statSync(c.replay);
      kind = stat.isFile() || stat.isFIFO() ? '' : stat.isDirectory() ? 'a directory' : 'not a regular file or FIFO';
    } catch {
      kind = 'unreadable';
    }
    if (kind) throw new ConfigError(`--replay: ${c.replay} is ${kind}; give a JSON Lines file`);
  }
  if (c.record && c.source === 'replay') throw new ConfigError('--record cannot be used with --source replay');
  if (c.ditto.engineMetrics && c.source !== 'ditto') throw new ConfigError("--ditto-engine-metrics needs --source ditto: it reads the engine of the exporter's own Ditto store");
  if (c.publishHealth && c.source !== 'ditto') throw new ConfigError('--publish-health needs --source ditto: the beacon is written into a Ditto store');
  checkFleet(c);
  const hashing = c.peerIdLabel === 'hash' || (c.source === 'fleet' && c.fleet.deviceIdLabel === 'hash');
  if (c.peerIdHashKey && !hashing) {
    // The operator believes ids are hashed while they are served in full (or not at all).
    throw new ConfigError(`--peer-id-hash-key is only used with --peer-id-label hash or --fleet-device-id-label hash (the label mode is ${c.source === 'fleet' ? c.fleet.deviceIdLabel : c.peerIdLabel})`);
  }
  if (c.peerIdLabel === 'hash' && !c.peerIdHashKey) {
    throw new ConfigError('--peer-id-label hash needs --peer-id-hash-key (or DITTO_EXPORTER_PEER_ID_HASH_KEY) so hashes stay stable across restarts');
  }
  if (c.source !== 'ditto') return;
  if (c.ditto.authToken && !c.ditto.serverUrl) throw new ConfigError('--auth-token is only used with --server-url');
  if (c.ditto.serverUrl && !c.ditto.authToken) throw new ConfigError('--server-url needs --auth-token (or DITTO_EXPORTER_AUTH_TOKEN)');
  if (c.ditto.serverUrl && c.ditto.offlineLicenseToken) throw new ConfigError('use either --offline-license-token or --server-url, not both');
}

/**
 * Flags that only matter with another setting. Given by the user (flag or variable) without it they
 * would be silently ignored, so they are refused; at their defaults they are not.
 */
const DEPENDENT_FLAGS: ReadonlyArray<{ readonly flag: string; readonly needs: string; readonly met: (c: Omit<CliConfig, 'warnings'>) => boolean }> = [
  { flag: '--otlp-interval', needs: 'an OTLP endpoint (--otlp-endpoint, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT)', met: (c) => hasOtlpEndpoint(c.otlpEndpoint) },
  { flag: '--publish-interval', needs: '--publish-health', met: (c) => c.publishHealth },
  { flag: '--fleet-live-timeout', needs: '--fleet-live', met: (c) => c.fleet.live },
  { flag: '--auth-provider', needs: '--auth-token and --server-url', met: (c) => c.ditto.authToken !== undefined },
  { flag: '--simulate-churn', needs: '--simulate-devices above 0 (it connects and disconnects devices)', met: (c) => c.simulate.devices > 0 },
  ...['--simulate-outage-after', '--simulate-outage-every'].map((flag) => ({ flag, needs: '--simulate-outage-duration above 0', met: (c: Omit<CliConfig, 'warnings'>) => c.simulate.outageDuration > 0 })),
  ...['--simulate-outage-after', '--simulate-outage-duration', '--simulate-outage-every'].map((flag) => ({
    flag,
    needs: '--simulate-cloud-servers above 0 (an outage cuts the cloud servers off)',
    met: (c: Omit<CliConfig, 'warnings'>) => c.simulate.cloudServers > 0,
  })),
];

function checkDependentFlags(c: Omit<CliConfig, 'warnings'>, given: Given): void {
  for (const { flag, needs, met } of DEPENDENT_FLAGS) {
    const spec = FLAGS.find((f) => f.flags.split(' ')[0] === flag)!;
    // A flag for another source is refused or warned about by checkSources already.
    if (spec.sources && !spec.sources.includes(c.source)) continue;
    const from = given(flag);
    if (from === undefined || met(c)) continue;
    throw new ConfigError(`${from === 'env' ? `${spec.env} (${flag})` : flag} is only used with ${needs}`);
  }
}

function checkFleet(c: Omit<CliConfig, 'warnings'>): void {
  const f = c.fleet;
  if (c.source !== 'fleet') {
    if (f.url) throw new ConfigError('--fleet-url is only used with --source fleet');
    if (f.apiKeyFile) throw new ConfigError('--fleet-api-key-file is only used with --source fleet');
    if (f.live) throw new ConfigError('--fleet-live is only used with --source fleet');
    return;
  }
  if (!f.url) throw new ConfigError('--source fleet needs --fleet-url (or DITTO_EXPORTER_FLEET_URL): the HTTP API base from the Ditto portal');
  if (f.apiKeyFile && f.apiKeyFromEnv) throw new ConfigError(`use either --fleet-api-key-file or ${FLEET_API_KEY_ENV}, not both`);
  if (!f.apiKeyFile && !f.apiKeyFromEnv) throw new ConfigError(`--source fleet needs --fleet-api-key-file FILE (or ${FLEET_API_KEY_ENV} holding the key)`);
  if (f.apiKeyFile) {
    try {
      accessSync(f.apiKeyFile, constants.R_OK);
    } catch {
      throw new ConfigError(`--fleet-api-key-file: cannot read ${f.apiKeyFile}`);
    }
  }
  if (f.shard >= f.totalShards) throw new ConfigError(`--shard must be below --total-shards (${f.totalShards}), got ${f.shard}`);
  if (f.deviceIdLabel === 'hash' && !c.peerIdHashKey) {
    throw new ConfigError('--fleet-device-id-label hash needs --peer-id-hash-key (or DITTO_EXPORTER_PEER_ID_HASH_KEY) so hashes stay stable across restarts');
  }
  if (c.record) throw new ConfigError('--record cannot be used with --source fleet (it records system:data_sync_info ticks)');
}

/** One line for a bad invocation: commander's message without its "error: " prefix. */
export function configErrorLine(error: unknown): string | undefined {
  if (error instanceof ConfigError) return error.message;
  if (error instanceof CommanderError) return error.message.replace(/^error: /, '');
  return undefined;
}

export { CommanderError };
