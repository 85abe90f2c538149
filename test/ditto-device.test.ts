/**
 * The presence observer and the storage families against the real Ditto SDK, in temporary stores.
 * With no license here this device has no remote peers: the presence part is verified for the
 * lone peer's graph (0 remote peers, 0 connections), the joins only on replayed and simulated
 * data (test/device-families.test.ts).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TRANSPORTS } from '../src/catalogue/device.js';
import { STORAGE_KEYS } from '../src/collectors/storage.js';
import { SyncExporter } from '../src/exporter.js';
import type { Logger } from '../src/logger.js';
import { DittoSource } from '../src/sources/ditto.js';
import { STORAGE_QUERY } from '../src/sources/ditto-queries.js';
import { RecordingSource } from '../src/sources/recorder.js';
import { parseReplayLine } from '../src/sources/replay-line.js';
import type { SourceSink } from '../src/sources/source.js';
import { openTempDitto, sampleValue, samples, watchUnhandledRejections, type TempDitto } from './ditto-test-kit.js';

/** A DittoSource whose clock can be moved forward, to make a reading stale without waiting. */
class ClockedDittoSource extends DittoSource {
  offset = 0;
  override now(): number {
    return super.now() + this.offset;
  }
}

/** A bug downstream of the presence observer: every graph handed over throws. */
class ThrowingPresenceSource extends DittoSource {
  override start(sink: SourceSink): Promise<void> {
    return super.start({
      ...sink,
      presence: () => {
        throw new Error('bug while applying a presence graph');
      },
    });
  }
}

function recordingLogger() {
  const lines: Array<{ level: string; message: string }> = [];
  const log = (level: string) => (a: unknown, b?: unknown) => void lines.push({ level, message: String(typeof a === 'string' ? a : b) });
  return { logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } as unknown as Logger, lines };
}

const body = async (exporter: SyncExporter) => (await exporter.scrape('prometheus')).body;
const isStorageQuery = (call: unknown[]) => call[0] === STORAGE_QUERY;

