import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openTempDitto, sampleValue, samples, watchUnhandledRejections, type TempDitto } from './ditto-test-kit.js';
import { SyncExporter } from '../src/exporter.js';
import type { Logger } from '../src/logger.js';
import { createApp, createRouter, listen, closeServer, boundPort } from '../src/server.js';
import { DittoSource } from '../src/sources/ditto.js';
import { readStrictMode, SYNC_INFO_QUERY, SYNC_INFO_QUERY_STRICT } from '../src/sources/ditto-queries.js';
import type { SourceSink } from '../src/sources/source.js';
import { PEER_STATUSES, PEER_TYPES } from '../src/model.js';

/** A DittoSource whose clock can be moved forward, to make a snapshot stale without waiting. */
class ClockedDittoSource extends DittoSource {
  offset = 0;
  override now(): number {
    return super.now() + this.offset;
  }
}

/** Simulates a bug downstream of the observer: the first tick handed over throws. */
class ThrowOnFirstTickSource extends DittoSource {
  override start(sink: SourceSink): Promise<void> {
    let thrown = false;
    return super.start({
      ...sink,
      tick: (tick) => {
        if (!thrown) {
          thrown = true;
          throw new Error('bug while applying a tick');
        }
        sink.tick(tick);
      },
    });
  }
}

function recordingLogger() {
  const lines: Array<{ level: string; message: string }> = [];
  const log = (level: string) => (a: unknown, b?: unknown) => void lines.push({ level, message: String(typeof a === 'string' ? a : b) });
  const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } as unknown as Logger;
  return { logger, lines };
}

/** Bounded wait for the SDK's first observer callback: quick, but a busy machine delays it. */
const FIRST_CALLBACK_MS = 20_000;

const render = async (exporter: SyncExporter) => (await exporter.backend.render('prometheus')).body;
const ofQuery = (query: string) => (call: unknown[]) => call[0] === query;

describe('readStrictMode reads SHOW DQL_STRICT_MODE defensively', () => {
  it.each([
    [[{ dql_strict_mode: false }], false],
    [[{ dql_strict_mode: true }], true],
    [[{ DQL_STRICT_MODE: 'true' }], true],
    [[{ value: 1, strict: 0 }], false],
    [[{ dql_strict_mode: 1n }], true],
    [[null, 'x', { other: true }, { dql_strict_mode: 'off' }], false],
    [[], undefined],
    [[{ dql_strict_mode: 'maybe' }], undefined],
    [[{ unrelated: true }], undefined],
  ])('%o → %s', (values, expected) => {
    expect(readStrictMode(values)).toBe(expected);
  });
});

