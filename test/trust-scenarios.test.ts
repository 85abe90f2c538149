/**
 * Issue 9, case by case: replay files under test/fixtures/trust/ with the value each metric must
 * have, worked out by hand in the comments. T = 1700000000 in every file.
 */
import { describe, expect, it } from 'vitest';
import { ACK_BUCKETS_SECONDS } from '../src/catalogue/index.js';
import { SyncExporter, type ExporterOptions } from '../src/exporter.js';
import { parseReplayLine } from '../src/sources/replay-line.js';
import { ReplaySource } from '../src/sources/replay.js';
import { sampleMap, valueOf } from './helpers/exposition.js';
import { ManualSource, row } from './helpers/fake-source.js';

const T = 1_700_000_000;
const fixture = (name: string) => new URL(`./fixtures/trust/${name}`, import.meta.url).pathname;

async function replay(name: string, options: ExporterOptions = {}): Promise<{ exporter: SyncExporter; body: string; v: (metric: string, labels?: Record<string, string>) => number | undefined }> {
  const source = new ReplaySource({ file: fixture(name) });
  const exporter = new SyncExporter(source, { collectDefaultMetrics: false, ...options });
  await exporter.start();
  await source.applied();
  const body = (await exporter.backend.render('prometheus')).body;
  return { exporter, body, v: (metric, labels = {}) => valueOf(body, metric, labels) };
}

const dev = (id: string) => ({ peer_id: id, peer_type: 'device' });
const cloud = (id: string) => ({ peer_id: id, peer_type: 'cloud' });

/** Prometheus' histogram_quantile over cumulative buckets (promql/quantile.go, bucketQuantile). */
function histogramQuantile(q: number, buckets: readonly { le: number; cumulative: number }[]): number {
  const total = buckets[buckets.length - 1]!.cumulative;
  const rank = q * total;
  let i = buckets.findIndex((b) => b.cumulative >= rank);
  if (buckets[i]!.le === Infinity) return buckets[i - 1]!.le;
  const lower = i === 0 ? 0 : buckets[i - 1]!.le;
  const before = i === 0 ? 0 : buckets[i - 1]!.cumulative;
  return lower + (buckets[i]!.le - lower) * ((rank - before) / (buckets[i]!.cumulative - before));
}