describe('the presence observer on the real SDK (a lone peer: 0 remote peers)', () => {
  let store: TempDitto;
  const rejections = watchUnhandledRejections();
  beforeAll(async () => {
    store = await openTempDitto();
  });
  afterAll(async () => {
    rejections.stop();
    await store?.dispose();
  });

  it('observes ditto.presence once (no polling), serves its first graph, and stops the observer on close', async () => {
    const presence = store.ditto.presence;
    const original = presence.observe.bind(presence);
    let stop: { mock: { calls: unknown[] } } | undefined;
    const observe = vi.spyOn(presence, 'observe').mockImplementation((handler) => {
      const observer = original(handler);
      stop = vi.spyOn(observer, 'stop');
      return observer;
    });
    const exporter = new SyncExporter(new DittoSource(store.ditto), { collectDefaultMetrics: false });
    try {
      await exporter.start();
      expect(observe).toHaveBeenCalledTimes(1);
      await vi.waitFor(async () => expect(sampleValue(await body(exporter), 'ditto_presence_remote_peers')).toBe(0), { timeout: 5000 });
      const text = await body(exporter);
      expect(Object.fromEntries(samples(text, 'ditto_presence_connections'))).toEqual(Object.fromEntries(TRANSPORTS.map((t) => [`{transport="${t}"}`, 0])));
      expect(samples(text, 'ditto_presence_items_unusable')).toEqual([
        ['{item="peer"}', 0],
        ['{item="connection"}', 0],
      ]);
      // No sessions, so no per-peer series and no info series.
      expect(samples(text, 'ditto_sync_peer_info')).toEqual([]);
      expect(sampleValue(text, 'ditto_sync_observer_errors_total')).toBe(0);
      // The local peer key of the graph is the source's: the join key Edge Studio uses.
      expect(exporter.view().device.presence?.localPeerKey).toBe(store.ditto.presence.graph.localPeer.peerKey);
      expect(observe).toHaveBeenCalledTimes(1);
    } finally {
      await exporter.close();
      observe.mockRestore();
    }
    expect(stop?.mock.calls).toHaveLength(1);
    expect(rejections.seen).toEqual([]);
  });

  it('--record writes the real graph as plain JSON into the replay format, and it replays', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'record-presence-')), 'session.jsonl');
    const source = new RecordingSource(new DittoSource(store.ditto), file);
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false });
    await exporter.start();
    await vi.waitFor(() => expect(exporter.view().sync!.ticks).toBeGreaterThanOrEqual(1), { timeout: 5000 });
    await exporter.close();
    const first = readFileSync(file, 'utf8').trim().split('\n')[0]!;
    const parsed = parseReplayLine(first);
    expect(parsed.ok).toBe(true);
    expect(JSON.parse(first).presence).toEqual({
      // On 5.1.0 here: deviceName "ditto", os "Linux". Only the fields the exporter reads, no metadata.
      localPeer: { peerKey: store.ditto.presence.graph.localPeer.peerKey, deviceName: expect.any(String), os: expect.any(String), dittoSdkVersion: source.dittoSdkVersion, isConnectedToDittoServer: false, connections: [] },
      remotePeers: [],
    });
  });

  it('a throw while applying a graph never reaches the SDK: it is logged and counted, sync goes on', async () => {
    const { logger, lines } = recordingLogger();
    const exporter = new SyncExporter(new ThrowingPresenceSource(store.ditto, { logger }), { collectDefaultMetrics: false, logger });
    try {
      await exporter.start();
      await vi.waitFor(() => expect(lines).toContainEqual({ level: 'error', message: 'presence observer callback failed' }), { timeout: 5000 });
      const text = await body(exporter);
      expect(sampleValue(text, 'ditto_sync_observer_errors_total')).toBeGreaterThanOrEqual(1);
      expect(sampleValue(text, 'ditto_sync_up')).toBe(1);
      expect(samples(text, 'ditto_presence_remote_peers')).toEqual([]);
    } finally {
      await exporter.close();
    }
    expect(rejections.seen).toEqual([]);
  });
});

