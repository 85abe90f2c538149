import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startOtlpPush } from '../src/backends/otlp-push.js';
import { MAX_TIMER_MS, RANGES, type OptionRange } from '../src/bounds.js';
import { BOUNDS } from '../src/config.js';
import { SyncExporter, type ExporterOptions } from '../src/exporter.js';
import { closeServer, createApp, createRouter, listen } from '../src/server.js';
import { FleetSource } from '../src/sources/fleet/fleet-source.js';
import { DEFAULT_MESH, MeshSimulator } from '../src/sources/mesh-simulator.js';
import { ReplaySource } from '../src/sources/replay.js';
import { SimulateSource } from '../src/sources/simulate.js';
import { ManualSource } from './helpers/fake-source.js';

// Library options get the CLI's bounds: before, anything positive was accepted, and a duration past
// 2^31-1 ms (refreshTimeout: 3e6 seconds) became a 1 ms timer.

/** Values just inside and just outside a range. */
function edges(r: OptionRange): { inside: number[]; outside: unknown[] } {
  const step = r.integer ? 1 : Math.max(Math.abs(r.min), 1e-3) / 10;
  const outside: unknown[] = [r.max + Math.max(step, r.max * 1e-9), r.min - step, NaN, Infinity, 1e308, '5'];
  if (r.integer) outside.push(r.min + 0.5);
  return { inside: [r.min, r.max], outside };
}

/** Every numeric ExporterOptions entry, how to set it, and the CLI flag it mirrors (if any). */
const EXPORTER_OPTIONS: Array<[string, OptionRange, (v: number) => ExporterOptions, keyof typeof BOUNDS | undefined]> = [
  ['maxPeers', RANGES.maxPeers, (v) => ({ maxPeers: v }), 'maxPeers'],
  ['maxTrackedCommits', RANGES.maxTrackedCommits, (v) => ({ maxTrackedCommits: v }), 'maxTrackedCommits'],
  ['maxSnapshotAge', RANGES.maxSnapshotAge, (v) => ({ maxSnapshotAge: v }), 'maxSnapshotAge'],
  ['refreshTimeout', RANGES.refreshTimeout, (v) => ({ refreshTimeout: v }), 'refreshTimeout'],
  ['stallAfter', RANGES.stallAfter, (v) => ({ stallAfter: v }), 'stallAfter'],
  ['publishInterval', RANGES.publishInterval, (v) => ({ publishInterval: v }), 'publishInterval'],
  ['engineMetrics.timeout', RANGES.engineTimeout, (v) => ({ engineMetrics: { url: 'http://127.0.0.1:1/metrics', timeout: v } }), undefined],
  ['engineMetrics.maxBytes', RANGES.engineMaxBytes, (v) => ({ engineMetrics: { url: 'http://127.0.0.1:1/metrics', maxBytes: v } }), undefined],
];

const build = (options: ExporterOptions) => new SyncExporter(new ManualSource(), { collectDefaultMetrics: false, ...options });

describe('SyncExporter options have the CLI flags’ bounds', () => {
  it.each(EXPORTER_OPTIONS)('%s: accepts its range, refuses past it with a RangeError naming it', (name, range, set, flag) => {
    if (flag) expect(BOUNDS[flag].range).toEqual({ min: range.min, max: range.max });
    const { inside, outside } = edges(range);
    for (const v of inside) expect(() => build(set(v)), `${name} ${v}`).not.toThrow();
    for (const v of outside) {
      expect(() => build(set(v as number)), `${name} ${String(v)}`).toThrow(RangeError);
      expect(() => build(set(v as number)), `${name} ${String(v)}`).toThrow(new RegExp(`^${name.replace('.', '\\.')} must be`));
    }
  });

  it('refuses the reported refreshTimeout of 3e6 seconds, which became a 1 ms timer', () => {
    expect(3e6 * 1000).toBeGreaterThan(MAX_TIMER_MS);
    expect(() => build({ refreshTimeout: 3e6 })).toThrow('refreshTimeout must be a number from 0.1 to 600 (seconds), got 3000000');
  });

  it('a refused option leaves nothing in the registry it was given', async () => {
    const { Registry } = await import('prom-client');
    const registry = new Registry();
    expect(() => new SyncExporter(new ManualSource(), { registry, collectDefaultMetrics: true, stallAfter: 1e9 })).toThrow(/stallAfter/);
    expect(await registry.getMetricsAsJSON()).toEqual([]);
  });
});