describe('DittoSource on the real SDK', () => {
  let plain: TempDitto;
  let strict: TempDitto;
  const rejections = watchUnhandledRejections();

  beforeAll(async () => {
    [plain, strict] = await Promise.all([openTempDitto(), openTempDitto({ strictMode: true })]);
  });
  afterAll(async () => {
    rejections.stop();
    await Promise.all([plain?.dispose(), strict?.dispose()]);
  });

  it('registers the observer and applies its first snapshot: up 1, every peer count 0', async () => {
    const observersBefore = plain.ditto.store.observers.length;
    const exporter = new SyncExporter(new DittoSource(plain.ditto), { collectDefaultMetrics: false });
    await exporter.start();
    expect(plain.ditto.store.observers.length).toBe(observersBefore + 1);
    await vi.waitFor(() => expect(exporter.view().sync!.ticks).toBe(1), { timeout: FIRST_CALLBACK_MS });

    const body = await render(exporter);
    expect(sampleValue(body, 'ditto_sync_up')).toBe(1);
    expect(sampleValue(body, 'ditto_sync_observer_ticks_total')).toBe(1);
    expect(sampleValue(body, 'ditto_sync_snapshot_refreshes_total')).toBe(0);
    const peers = samples(body, 'ditto_sync_peers');
    expect(peers).toHaveLength(PEER_TYPES.length * PEER_STATUSES.length);
    expect(peers.every(([, v]) => v === 0)).toBe(true);
    expect(sampleValue(body, 'ditto_sync_connected_peers')).toBe(0);
    expect(body).toMatch(/ditto_sync_exporter_build_info\{[^}]*ditto_sdk_version="5\.1\.0"[^}]*\} 1/);
    expect(exporter.readiness()).toEqual({ ready: true, reason: 'ok' });

    await exporter.close();
    expect(plain.ditto.store.observers.length).toBe(observersBefore);
    expect(plain.ditto.isClosed).toBe(false);
  });

  it.each([
    ['off', () => plain, false, SYNC_INFO_QUERY],
    ['on', () => strict, true, SYNC_INFO_QUERY_STRICT],
  ])('detects DQL strict mode %s and observes with the matching query', async (_name, instance, strictMode, query) => {
    const { ditto } = instance();
    const source = new DittoSource(ditto);
    const ticks: number[] = [];
    const sink: SourceSink = { tick: (t) => void ticks.push(t.rows.length), presence: () => {}, error: () => {}, trackCommit: () => {}, skip: () => {}, down: () => {} };
    await source.start(sink);
    expect(source.strictMode).toBe(strictMode);
    expect(source.localPeerId).toMatch(/^pk[A-Za-z0-9_-]+$/);
    expect(source.localPeerId).toBe(ditto.presence.graph.localPeer.peerKey);
    expect(source.query).toBe(query);
    expect(ditto.store.observers.map((o) => o.queryString)).toContain(query);
    await vi.waitFor(() => expect(ticks).toEqual([0]), { timeout: FIRST_CALLBACK_MS });
    await source.close();
    expect(ditto.store.observers.map((o) => o.queryString)).not.toContain(query);
  });

  it('refresh() reads the same query once and returns a tick stamped now', async () => {
    const source = new DittoSource(plain.ditto);
    const sink: SourceSink = { tick: () => {}, presence: () => {}, error: () => {}, trackCommit: () => {}, skip: () => {}, down: () => {} };
    await source.start(sink);
    const execute = vi.spyOn(plain.ditto.store, 'execute');
    try {
      const before = Date.now() / 1000;
      const tick = await source.refresh();
      const after = Date.now() / 1000;
      expect(Array.isArray(tick.rows)).toBe(true);
      expect(tick.rows).toHaveLength(0);
      expect(tick.readAt).toBeGreaterThanOrEqual(before);
      expect(tick.readAt).toBeLessThanOrEqual(after);
      expect(execute.mock.calls).toEqual([[SYNC_INFO_QUERY]]);
    } finally {
      execute.mockRestore();
      await source.close();
    }
    await expect(source.refresh()).rejects.toThrow(/closed/);
  });

  it('a scrape refreshes a stale snapshot, and concurrent scrapes share one read', async () => {
    const source = new ClockedDittoSource(plain.ditto);
    // An hour, so that however slowly this machine gets from the first tick to the first scrape,
    // the snapshot is still fresh then; the source's clock then moves two hours on.
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false, maxSnapshotAge: 3600 });
    await exporter.start();
    await vi.waitFor(() => expect(exporter.view().sync!.ticks).toBe(1), { timeout: FIRST_CALLBACK_MS });
    const execute = vi.spyOn(plain.ditto.store, 'execute');
    try {
      await exporter.ensureFresh();
      expect(execute.mock.calls.filter(ofQuery(SYNC_INFO_QUERY))).toHaveLength(0);

      source.offset = 7200; // the snapshot is now two hours old
      expect(sampleValue(await render(exporter), 'ditto_sync_snapshot_age_seconds')).toBeGreaterThanOrEqual(7200);
      await Promise.all(Array.from({ length: 8 }, () => exporter.ensureFresh()));
      expect(execute.mock.calls.filter(ofQuery(SYNC_INFO_QUERY))).toHaveLength(1);

      const body = await render(exporter);
      expect(sampleValue(body, 'ditto_sync_snapshot_refreshes_total')).toBe(1);
      expect(sampleValue(body, 'ditto_sync_observer_ticks_total')).toBe(2);
      expect(sampleValue(body, 'ditto_sync_up')).toBe(1);
    } finally {
      execute.mockRestore();
      await exporter.close();
    }
  });

  it('an exception in the observer callback is caught, logged and counted; the exporter recovers', async () => {
    const { logger, lines } = recordingLogger();
    const source = new ThrowOnFirstTickSource(plain.ditto, { logger });
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false, logger });
    await exporter.start();
    await vi.waitFor(() => expect(exporter.view().sync!.errors).toBe(1), { timeout: FIRST_CALLBACK_MS });

    let body = await render(exporter);
    expect(sampleValue(body, 'ditto_sync_observer_errors_total')).toBe(1);
    expect(sampleValue(body, 'ditto_sync_up')).toBe(0); // nothing applied yet
    expect(lines).toContainEqual({ level: 'error', message: 'data_sync_info observer callback failed' });

    await exporter.ensureFresh(); // no snapshot yet: the scrape reads one
    body = await render(exporter);
    expect(sampleValue(body, 'ditto_sync_up')).toBe(1);
    expect(sampleValue(body, 'ditto_sync_observer_errors_total')).toBe(1);
    await exporter.close();
    expect(rejections.seen).toEqual([]);
  });

  it('close() closes the Ditto instance only when the source owns it', async () => {
    const owned = await openTempDitto();
    try {
      const sink: SourceSink = { tick: () => {}, presence: () => {}, error: () => {}, trackCommit: () => {}, skip: () => {}, down: () => {} };
      const source = new DittoSource(owned.ditto, { ownsDitto: true });
      await source.start(sink);
      await source.close();
      expect(owned.ditto.isClosed).toBe(true);
      expect(source.open).toBe(false);
    } finally {
      await owned.dispose();
    }
  });
});