describe('the storage families on the real SDK', () => {
  let plain: TempDitto;
  let strict: TempDitto;
  beforeAll(async () => {
    [plain, strict] = await Promise.all([openTempDitto(), openTempDitto({ strictMode: true })]);
  });
  afterAll(async () => {
    await Promise.all([plain?.dispose(), strict?.dispose()]);
  });

  it.each([
    ['off', () => plain],
    ['on', () => strict],
  ])('serves this device store and filesystem figures, measured by Ditto a moment ago (strict mode %s)', async (_mode, instance) => {
    const exporter = new SyncExporter(new DittoSource(instance().ditto), { collectDefaultMetrics: false, maxSnapshotAge: 0.5 });
    try {
      await exporter.start();
      // Ditto takes its first sample about a second after open.
      await vi.waitFor(async () => expect(sampleValue(await body(exporter), 'ditto_device_storage_values_unusable')).toBe(0), { timeout: 10_000, interval: 250 });
      const text = await body(exporter);
      const now = Date.now() / 1000;
      expect(sampleValue(text, 'ditto_device_storage_up')).toBe(1);
      const size = sampleValue(text, 'ditto_device_filesystem_size_bytes')!;
      const avail = sampleValue(text, 'ditto_device_filesystem_avail_bytes')!;
      expect(size).toBeGreaterThan(0);
      expect(avail).toBeGreaterThan(0);
      expect(avail).toBeLessThanOrEqual(size);
      const store = Object.fromEntries(samples(text, 'ditto_store_size_bytes'));
      expect(Object.keys(store).sort()).toEqual(['{component="attachments"}', '{component="auth"}', '{component="replication"}', '{component="store"}', '{component="total"}']);
      for (const v of Object.values(store)) expect(Number.isInteger(v) && v >= 0).toBe(true);
      expect(store['{component="store"}']).toBeGreaterThan(0);
      expect(store['{component="total"}']).toBeGreaterThanOrEqual(store['{component="store"}']!);
      const measured = sampleValue(text, 'ditto_device_storage_timestamp_seconds')!;
      expect(now - measured).toBeGreaterThanOrEqual(-1);
      expect(now - measured).toBeLessThan(10);
      expect(sampleValue(text, 'ditto_device_storage_read_errors_total')).toBe(0);
    } finally {
      await exporter.close();
    }
  });

  it('reads a bounded, filtered slice of system:system_info, newest first, with every storage key', async () => {
    const source = new DittoSource(plain.ditto);
    await vi.waitFor(async () => expect(new Set((await source.readStorage()).rows.map((r) => (r as { key: string }).key)).size).toBe(STORAGE_KEYS.size), { timeout: 10_000, interval: 250 });
    const { rows, readAt } = await source.readStorage();
    expect(rows.length).toBeLessThanOrEqual(STORAGE_KEYS.size * 10);
    const times = rows.map((r) => (r as { timestamp: number }).timestamp);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    for (const r of rows) expect(STORAGE_KEYS.has((r as { key: string }).key)).toBe(true);
    expect(readAt).toBeGreaterThan(Math.max(...times) - 1);
    await source.close();
  });

  it('Ditto samples the figures about every second: the timestamp served moves between scrapes', async () => {
    const exporter = new SyncExporter(new DittoSource(plain.ditto), { collectDefaultMetrics: false, maxSnapshotAge: 0.1 });
    try {
      await exporter.start();
      await vi.waitFor(async () => expect(sampleValue(await body(exporter), 'ditto_device_storage_timestamp_seconds')).toBeDefined(), { timeout: 10_000, interval: 250 });
      const first = sampleValue(await body(exporter), 'ditto_device_storage_timestamp_seconds')!;
      await vi.waitFor(async () => expect(sampleValue(await body(exporter), 'ditto_device_storage_timestamp_seconds')).toBeGreaterThan(first), { timeout: 10_000, interval: 250 });
    } finally {
      await exporter.close();
    }
  });

  it('a scrape re-reads storage only when the reading is older than --max-snapshot-age; concurrent scrapes share the read', async () => {
    const source = new ClockedDittoSource(plain.ditto);
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false, maxSnapshotAge: 5 });
    await exporter.start();
    await exporter.ensureFresh();
    const execute = vi.spyOn(plain.ditto.store, 'execute');
    try {
      await Promise.all(Array.from({ length: 4 }, () => exporter.ensureFresh()));
      expect(execute.mock.calls.filter(isStorageQuery)).toHaveLength(0);
      source.offset = 60;
      await Promise.all(Array.from({ length: 4 }, () => exporter.ensureFresh()));
      expect(execute.mock.calls.filter(isStorageQuery)).toHaveLength(1);
    } finally {
      execute.mockRestore();
      await exporter.close();
    }
  });

  it('a store closed under the exporter fails no scrape and leaves storage and presence out', async () => {
    const victim = await openTempDitto();
    const exporter = new SyncExporter(new DittoSource(victim.ditto), { collectDefaultMetrics: false, maxSnapshotAge: 0.1 });
    try {
      await exporter.start();
      await vi.waitFor(async () => expect(sampleValue(await body(exporter), 'ditto_device_storage_up')).toBe(1), { timeout: 10_000, interval: 250 });
      await victim.ditto.close();
      const text = await body(exporter);
      expect(sampleValue(text, 'ditto_sync_up')).toBe(0);
      expect(sampleValue(text, 'ditto_device_storage_up')).toBe(0);
      for (const name of ['ditto_store_size_bytes', 'ditto_device_filesystem_avail_bytes', 'ditto_presence_remote_peers', 'ditto_presence_connections']) expect(samples(text, name), name).toEqual([]);
    } finally {
      await exporter.close();
      await victim.dispose();
    }
  });
});
