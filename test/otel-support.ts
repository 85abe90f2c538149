/** Shared pieces of the OpenTelemetry backend tests: a hand-driven source, a scenario, a parser. */
import type { Server } from 'node:http';
import { createOtelBackend, type OtelBackendOptions } from '../src/backends/otel.js';
import type { BackendName } from '../src/backends/backend.js';
import { SyncExporter } from '../src/exporter.js';
import type { Logger } from '../src/logger.js';
import type { RawTick } from '../src/model.js';
import { boundPort, closeServer, createApp, createRouter, listen } from '../src/server.js';
import type { SourceSink, SyncSource } from '../src/sources/source.js';
import { key as seriesKey, type Sample } from './helpers/exposition.js';
import { row } from './helpers/fake-source.js';

export const T0 = 1_700_000_000;

/** A SyncSource the test drives by hand; `failClock` makes every view() throw. */
export class TestSource implements SyncSource {
  readonly kind = 'replay' as const;
  readonly skipReasons = ['bad_json', 'missing_rows'] as const;
  open = true;
  clock = T0;
  failClock = false;

  now(): number {
    if (this.failClock) throw new Error('clock unavailable');
    return this.clock;
  }
  async start(_sink: SourceSink): Promise<void> {}
  async close(): Promise<void> {}
}

export { row };

export const BIG_COMMIT = 2n ** 60n + 1n;

/**
 * Several peers, a cloud row, rejected rows, a tick that fails, tracked bigint commits acked by the
 * cloud at different delays (so the ack histogram has counts in several buckets), a commit id
 * beyond 2^53, a last-update time in milliseconds and one in the future.
 */
export const SCENARIO: readonly RawTick[] = [
  {
    readAt: T0,
    commits: [
      { id: 95n, at: T0 - 10 },
      { id: 120n, at: T0 - 5 },
      { id: 130n, at: T0 - 3 },
    ],
    rows: [
      row('cloud-1', { cloud: true, synced: 100, lastUpdate: T0 - 2 }),
      row('device-a', { synced: 90, lastUpdate: (T0 - 1) * 1000 }),
      row('device-b', { status: 'Not Connected' }),
      { is_ditto_server: false },
      row('device-a', { synced: 1 }),
    ],
  },
  {
    readAt: T0 + 5,
    commits: [{ id: 140n, at: T0 + 4 }],
    rows: [
      row('cloud-1', { cloud: true, synced: 135, lastUpdate: T0 + 4 }),
      row('device-a', { synced: 125, lastUpdate: T0 + 3 }),
      row('device-b', { status: 'Not Connected', synced: 50, lastUpdate: T0 - 100 }),
      row('device-c', { status: 'Disabled', synced: 7, lastUpdate: T0 + 100 }),
      row('device-"quoted"\\', { status: 'Weird', synced: 0 }),
    ],
  },
  { readAt: T0 + 6, rows: 'not an array' as unknown as unknown[] },
  {
    readAt: T0 + 30,
    commits: [{ id: BIG_COMMIT, at: T0 + 20 }],
    rows: [
      row('cloud-1', { cloud: true, synced: BIG_COMMIT, lastUpdate: T0 + 29 }),
      row('cloud-2', { cloud: true, status: 'Not Connected', synced: 135, lastUpdate: T0 + 10 }),
      row('device-a', { synced: 140, lastUpdate: T0 + 28 }),
      row('device-b', { status: 'Not Connected', synced: 50, lastUpdate: T0 - 100 }),
      row('device-c', { status: 'Disabled', synced: 7, lastUpdate: T0 + 100 }),
    ],
  },
];

export function captureLogger(): Logger & { readonly errors: unknown[][]; readonly warnings: unknown[][] } {
  const errors: unknown[][] = [];
  const warnings: unknown[][] = [];
  return {
    errors,
    warnings,
    debug() {},
    info() {},
    warn: (...args: unknown[]) => void warnings.push(args),
    error: (...args: unknown[]) => void errors.push(args),
  } as unknown as Logger & { errors: unknown[][]; warnings: unknown[][] };
}

export function makeExporter(backend: BackendName, opts: { source?: TestSource; logger?: Logger; otel?: OtelBackendOptions } = {}): SyncExporter {
  const source = opts.source ?? new TestSource();
  return new SyncExporter(source, {
    backend,
    collectDefaultMetrics: false,
    logger: opts.logger,
    backendFactory: (_name, view, state) => createOtelBackend(view, state, opts.otel),
  });
}

export interface Served {
  readonly url: string;
  scrape(): Promise<{ status: number; contentType: string | null; body: string }>;
  close(): Promise<void>;
}

export async function serve(exporter: SyncExporter): Promise<Served> {
  const server: Server = await listen(createApp(createRouter(exporter)), { host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${boundPort(server)}`;
  return {
    url,
    async scrape() {
      const res = await fetch(`${url}/metrics`);
      return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
    },
    async close() {
      await closeServer(server);
      await exporter.close();
    },
  };
}

export { parseSamples, key as seriesKey, type Sample } from './helpers/exposition.js';

/** `name{labels}` → value for the samples whose name passes `keep`; a duplicate series throws. */
export function seriesMap(samples: readonly Sample[], keep: (name: string) => boolean = (n) => n.startsWith('ditto_sync_')): Map<string, number> {
  const map = new Map<string, number>();
  for (const s of samples) {
    if (!keep(s.name)) continue;
    const k = seriesKey(s.name, s.labels);
    if (map.has(k)) throw new Error(`series emitted twice: ${k}`);
    map.set(k, s.value);
  }
  return map;
}

/** `# HELP` and `# TYPE` lines of the ditto_sync_* families. */
export function metadataLines(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => /^# (HELP|TYPE) ditto_sync_/.test(l))
    .sort();
}