describe('the application closes its Ditto under the exporter', () => {
  const rejections = watchUnhandledRejections();
  let victim: TempDitto;

  beforeAll(async () => {
    victim = await openTempDitto();
  });
  afterAll(async () => {
    rejections.stop();
    await victim?.dispose();
  });

  it('ditto_sync_up goes 0, /readyz fails, nothing crashes and no rejection goes unhandled', async () => {
    const { logger, lines } = recordingLogger();
    const source = new ClockedDittoSource(victim.ditto, { logger });
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false, logger });
    await exporter.start();
    await vi.waitFor(() => expect(exporter.view().sync!.ticks).toBe(1), { timeout: FIRST_CALLBACK_MS });
    const server = await listen(createApp(createRouter(exporter)), { host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${boundPort(server)}`;
    try {
      expect((await fetch(`${base}/readyz`)).status).toBe(200);

      await victim.ditto.close();
      source.offset = 60; // a scrape would now want to refresh, and must not touch the closed store

      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      const body = await metrics.text();
      expect(sampleValue(body, 'ditto_sync_up')).toBe(0);
      expect(sampleValue(body, 'ditto_sync_snapshot_refreshes_total')).toBe(0);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).toBe('source closed\n');
      expect(source.open).toBe(false);
      expect(exporter.readiness().ready).toBe(false);
      expect(lines.filter((l) => l.message.includes('ditto source down'))).toHaveLength(1);

      await expect(source.refresh()).rejects.toThrow(); // a direct read fails as a handled rejection
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(rejections.seen).toEqual([]);
    } finally {
      await closeServer(server);
      await exporter.close();
    }
    await expect(new DittoSource(victim.ditto).start({} as SourceSink)).rejects.toThrow(/already closed/);
  });
});
