import type { Server } from 'node:http';
import { QueryResult } from '@dittolive/ditto';
import express from 'express';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openTempDitto, sampleValue, watchUnhandledRejections, type TempDitto } from './ditto-test-kit.js';
import { attachSyncExporter, type AttachedSyncExporter } from '../src/attach.js';
import { boundPort, closeServer, listen } from '../src/server.js';
import { instrumentStore } from '../src/sources/instrument-store.js';

const ownExecute = (t: TempDitto) => Object.prototype.hasOwnProperty.call(t.ditto.store, 'execute');
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

/**
 * Until the SDK's first observer callback, /metrics has no snapshot (ditto_sync_up 0, and every
 * snapshot-derived family left out). It comes quickly, but a busy machine delays it: wait for it.
 */
const firstSnapshot = (attached: AttachedSyncExporter) =>
  vi.waitFor(() => expect(attached.exporter.view().sync!.ticks).toBeGreaterThan(0), { timeout: 20_000 });

/**
 * Resources still grown after close(), allowing up to 10 s for closes that complete asynchronously
 * (a busy machine delays them): something still there then is a leak, not a slow close.
 */
async function leftBehind(before: readonly string[]): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const grown = grownResources(before, process.getActiveResourcesInfo());
    if (grown.length === 0 || Date.now() > deadline) return grown;
    await settle();
  }
}

/** Resource types (timers, sockets, servers…) of which there are more now than in `before`. */
function grownResources(before: readonly string[], after: readonly string[]): string[] {
  const count = (list: readonly string[]) => list.reduce((m, t) => m.set(t, (m.get(t) ?? 0) + 1), new Map<string, number>());
  const was = count(before);
  return [...count(after)].filter(([type, n]) => n > (was.get(type) ?? 0)).map(([type, n]) => `${type} ${was.get(type) ?? 0}→${n}`);
}

