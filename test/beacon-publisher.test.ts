/**
 * The beacon publisher against a stand-in for the SDK's SmallPeerInfo, written after the SDK's
 * own JavaScript (5.1.0): `metadata` is JSON over the `metadataJSONString` accessor pair, whose
 * setter validates (an object under 128 KB) and throws once the instance is closed. The real SDK
 * is exercised in beacon-ditto.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BEACON_KEY, type HealthBeacon } from '../src/collectors/beacon.js';
import { SyncExporter } from '../src/exporter.js';
import { HealthPublisher, MAX_BEACON_BYTES } from '../src/sources/health-publisher.js';
import { captureLogger, TestSource } from './otel-support.js';
import { ROOT } from './helpers/cli.js';

class StandInSmallPeerInfo {
  private json = '{}';
  closed = false;
  enabled = true;
  writes = 0;

  get isEnabled(): boolean {
    return this.enabled;
  }
  get metadata(): Record<string, unknown> {
    return JSON.parse(this.metadataJSONString) as Record<string, unknown>;
  }
  set metadata(value: Record<string, unknown>) {
    this.metadataJSONString = JSON.stringify(value);
  }
  get metadataJSONString(): string {
    if (this.closed) throw new Error("Can't perform operation using a Ditto instance that has been closed.");
    return this.json;
  }
  set metadataJSONString(value: string) {
    if (this.closed) throw new Error("Can't perform operation using a Ditto instance that has been closed.");
    if (typeof value !== 'string') throw new TypeError(`Expected string, got ${typeof value}`);
    const parsed = JSON.parse(value) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('Validation error, invalid JSON object');
    if (value.length >= 128 * 1024) throw new Error('Validation error, metadata too large');
    this.json = value;
    this.writes++;
  }
}

/** What the SDK's own setter does, bypassing any wrapper on the instance. */
const protoSet = (info: StandInSmallPeerInfo, json: string) => Object.getOwnPropertyDescriptor(StandInSmallPeerInfo.prototype, 'metadataJSONString')!.set!.call(info, json);

const T = 1_700_000_000;
const beaconAt = (at: number): HealthBeacon => ({
  v: 1,
  at,
  exporter_version: '0.1.0',
  peers: 2,
  connected_peers: 1,
  cloud_servers: 1,
  cloud_servers_connected: 1,
  cloud_last_update_at: at - 1,
  local_commit_id: '12',
  cloud_synced_commit_id: '10',
  unacked_commits: 1,
  oldest_unacked_commit_at: at - 5,
  rows_unusable: 0,
});

const publishers: HealthPublisher[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const p of publishers.splice(0)) await p.close();
});

function publisher(info: StandInSmallPeerInfo, beacon: () => Promise<HealthBeacon | undefined>, intervalMs = 60_000, logger = captureLogger()) {
  const p = new HealthPublisher(info, { beacon, intervalMs, logger });
  publishers.push(p);
  return { p, logger };
}

const counts = (p: HealthPublisher) => ({ ...Object.fromEntries(p.stats.publishes), failures: p.stats.failures });