function ackBuckets(body: string): { le: number; cumulative: number }[] {
  return [...sampleMap(body).values()]
    .filter((s) => s.name === 'ditto_sync_commit_cloud_ack_seconds_bucket')
    .map((s) => ({ le: s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']), cumulative: s.value }))
    .sort((a, b) => a.le - b.le);
}

describe('1. lags are never 0 by construction: no tracked commit, no local commit id', () => {
  it('leaves out the local commit id and every lag, keeps what the rows say', async () => {
    const { exporter, v } = await replay('untracked.jsonl');
    expect(v('ditto_sync_tracked_commits_total')).toBe(0);
    expect(v('ditto_sync_local_commit_id')).toBeUndefined();
    expect(v('ditto_sync_cloud_commit_lag')).toBeUndefined();
    // The best-synced peer (pkDevA, 50) would have read 0 here, and the cloud 10.
    for (const peer of [cloud('pkCloud'), dev('pkDevA'), dev('pkDevB')]) expect(v('ditto_sync_peer_commit_lag', peer)).toBeUndefined();
    expect(v('ditto_sync_peer_synced_commit_id', dev('pkDevA'))).toBe(50);
    expect(v('ditto_sync_peer_synced_commit_id', cloud('pkCloud'))).toBe(40);
    // Unacked and its age are facts about tracked commits: with none, they are not known, not 0.
    expect(v('ditto_sync_cloud_unacked_commits')).toBeUndefined();
    expect(v('ditto_sync_cloud_oldest_unacked_commit_age_seconds')).toBeUndefined();
    await exporter.close();
  });
});

describe('2. one unusable field never drops the row, and a shape surprise cannot hide the gap', () => {
  it('uses rows whose is_ditto_server is unusable as peer_type="unknown", counts them, and keeps the commits waiting', async () => {
    const { exporter, v } = await replay('unusable-type.jsonl');
    // pkA "yes", pkB 1, pkC absent: three rows of unknown type, all Connected.
    expect(v('ditto_sync_peers', { peer_type: 'unknown', status: 'connected' })).toBe(3);
    expect(v('ditto_sync_fields_unusable', { field: 'is_ditto_server' })).toBe(3);
    expect(v('ditto_sync_rows_unusable', { reason: 'missing_id' })).toBe(0);
    expect(v('ditto_sync_connected_peers')).toBe(3);
    // None is taken for a cloud server, so nothing acks the commits: 10 and 11 (at T) and 12 (at T+300) wait.
    expect(v('ditto_sync_cloud_servers')).toBe(0);
    expect(v('ditto_sync_cloud_unacked_commits')).toBe(3);
    expect(v('ditto_sync_cloud_oldest_unacked_commit_age_seconds')).toBe(600);
    // local = max(tracked 12, rows 7) = 12; pkC synced 7 → lag 5.
    expect(v('ditto_sync_peer_commit_lag', { peer_id: 'pkC', peer_type: 'unknown' })).toBe(5);
    await exporter.close();
  });

  it('keeps every usable field of rows with one unusable field, and leaves out only rows without a usable _id', async () => {
    const { exporter, v } = await replay('fields.jsonl');
    // pkBig's commit id (9007199254740993 read as a JS number) is unusable; its time is used.
    expect(v('ditto_sync_peer_synced_commit_id', dev('pkBig'))).toBeUndefined();
    expect(v('ditto_sync_peer_last_update_timestamp_seconds', dev('pkBig'))).toBe(T - 3);
    // pkText's time is prose; its commit id 4 is used (the duplicate row with 99 is left out).
    expect(v('ditto_sync_peer_synced_commit_id', dev('pkText'))).toBe(4);
    expect(v('ditto_sync_peer_last_update_timestamp_seconds', dev('pkText'))).toBeUndefined();
    // pkDocs: documents is not a map: a device of unknown status.
    expect(v('ditto_sync_peer_status', { ...dev('pkDocs'), status: 'unknown' })).toBe(1);
    // "constructor" is a status this exporter does not know, never a lookup on Object.prototype.
    expect(v('ditto_sync_peer_status', { ...dev('pkProto'), status: 'unknown' })).toBe(1);
    expect(v('ditto_sync_peer_status', { ...dev('pkNoStatus'), status: 'unknown' })).toBe(1);
    expect(v('ditto_sync_fields_unusable', { field: 'synced_up_to_local_commit_id' })).toBe(1);
    expect(v('ditto_sync_fields_unusable', { field: 'last_update_received_time' })).toBe(1);
    expect(v('ditto_sync_fields_unusable', { field: 'documents' })).toBe(1);
    expect(v('ditto_sync_fields_unusable', { field: 'sync_session_status' })).toBe(1);
    expect(v('ditto_sync_fields_unusable', { field: 'is_ditto_server' })).toBe(0);
    // Left out: no _id, a second pkText, "junk", and an _id with a lone surrogate.
    expect(v('ditto_sync_rows_unusable', { reason: 'missing_id' })).toBe(1);
    expect(v('ditto_sync_rows_unusable', { reason: 'duplicate_id' })).toBe(1);
    expect(v('ditto_sync_rows_unusable', { reason: 'not_an_object' })).toBe(1);
    expect(v('ditto_sync_rows_unusable', { reason: 'bad_id' })).toBe(1);
    // Six rows used: pkCloud, pkBig, pkText, pkDocs, pkProto, pkNoStatus.
    expect(v('ditto_sync_peers_omitted')).toBe(0);
    expect(v('ditto_sync_connected_peers')).toBe(3);
    // local = max(tracked 3, usable rows' ids 2, 4, 1, 2) = 4.
    expect(v('ditto_sync_local_commit_id')).toBe(4);
    expect(v('ditto_sync_cloud_commit_lag')).toBe(2);
    await exporter.close();
  });
});

describe('3. timestamps: the unit by magnitude, never a far-future value taken as fresh', () => {
  it('reads s, ms, µs and ns; -1 is never; up to a day ahead is clamped and counted; beyond is unusable', async () => {
    const { exporter, v } = await replay('timestamps.jsonl');
    expect(v('ditto_sync_peer_last_update_timestamp_seconds', dev('pkS'))).toBe(T - 10);
    expect(v('ditto_sync_peer_last_update_timestamp_seconds', dev('pkMs'))).toBe(T - 20);
    expect(v('ditto_sync_peer_last_update_timestamp_seconds', dev('pkUs'))).toBe(T - 30);
    expect(v('ditto_sync_peer_last_update_timestamp_seconds', dev('pkNs'))).toBe(T - 40);
    expect(v('ditto_sync_peer_seconds_since_last_update', dev('pkNs'))).toBe(40);
    expect(v('ditto_sync_peer_last_update_timestamp_seconds', dev('pkNever'))).toBeUndefined();
    expect(v('ditto_sync_peer_seconds_since_last_update', dev('pkAhead'))).toBe(0);
    expect(v('ditto_sync_rows_ahead_of_clock')).toBe(1);
    // The Not Connected cloud row 10 days ahead (in ns) is unusable: the connected one, an hour stale, decides.
    expect(v('ditto_sync_fields_unusable', { field: 'last_update_received_time' })).toBe(1);
    expect(v('ditto_sync_cloud_seconds_since_last_update')).toBe(3600);
    expect(v('ditto_sync_cloud_last_update_timestamp_seconds')).toBe(T - 3600);
    await exporter.close();
  });
});

describe('4. --max-peers keeps the per-peer set stable', () => {
  it('keeps the first peers admitted while their rows exist, and gives freed slots to cloud servers first', async () => {
    const source = new ManualSource();
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false, maxPeers: 3 });
    await exporter.start();
    const kept = async () => {
      const body = (await exporter.backend.render('prometheus')).body;
      return [...new Set([...sampleMap(body).values()].filter((s) => s.name === 'ditto_sync_peer_status').map((s) => s.labels['peer_id']))].sort();
    };
    const tick = (t: number, rows: unknown[]) => source.sink!.tick({ readAt: t, rows });
    // Cap 3: the cloud first, then connected devices by id: d1, d2.
    tick(T, [row('c1', { cloud: true }), ...['d1', 'd2', 'd3', 'd4', 'd5'].map((id, i) => row(id, { lastUpdate: T - i }))]);
    expect(await kept()).toEqual(['c1', 'd1', 'd2']);
    // d1 falls silent and d5 becomes the freshest: nothing changes.
    tick(T + 1, [row('c1', { cloud: true }), row('d1', { status: 'Not Connected', lastUpdate: T - 3600 }), ...['d2', 'd3', 'd4'].map((id) => row(id, { lastUpdate: T })), row('d5', { lastUpdate: T + 1 })]);
    expect(await kept()).toEqual(['c1', 'd1', 'd2']);
    // d2 vanishes and a second cloud server appears: the freed slot goes to it, not to d3.
    tick(T + 2, [row('c1', { cloud: true }), row('d1'), row('d3'), row('d4'), row('d5'), row('c2', { cloud: true })]);
    expect(await kept()).toEqual(['c1', 'c2', 'd1']);
    await exporter.close();
  });
});

describe('5. unusable input is a gauge of the latest snapshot, not a count of observations', () => {
  it('reads 1 for one bad row that persists over ten ticks', async () => {
    const { exporter, v } = await replay('persistent-bad-row.jsonl');
    expect(v('ditto_sync_observer_ticks_total')).toBe(10);
    expect(v('ditto_sync_rows_unusable', { reason: 'missing_id' })).toBe(1);
    await exporter.close();
  });
});

describe('5b. unusable input is logged, once per change', () => {
  it('writes one warning when unusable input appears or changes, nothing while it stays, and one line when it is gone', async () => {
    const lines: { level: string; message: string }[] = [];
    const log = (level: string) => (a: unknown, b?: unknown) => void lines.push({ level, message: String(typeof a === 'string' ? a : b) });
    const logger = { debug: () => {}, info: log('info'), warn: log('warn'), error: log('error') } as unknown as import('../src/logger.js').Logger;
    const source = new ManualSource();
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false, logger });
    await exporter.start();
    const bad = { _id: 'pkBad', is_ditto_server: 'yes', documents: {} };
    for (let k = 0; k < 5; k++) source.sink!.tick({ readAt: T + k, rows: [row('pkA'), bad, { nope: 1 }] });
    const warnings = () => lines.filter((l) => l.level === 'warn').map((l) => l.message);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatch(/missing_id 1, is_ditto_server 1, sync_session_status 1/);
    source.sink!.tick({ readAt: T + 6, rows: [row('pkA'), bad] });
    expect(warnings()).toHaveLength(2);
    source.sink!.tick({ readAt: T + 7, rows: [row('pkA')] });
    expect(lines.filter((l) => l.level === 'info').map((l) => l.message)).toContain('every row of system:data_sync_info is usable again');
    await exporter.close();
  });
});