describe('attachSyncExporter on a real Ditto instance', () => {
  let app: TempDitto;
  const rejections = watchUnhandledRejections();

  beforeAll(async () => {
    app = await openTempDitto();
  });
  afterAll(async () => {
    rejections.stop();
    await app?.dispose();
  });

  it('instrumentStore() turns real INSERT/UPDATE commit ids into the local commit id and unacked commits', async () => {
    const attached = await attachSyncExporter(app.ditto, { collectDefaultMetrics: false });
    try {
      await firstSnapshot(attached);
      const restore = attached.instrumentStore();
      expect(attached.instrumentStore()).toBe(restore); // idempotent: one wrapper, one restore

      const insert = await app.ditto.store.execute('INSERT INTO cars DOCUMENTS (:car)', { car: { _id: 'c1', make: 'a' } });
      const update = await app.ditto.store.execute("UPDATE cars SET make = 'b' WHERE _id = 'c1'");
      // Only this test's document: the store is shared with the other tests, in whatever order they run.
      const select = await app.ditto.store.execute("SELECT * FROM cars WHERE _id = 'c1'");
      expect(typeof insert.commitID).toBe('bigint');
      expect(update.commitID! > insert.commitID!).toBe(true);
      expect(select.commitID).toBeNull();
      expect(select.items.map((i) => i.value.make)).toEqual(['b']);

      let body = (await attached.metrics()).body;
      expect(sampleValue(body, 'ditto_sync_local_commit_id')).toBe(Number(update.commitID));
      expect(sampleValue(body, 'ditto_sync_cloud_unacked_commits')).toBe(2);
      expect(sampleValue(body, 'ditto_sync_cloud_oldest_unacked_commit_age_seconds')).toBeGreaterThanOrEqual(0);

      // The app's rejection reaches the app unchanged, and nothing is tracked for it.
      await expect(app.ditto.store.execute('SELEKT nonsense')).rejects.toMatchObject({ code: 'query/invalid' });

      restore();
      expect(ownExecute(app)).toBe(false);
      const untracked = await app.ditto.store.execute("UPDATE cars SET make = 'c' WHERE _id = 'c1'");
      body = (await attached.metrics()).body;
      expect(sampleValue(body, 'ditto_sync_local_commit_id')).toBe(Number(update.commitID));
      expect(sampleValue(body, 'ditto_sync_cloud_unacked_commits')).toBe(2);

      // Manual tracking, with a Date.
      attached.trackCommit(untracked.commitID!, new Date());
      body = (await attached.metrics()).body;
      expect(sampleValue(body, 'ditto_sync_local_commit_id')).toBe(Number(untracked.commitID));
      expect(sampleValue(body, 'ditto_sync_cloud_unacked_commits')).toBe(3);
    } finally {
      await attached.close();
    }
    expect(rejections.seen).toEqual([]);
  });

  it('trackWrites: false leaves ditto.store.execute alone and tracks nothing: no local commit id, no unacked count', async () => {
    const attached = await attachSyncExporter(app.ditto, { collectDefaultMetrics: false, trackWrites: false });
    try {
      await firstSnapshot(attached);
      expect(ownExecute(app)).toBe(false);
      const write = await app.ditto.store.execute('INSERT INTO cars DOCUMENTS (:car)', { car: { _id: 'untracked-1', make: 'a' } });
      expect(typeof write.commitID).toBe('bigint');
      let body = (await attached.metrics()).body;
      expect(sampleValue(body, 'ditto_sync_tracked_commits_total')).toBe(0);
      expect(sampleValue(body, 'ditto_sync_local_commit_id')).toBeUndefined();
      expect(sampleValue(body, 'ditto_sync_cloud_unacked_commits')).toBeUndefined();
      // The app tracks its own writes instead.
      expect(attached.trackCommit(write.commitID!)).toBe(true);
      body = (await attached.metrics()).body;
      expect(sampleValue(body, 'ditto_sync_local_commit_id')).toBe(Number(write.commitID));
      expect(sampleValue(body, 'ditto_sync_cloud_unacked_commits')).toBe(1);
    } finally {
      await attached.close();
    }
  });

  it('instrumentStore: the app gets the SDK result; a failing onCommit never breaks the write', async () => {
    const errors: unknown[] = [];
    const restore = instrumentStore(app.ditto, () => {
      throw new Error('recorder broke');
    }, { onError: (e) => errors.push(e) });
    try {
      const result = await app.ditto.store.execute('INSERT INTO cars DOCUMENTS (:car)', { car: { _id: 'c2' } });
      expect(result).toBeInstanceOf(QueryResult);
      expect(typeof result.commitID).toBe('bigint');
      expect(errors).toHaveLength(1);
      expect((await app.ditto.store.execute("SELECT * FROM cars WHERE _id = 'c2'")).items).toHaveLength(1);
    } finally {
      restore();
    }
    expect(ownExecute(app)).toBe(false);
  });

  it('instrumentStore: restoring under a later wrapper keeps that wrapper working and stops reporting', async () => {
    const seen: bigint[] = [];
    const restore = instrumentStore(app.ditto, (id) => void seen.push(id));
    const ours = app.ditto.store.execute;
    let laterCalls = 0;
    const later = ((...args: Parameters<typeof ours>) => {
      laterCalls++;
      return ours.apply(app.ditto.store, args);
    }) as typeof ours;
    app.ditto.store.execute = later;
    try {
      await app.ditto.store.execute('INSERT INTO cars DOCUMENTS (:car)', { car: { _id: 'c3' } });
      expect(seen).toHaveLength(1);
      restore();
      expect(app.ditto.store.execute).toBe(later);
      await app.ditto.store.execute('INSERT INTO cars DOCUMENTS (:car)', { car: { _id: 'c4' } });
      expect(laterCalls).toBe(2);
      expect(seen).toHaveLength(1);
    } finally {
      delete (app.ditto.store as { execute?: unknown }).execute;
    }
  });

  it('serves /metrics through the router mounted in an express app', async () => {
    const attached = await attachSyncExporter(app.ditto);
    const web = express();
    web.get('/', (_req, res) => void res.send('the app'));
    web.use('/ops', attached.router);
    let server: Server | undefined;
    try {
      await firstSnapshot(attached);
      server = await listen(web, { host: '127.0.0.1', port: 0 });
      const base = `http://127.0.0.1:${boundPort(server)}`;

      const metrics = await fetch(`${base}/ops/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const body = await metrics.text();
      expect(sampleValue(body, 'ditto_sync_up')).toBe(1);
      expect(body).toContain('# TYPE process_cpu_user_seconds_total counter'); // default process metrics

      const om = await fetch(`${base}/ops/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
      expect(om.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
      expect((await om.text()).endsWith('# EOF\n')).toBe(true);

      expect((await fetch(`${base}/ops/readyz`)).status).toBe(200);
      expect(await (await fetch(`${base}/`)).text()).toBe('the app');
      expect(attached.ready()).toEqual({ ready: true, reason: 'ok' });
      expect(attached.source).toBe(attached.exporter.source);
      expect([attached.source.strictMode, attached.source.dittoSdkVersion]).toEqual([false, '5.1.0']);
      const direct = await attached.metrics('openmetrics');
      expect(direct.contentType).toMatch(/^application\/openmetrics-text/);
    } finally {
      if (server) await closeServer(server);
      await attached.close();
    }
  });

  it("close() leaves no handles of ours, unregisters its families, and the app's Ditto stays usable", async () => {
    await settle();
    const resourcesBefore = process.getActiveResourcesInfo();
    const observersBefore = app.ditto.store.observers.length;
    const registry = new Registry();

    const attached = await attachSyncExporter(app.ditto, { registry });
    try {
      await firstSnapshot(attached);
      attached.instrumentStore();
      await app.ditto.store.execute('INSERT INTO cars DOCUMENTS (:car)', { car: { _id: 'c5' } });
      expect(await registry.metrics()).toMatch(/^ditto_sync_cloud_unacked_commits 1$/m); // bridged into the app's registry
      expect(app.ditto.store.observers.length).toBe(observersBefore + 1);
    } finally {
      // Even when a check above fails: a wrapper left on the shared store would fail the other tests.
      await attached.close();
    }
    await attached.close(); // idempotent
    expect(app.ditto.store.observers.length).toBe(observersBefore);
    expect(ownExecute(app)).toBe(false);
    expect(registry.getSingleMetric('ditto_sync_up')).toBeUndefined();
    expect(() => attached.instrumentStore()).toThrow(/after close/);

    expect(app.ditto.isClosed).toBe(false);
    const after = await app.ditto.store.execute('INSERT INTO cars DOCUMENTS (:car)', { car: { _id: 'c6' } });
    expect(typeof after.commitID).toBe('bigint');

    expect(await leftBehind(resourcesBefore)).toEqual([]);
  });

  it('refuses a closed Ditto instance with a clear error', async () => {
    const closed = await openTempDitto();
    await closed.ditto.close();
    try {
      await expect(attachSyncExporter(closed.ditto, { collectDefaultMetrics: false })).rejects.toThrow(
        /attachSyncExporter: could not observe system:data_sync_info: the Ditto instance is already closed/,
      );
    } finally {
      await closed.dispose();
    }
  });
});