describe('the beacon publisher', () => {
  it('writes the beacon beside the application\'s keys, leaving every one of them as it was', async () => {
    const info = new StandInSmallPeerInfo();
    const app = { app: 'pos-terminal', nested: { deep: [1, { x: null }] }, unicode: 'ß→✓' };
    info.metadata = app;
    const { p } = publisher(info, async () => beaconAt(T));
    await p.refreshNow();
    const { [BEACON_KEY]: beacon, ...rest } = info.metadata;
    expect(rest).toEqual(app);
    expect(beacon).toEqual(beaconAt(T));
    expect(Buffer.byteLength(JSON.stringify({ [BEACON_KEY]: beacon }))).toBeLessThan(MAX_BEACON_BYTES / 4);
    expect(p.stats.lastPublishAt).toBe(T);
    expect(counts(p)).toEqual({ refresh: 1, restore: 0, failures: 0 });
  });

  it.each([
    ['metadata = {...}', (info: StandInSmallPeerInfo) => void (info.metadata = { app: 'v2' })],
    ['metadataJSONString = "..."', (info: StandInSmallPeerInfo) => void (info.metadataJSONString = '{"app":"v2"}')],
  ])('puts the beacon back in the same call when the application replaces the metadata (%s)', async (_name, replace) => {
    const info = new StandInSmallPeerInfo();
    info.metadata = { app: 'v1' };
    const { p } = publisher(info, async () => beaconAt(T));
    p.start();
    await vi.waitFor(() => expect(info.metadata[BEACON_KEY]).toBeDefined());
    replace(info);
    expect(info.metadata).toEqual({ app: 'v2', [BEACON_KEY]: beaconAt(T) });
    expect(counts(p)).toEqual({ refresh: 1, restore: 1, failures: 0 });
    // The application writing the beacon unchanged back (a read-modify-write) is not a restore.
    info.metadata = { ...info.metadata, other: true };
    expect(counts(p)).toEqual({ refresh: 1, restore: 1, failures: 0 });
  });

  it('lets the SDK refuse the application\'s own bad metadata with its own error, changing nothing', async () => {
    const info = new StandInSmallPeerInfo();
    info.metadata = { app: 'v1' };
    const { p } = publisher(info, async () => beaconAt(T));
    await p.refreshNow();
    p.start();
    const before = info.metadataJSONString;
    expect(() => (info.metadataJSONString = '[1,2]')).toThrow('Validation error, invalid JSON object');
    expect(() => (info.metadataJSONString = 'not json')).toThrow(SyntaxError);
    expect(info.metadataJSONString).toBe(before);
    expect(counts(p).failures).toBe(0);
  });

  it('lets the application\'s metadata win when it only fits without the beacon (counted, never thrown)', async () => {
    const info = new StandInSmallPeerInfo();
    const { p } = publisher(info, async () => beaconAt(T));
    p.start();
    await vi.waitFor(() => expect(info.metadata[BEACON_KEY]).toBeDefined());
    const big = { blob: 'x'.repeat(128 * 1024 - 200) };
    info.metadata = big;
    expect(info.metadata).toEqual(big);
    expect(counts(p).failures).toBe(1);
  });

  it('puts the beacon back at the next refresh when it went missing some other way', async () => {
    const info = new StandInSmallPeerInfo();
    let next: HealthBeacon | undefined = beaconAt(T);
    const { p } = publisher(info, async () => next);
    await p.refreshNow();
    protoSet(info, '{"app":"bypass"}');
    // No snapshot served now: the last beacon goes back as it was (its `at` does not move).
    next = undefined;
    await p.refreshNow();
    expect(info.metadata).toEqual({ app: 'bypass', [BEACON_KEY]: beaconAt(T) });
    expect(counts(p)).toEqual({ refresh: 1, restore: 1, failures: 0 });
    // Still nothing new, and the beacon is in place: no write at all.
    const writes = info.writes;
    await p.refreshNow();
    expect(info.writes).toBe(writes);
    expect(p.stats.lastPublishAt).toBe(T);
  });

  it('writes nothing before there is a first beacon', async () => {
    const info = new StandInSmallPeerInfo();
    const { p } = publisher(info, async () => undefined);
    await p.refreshNow();
    expect(info.writes).toBe(0);
    expect(p.stats).toEqual({ publishes: new Map([['refresh', 0], ['restore', 0]]), failures: 0, lastPublishAt: undefined });
  });

  it('counts a failing SDK or beacon builder, logs once per run of failures, and never throws', async () => {
    const info = new StandInSmallPeerInfo();
    let fail: 'sdk' | 'builder' | undefined = 'sdk';
    const { p, logger } = publisher(info, async () => {
      if (fail === 'builder') throw new Error('no view');
      return beaconAt(T);
    });
    info.closed = true;
    await p.refreshNow();
    await p.refreshNow();
    fail = 'builder';
    info.closed = false;
    await p.refreshNow();
    expect(counts(p)).toEqual({ refresh: 0, restore: 0, failures: 3 });
    expect(logger.warnings).toHaveLength(1);
    fail = undefined;
    await p.refreshNow();
    expect(counts(p)).toEqual({ refresh: 1, restore: 0, failures: 3 });
  });

  it('never writes a beacon over 2 KB', async () => {
    const info = new StandInSmallPeerInfo();
    const { p } = publisher(info, async () => ({ ...beaconAt(T), exporter_version: 'v'.repeat(MAX_BEACON_BYTES) }));
    await p.refreshNow();
    expect(info.writes).toBe(0);
    expect(counts(p).failures).toBe(1);
  });

  it('refreshes at once, then every interval and not more often, on a timer that keeps no process alive', async () => {
    vi.useFakeTimers({ now: T * 1000 });
    const info = new StandInSmallPeerInfo();
    const built: number[] = [];
    const { p } = publisher(info, async () => {
      built.push(Date.now() / 1000);
      return beaconAt(Date.now() / 1000);
    }, 60_000);
    p.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(built).toEqual([T]);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(built).toEqual([T]);
    await vi.advanceTimersByTimeAsync(1);
    expect(built).toEqual([T, T + 60]);
    await vi.advanceTimersByTimeAsync(180_000);
    expect(built).toEqual([T, T + 60, T + 120, T + 180, T + 240]);
    expect((info.metadata[BEACON_KEY] as HealthBeacon).at).toBe(T + 240);
  });

  it('does not hold the process open: a process whose only work is a started publisher exits by itself', () => {
    const script = [
      "import { HealthPublisher } from './src/sources/health-publisher.ts';",
      "class Info { json = '{}'; get metadataJSONString() { return this.json; } set metadataJSONString(v) { this.json = v; } }",
      "const p = new HealthPublisher(new Info(), { beacon: async () => undefined, intervalMs: 10 });",
      'p.start();',
      "setTimeout(() => console.log('started'), 50);",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('started\n');
    expect(r.status).toBe(0);
  });

  it('on close: stops, unwraps the setter, takes its key out and leaves the rest; twice is fine, a closed SDK too', async () => {
    const info = new StandInSmallPeerInfo();
    info.metadata = { app: 'v1' };
    const { p } = publisher(info, async () => beaconAt(T), 20);
    p.start();
    await vi.waitFor(() => expect(info.metadata[BEACON_KEY]).toBeDefined());
    expect(Object.getOwnPropertyDescriptor(info, 'metadataJSONString')).toBeDefined();
    await p.close();
    expect(info.metadata).toEqual({ app: 'v1' });
    expect(Object.getOwnPropertyDescriptor(info, 'metadataJSONString')).toBeUndefined();
    const writes = info.writes;
    await new Promise((r) => setTimeout(r, 80));
    expect(info.writes).toBe(writes);
    info.metadata = { app: 'v3' };
    expect(info.metadata).toEqual({ app: 'v3' });
    await p.close();
    const other = publisher(new StandInSmallPeerInfo(), async () => beaconAt(T)).p;
    await other.refreshNow();
    (other as unknown as { info: StandInSmallPeerInfo }).info.closed = true;
    await expect(other.close()).resolves.toBeUndefined();
  });

  it('warns when small peer info collection is off: the beacon would never leave the device', () => {
    const info = new StandInSmallPeerInfo();
    info.enabled = false;
    const { p, logger } = publisher(info, async () => beaconAt(T));
    p.start();
    expect(logger.warnings.map((w) => String(w[0]))).toEqual([expect.stringContaining('isEnabled is false')]);
  });

  it('refuses an SDK without the metadataJSONString accessor, and a bad interval', () => {
    expect(() => new HealthPublisher({ metadataJSONString: '{}' }, { beacon: async () => undefined, intervalMs: 1 })).toThrow(/no metadataJSONString accessor/);
    expect(() => new HealthPublisher(new StandInSmallPeerInfo(), { beacon: async () => undefined, intervalMs: 0 })).toThrow(RangeError);
  });
});

describe('publishHealth on the exporter', () => {
  it('is refused for a source with no Ditto instance', () => {
    expect(() => new SyncExporter(new TestSource(), { collectDefaultMetrics: false, publishHealth: true })).toThrow(/publishHealth needs a source with a Ditto instance/);
    expect(() => new SyncExporter(new TestSource(), { collectDefaultMetrics: false, publishInterval: -1 })).toThrow(/publishInterval/);
  });
});