describe('6. a closed source serves no frozen snapshot', () => {
  it('drops every snapshot series once the source is closed, keeping health', async () => {
    const { exporter, v } = await replay('untracked.jsonl');
    expect(v('ditto_sync_peer_status', { ...dev('pkDevA'), status: 'connected' })).toBe(1);
    await exporter.source.close();
    const body = (await exporter.backend.render('prometheus')).body;
    expect(valueOf(body, 'ditto_sync_up')).toBe(0);
    expect(body).not.toContain('pkDevA');
    expect(valueOf(body, 'ditto_sync_connected_peers')).toBeUndefined();
    expect(valueOf(body, 'ditto_sync_cloud_servers')).toBeUndefined();
    expect(valueOf(body, 'ditto_sync_observer_ticks_total')).toBe(1);
    expect(valueOf(body, 'ditto_sync_snapshot_age_seconds')).toBe(0);
    await exporter.close();
  });
});

describe('7. the ack histogram tells the truth', () => {
  it('observes a commit the cloud already had when it was tracked, with its wait up to then', async () => {
    const { exporter, v } = await replay('already-acked.jsonl');
    // Commit 50 made at T−20, tracked at T+10 with the cloud at 100 since T: 30 s. Commit 150 waits.
    expect(v('ditto_sync_commit_cloud_ack_seconds_count')).toBe(1);
    expect(v('ditto_sync_commit_cloud_ack_seconds_sum')).toBe(30);
    expect(v('ditto_sync_commit_cloud_ack_seconds_bucket', { le: '20' })).toBe(0);
    expect(v('ditto_sync_commit_cloud_ack_seconds_bucket', { le: '30' })).toBe(1);
    expect(v('ditto_sync_cloud_unacked_commits')).toBe(1);
    await exporter.close();
  });

  it('after a 20-minute outage, reads a p99 within 25 % of the longest wait (the old buckets read 48 % high)', async () => {
    // 120 commits at T+4, T+14, …, T+1194, all acked at T+1200: waits 1196, 1186, …, 6.
    const { exporter, v, body } = await replay('outage-20min.jsonl');
    expect(v('ditto_sync_commit_cloud_ack_seconds_count')).toBe(120);
    expect(v('ditto_sync_commit_cloud_ack_seconds_sum')).toBe(120 * 1196 - 10 * ((119 * 120) / 2));
    const longest = 1196;
    // Rank 118.8 falls in (1000, 1250], which holds the 20 waits above 1000: 1000 + 250 × 18.8 / 20 = 1235.
    const p99 = histogramQuantile(0.99, ackBuckets(body));
    expect(p99).toBeCloseTo(1235, 6);
    expect(Math.abs(p99 - longest) / longest).toBeLessThanOrEqual(0.25);
    await exporter.close();

    // The same waits through the buckets before this change (…, 600, 1800, …): 600 + 1200 × 58.8 / 60 = 1776.
    const oldBounds = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 21600];
    const waits = Array.from({ length: 120 }, (_, k) => 1196 - 10 * k);
    const oldBuckets = [...oldBounds, Infinity].map((le) => ({ le, cumulative: waits.filter((w) => w <= le).length }));
    expect(histogramQuantile(0.99, oldBuckets)).toBeCloseTo(1776, 6);
    expect(Math.abs(histogramQuantile(0.99, oldBuckets) - longest) / longest).toBeGreaterThan(0.25);
  });

  it('has no bucket more than 25 % wider than its lower bound from one minute to six hours', () => {
    const inRange = ACK_BUCKETS_SECONDS.filter((b) => b >= 60 && b <= 21_600);
    for (let i = 1; i < inRange.length; i++) expect(inRange[i]! / inRange[i - 1]!, `${inRange[i - 1]} → ${inRange[i]}`).toBeLessThanOrEqual(1.25);
    expect(ACK_BUCKETS_SECONDS[ACK_BUCKETS_SECONDS.length - 1]!).toBeGreaterThanOrEqual(21_600);
  });

  it('gives no lag to peers that never synced, so they cannot hide the real lags', async () => {
    const { exporter, v } = await replay('never-synced.jsonl');
    // local = max(tracked 100, rows 98) = 100.
    expect(v('ditto_sync_peer_commit_lag', cloud('pkCloud'))).toBe(2);
    expect(v('ditto_sync_peer_commit_lag', dev('pkReal'))).toBe(40);
    // Disabled with synced 0 would have read 100, the worst "lag" of all; without a synced id, nothing to say.
    expect(v('ditto_sync_peer_commit_lag', dev('pkDisabled'))).toBeUndefined();
    expect(v('ditto_sync_peer_synced_commit_id', dev('pkDisabled'))).toBe(0);
    expect(v('ditto_sync_peer_commit_lag', dev('pkNeverSynced'))).toBeUndefined();
    await exporter.close();
  });
});

