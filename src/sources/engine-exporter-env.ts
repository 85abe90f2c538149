/**
 * The two environment variables that start Ditto's own Prometheus exporter, and the rules that
 * keep it on loopback. Measured on SDK 5.1.0 (docs/engine-metrics.md):
 *
 * - They are Ditto system parameters read from the environment, each value parsed as JSON, at
 *   every `Ditto.open` (synchronously, inside the call). Only JSON `true` enables the exporter.
 * - The address must be a JSON string (`"127.0.0.1:9464"`). A value that is not JSON, or JSON that
 *   is not a string, is ignored with an error in Ditto's log, and the exporter then binds its
 *   default `0.0.0.0:9000` with no authentication. A string that is not a socket address starts no
 *   exporter at all.
 * - The exporter is installed once per process: the first open that enables it binds the port and
 *   serves every Ditto instance of the process, summed, with no instance label. A later instance
 *   that enables it again binds its own port, which answers 200 with an empty body.
 * - `ALTER SYSTEM` changes the parameters' values (and what `SHOW` answers) but neither starts nor
 *   moves a running exporter.
 *
 * The variables are process-wide: every Ditto.open later in this process, and every child process
 * that inherits the environment, sees them too.
 */
import { createServer } from 'node:net';
import { isLoopbackAddress } from './engine-endpoint.js';

export const ENGINE_ENABLED_VAR = 'DITTO_METRICS_EXPORTER_PROMETHEUS_ENABLED';
export const ENGINE_ADDRESS_VAR = 'DITTO_METRICS_EXPORTER_PROMETHEUS_HTTP_LISTENER_ADDR';

type Env = Record<string, string | undefined>;

/** An environment the exporter refuses to open Ditto under (the CLI exits 2). */
export class EngineExporterEnvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineExporterEnvError';
  }
}

export interface LoopbackListener {
  /** As written in the variable: `127.0.0.1`, or `[::1]` with brackets. */
  readonly host: string;
  readonly port: number;
  /** Where the engine then serves its metrics (it answers on any path; /metrics is the usual one). */
  readonly url: URL;
}

export type EngineExporterSetting =
  | { readonly kind: 'off' }
  | ({ readonly kind: 'loopback' } & LoopbackListener)
  | { readonly kind: 'unsafe'; readonly why: string };

function parseJson(raw: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false };
  }
}

/**
 * The listener the address variable asks for when it is a JSON string holding `IPv4:PORT` on
 * 127.0.0.0/8 or `[IPv6]:PORT` on ::1, port 1-65535; undefined for anything else (unset included).
 * Port 0 is refused: Ditto would pick a port that nothing can learn.
 */
export function loopbackListener(raw: string | undefined): LoopbackListener | undefined {
  if (raw === undefined) return undefined;
  const parsed = parseJson(raw);
  if (!parsed.ok || typeof parsed.value !== 'string') return undefined;
  const m = /^(\[[0-9a-fA-F:.]+\]|[0-9.]+):([0-9]{1,5})$/.exec(parsed.value);
  if (!m) return undefined;
  const [, host, portText] = m as unknown as [string, string, string];
  const port = Number(portText);
  if (port < 1 || port > 65535 || !isLoopbackAddress(host)) return undefined;
  return { host, port, url: new URL(`http://${host}:${port}/metrics`) };
}

/**
 * What the next `Ditto.open` in a process with this environment does with the engine exporter:
 * nothing (the enable variable unset, or JSON false), serve on loopback, or something unsafe. Any
 * other enable value counts as possibly enabling: Ditto's JSON reading is the authority, not ours.
 */