describe('the other library entry points have them too', () => {
  const exporter = () => build({});

  it('createRouter (and attachSyncExporter) maxConcurrentScrapes', () => {
    expect(() => createRouter(exporter(), undefined, { maxConcurrentScrapes: RANGES.maxConcurrentScrapes.max })).not.toThrow();
    expect(() => createRouter(exporter(), undefined, { maxConcurrentScrapes: RANGES.maxConcurrentScrapes.max + 1 })).toThrow(/^maxConcurrentScrapes must be an integer from 1 to 10,000/);
  });

  it('listen maxConnections and closeServer graceMs', async () => {
    const app = createApp(createRouter(exporter()));
    await expect(listen(app, { host: '127.0.0.1', port: 0, maxConnections: 65_537 })).rejects.toThrow(/^maxConnections must be an integer from 1 to 65,536/);
    const server = createServer();
    // 2^31 ms would close every connection after 1 ms instead of after the grace.
    await expect(closeServer(server, 2 ** 31)).rejects.toThrow(/^graceMs must be a number from 0 to 3,600,000 \(milliseconds\)/);
  });

  it('startOtlpPush intervalMs: the issue’s --otlp-interval 2200000 in milliseconds is refused', () => {
    expect(() => startOtlpPush({ target: exporter(), endpoint: 'http://127.0.0.1:1', intervalMs: 2_200_000_000, env: {} })).toThrow(/^intervalMs must be a number from 100 to 86,400,000/);
  });

  it('FleetSource durations and counts', () => {
    const fleet = (extra: object) => () => new FleetSource({ url: 'https://fleet.invalid/app', apiKey: () => 'k', ...extra });
    expect(fleet({ intervalSeconds: RANGES.fleetInterval.max, requestTimeoutSeconds: 600, liveTimeoutSeconds: 600, pageSize: 10_000, retries: 10, maxDevices: 1_000_000 })).not.toThrow();
    for (const [name, value] of [
      ['intervalSeconds', 3e6],
      ['requestTimeoutSeconds', 601],
      ['liveTimeoutSeconds', 0],
      ['pageSize', 10_001],
      ['retries', 11],
      ['maxDevices', 0],
    ] as const) {
      expect(fleet({ [name]: value }), name).toThrow(new RegExp(`^${name} must be`));
    }
  });

  it('SimulateSource tickMs, MeshSimulator sizes and ReplaySource maxLineBytes', () => {
    // --simulate-tick-ms 3000000000 ticked 1,676 times in 2 s.
    expect(() => new SimulateSource({ mesh: DEFAULT_MESH, tickMs: 3_000_000_000 })).toThrow(/^tickMs must be an integer from 10 to 86,400,000 \(milliseconds\)/);
    expect(() => new MeshSimulator({ ...DEFAULT_MESH, devices: 100_000_000 })).toThrow(/^simulate devices must be an integer from 0 to 100,000/);
    expect(() => new MeshSimulator({ ...DEFAULT_MESH, churn: 1.5 })).toThrow(/^simulate churn must be a number from 0 to 1/);
    expect(() => new ReplaySource({ file: '/nonexistent', maxLineBytes: 2 ** 30 })).toThrow(/^maxLineBytes must be an integer/);
    expect(() => new ReplaySource({ file: '/nonexistent', maxLineBytes: 1024 })).not.toThrow();
  });
});