describe('8. a refresh never replaces a newer snapshot', () => {
  it('drops a refresh overtaken by an observer tick, and applies one that was not', async () => {
    const source = new ManualSource();
    let release: (() => void) | undefined;
    const startedAt = source.clock;
    source.refresh = () =>
      new Promise((resolve) => {
        release = () => resolve({ readAt: startedAt, rows: [row('old', { synced: 1 })] });
      });
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false, maxSnapshotAge: 5, refreshTimeout: 30 });
    await exporter.start();
    source.sink!.tick({ readAt: source.clock, rows: [row('first')] });
    source.clock += 10;
    const fresh = exporter.ensureFresh();
    await new Promise((r) => setImmediate(r));
    // The observer delivers while the read is in flight; then the older read completes.
    source.sink!.tick({ readAt: source.clock, rows: [row('newer', { synced: 7 })] });
    release!();
    await fresh;
    const body = (await exporter.backend.render('prometheus')).body;
    expect(valueOf(body, 'ditto_sync_peer_synced_commit_id', dev('newer'))).toBe(7);
    expect(body).not.toContain('peer_id="old"');
    expect(valueOf(body, 'ditto_sync_snapshot_refreshes_total')).toBe(1);

    // Without a tick in between, the refresh is applied.
    source.clock += 10;
    const second = exporter.ensureFresh();
    await new Promise((r) => setImmediate(r));
    release!();
    await second;
    expect(valueOf((await exporter.backend.render('prometheus')).body, 'ditto_sync_peer_synced_commit_id', dev('old'))).toBe(1);
    await exporter.close();
  });
});