export function engineExporterSetting(env: Env): EngineExporterSetting {
  const enabled = env[ENGINE_ENABLED_VAR];
  if (enabled === undefined) return { kind: 'off' };
  const parsed = parseJson(enabled);
  if (parsed.ok && parsed.value === false) return { kind: 'off' };
  const address = env[ENGINE_ADDRESS_VAR];
  const listener = loopbackListener(address);
  if (listener) return { kind: 'loopback', ...listener };
  const why =
    address === undefined
      ? `${ENGINE_ENABLED_VAR} is set (${JSON.stringify(enabled)}) and ${ENGINE_ADDRESS_VAR} is not, so Ditto's engine exporter would serve unauthenticated on its default 0.0.0.0:9000`
      : `${ENGINE_ENABLED_VAR} is set (${JSON.stringify(enabled)}) and ${ENGINE_ADDRESS_VAR}=${JSON.stringify(address)} is not a JSON-quoted loopback address such as '"127.0.0.1:9464"' (a value Ditto cannot parse makes it fall back to 0.0.0.0:9000)`;
  return { kind: 'unsafe', why };
}

/** Throws EngineExporterEnvError when the environment would let Ditto's engine exporter listen beyond loopback. */
export function assertEngineExporterSafe(env: Env): EngineExporterSetting {
  const setting = engineExporterSetting(env);
  if (setting.kind === 'unsafe') {
    throw new EngineExporterEnvError(`refusing to open Ditto: ${setting.why}. Unset ${ENGINE_ENABLED_VAR}, give ${ENGINE_ADDRESS_VAR} a loopback address, or use --ditto-engine-metrics`);
  }
  return setting;
}

/**
 * Points Ditto's engine exporter at a loopback listener for the next `Ditto.open` of this process:
 * sets both variables, keeping a loopback address already given. Throws EngineExporterEnvError
 * when either variable already says something else. Call it immediately before the open.
 */
export function configureEngineExporter(env: Env, port: number): LoopbackListener & { readonly preset: boolean } {
  const enabled = env[ENGINE_ENABLED_VAR];
  if (enabled !== undefined) {
    const parsed = parseJson(enabled);
    if (!parsed.ok || parsed.value !== true) {
      throw new EngineExporterEnvError(`${ENGINE_ENABLED_VAR}=${JSON.stringify(enabled)} contradicts engine metrics: unset it or set it to true`);
    }
  }
  const address = env[ENGINE_ADDRESS_VAR];
  let listener: LoopbackListener | undefined;
  if (address !== undefined) {
    listener = loopbackListener(address);
    if (!listener) {
      throw new EngineExporterEnvError(
        `${ENGINE_ADDRESS_VAR}=${JSON.stringify(address)} is not a JSON-quoted loopback address with a port (such as '"127.0.0.1:9464"'): unset it to let the exporter choose a free port`,
      );
    }
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`engine exporter port must be 1-65535, got ${port}`);
  env[ENGINE_ENABLED_VAR] = 'true';
  if (listener) return { ...listener, preset: true };
  env[ENGINE_ADDRESS_VAR] = JSON.stringify(`127.0.0.1:${port}`);
  return { ...loopbackListener(env[ENGINE_ADDRESS_VAR])!, preset: false };
}

/**
 * The checks of configureEngineExporter (with `enable`) or assertEngineExporterSafe (without), on a
 * copy of the environment: for refusing a bad set-up before the SDK is even loaded.
 */
export function checkEngineExporterEnv(env: Env, enable: boolean): void {
  if (enable) configureEngineExporter({ ...env }, 1);
  else assertEngineExporterSafe(env);
}

/** A TCP port free on 127.0.0.1 a moment ago (bound and released); another process could take it before Ditto binds it. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Library mode: enable Ditto's engine exporter on a loopback port before the application opens
 * Ditto, and get the URL to pass as `engineMetrics: { url }`. Without `port`, a free one is chosen.
 * Must run before the first `Ditto.open` of the process that should serve the metrics (the
 * exporter is installed once per process); the variables stay set for the life of the process.
 */
export async function enableDittoEngineMetrics(options: { port?: number; env?: Env } = {}): Promise<{ url: string; port: number }> {
  const env = options.env ?? process.env;
  // Checked before a port is chosen, so a refused environment is refused without side effects.
  configureEngineExporter({ ...env }, options.port ?? 1);
  const port = options.port ?? (loopbackListener(env[ENGINE_ADDRESS_VAR])?.port ?? (await freeLoopbackPort()));
  const listener = configureEngineExporter(env, port);
  return { url: listener.url.href, port: listener.port };
}