describe('9. library mode refuses a weak hash', () => {
  it('throws for peerIdLabel hash without a key, or with an empty one', () => {
    expect(() => new SyncExporter(new ManualSource(), { collectDefaultMetrics: false, peerIdLabel: 'hash' })).toThrow(/non-empty hash key/);
    expect(() => new SyncExporter(new ManualSource(), { collectDefaultMetrics: false, peerIdLabel: 'hash', peerIdHashKey: '' })).toThrow(/non-empty hash key/);
  });
});

describe('the exporter says what it runs', () => {
  it('reports no Ditto SDK and no strict mode for a replay', async () => {
    const { exporter } = await replay('untracked.jsonl');
    const info = [...sampleMap((await exporter.backend.render('prometheus')).body).values()];
    expect(info.find((s) => s.name === 'ditto_sync_exporter_build_info')?.labels['ditto_sdk_version']).toBe('none');
    expect(info.find((s) => s.name === 'ditto_sync_exporter_info')?.labels).toEqual({ source: 'replay', backend: 'prom-client', strict_mode: 'none', peer_id_label: 'full' });
    await exporter.close();
  });

  it('skips a replay line whose t runs backwards, and counts it: the clock never rewinds', async () => {
    const { exporter, v } = await replay('t-backwards.jsonl');
    // t = T+10, then T (skipped), then T+20.
    expect(v('ditto_sync_observer_ticks_total')).toBe(2);
    expect(v('ditto_sync_replay_lines_skipped_total', { reason: 't_backwards' })).toBe(1);
    expect(exporter.source.now()).toBe(T + 20);
    expect(v('ditto_sync_peer_synced_commit_id', dev('pkA'))).toBe(3);
    expect(parseReplayLine(JSON.stringify({ t: T, rows: [] })).ok).toBe(true);
    await exporter.close();
  });
});
