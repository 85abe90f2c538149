/**
 * Two real Ditto peers syncing over loopback TCP. Sync needs activation, so this runs only with an
 * offline license token in DITTO_LICENSE_TOKEN (and, if the token is issued for one database,
 * that database id in DITTO_DATABASE_ID). Without it the test is skipped, and says so.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { freePort, sampleValue, tempDir } from './ditto-test-kit.js';
import { attachSyncExporter, type AttachedSyncExporter } from '../src/attach.js';
import { openDitto, type OpenedDitto } from '../src/sources/ditto-open.js';
import { SYNC_INFO_QUERY } from '../src/sources/ditto-queries.js';

const licenseToken = process.env.DITTO_LICENSE_TOKEN?.trim() || undefined;
const skipReason = licenseToken ? '' : 'DITTO_LICENSE_TOKEN is not set (an offline license token from the Ditto portal)';
if (skipReason) {
  console.warn(`[two-peer.test] SKIPPING the real two-peer sync test: ${skipReason}. Set it to run the test.`);
}

interface SyncRow {
  _id: string;
  is_ditto_server: boolean;
  documents?: { synced_up_to_local_commit_id?: number | bigint; sync_session_status?: string };
}

describe('two real peers syncing over loopback TCP', () => {
  const dirs: string[] = []; // made inside the test: a skipped test runs no hooks
  const opened: OpenedDitto[] = [];
  let attached: AttachedSyncExporter | undefined;

  afterAll(async () => {
    await attached?.close();
    for (const { ditto } of opened) if (!ditto.isClosed) await ditto.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!licenseToken)(
    `a write on A reaches B, and A's exporter reports B's synced commit id${skipReason ? ` (skipped: ${skipReason})` : ''}`,
    async () => {
      dirs.push(tempDir('dse-peer-a-'), tempDir('dse-peer-b-'));
      const port = await freePort();
      const databaseId = process.env.DITTO_DATABASE_ID?.trim() || randomUUID();
      const common = { databaseId, offlineLicenseToken: licenseToken, peerToPeer: false, logLevel: 'warning' as const };
      const a = await openDitto({ ...common, persistenceDir: dirs[0], tcpListen: `127.0.0.1:${port}` });
      opened.push(a);
      const b = await openDitto({ ...common, persistenceDir: dirs[1], tcpConnect: [`127.0.0.1:${port}`] });
      opened.push(b);
      expect([a.syncStarted, b.syncStarted]).toEqual([true, true]);
      b.ditto.sync.registerSubscription('SELECT * FROM tasks');

      attached = await attachSyncExporter(a.ditto, { collectDefaultMetrics: false });
      attached.instrumentStore();
      const write = await a.ditto.store.execute('INSERT INTO tasks DOCUMENTS (:task)', { task: { _id: 't1', title: 'sync me' } });
      const commitId = write.commitID!;
      expect(typeof commitId).toBe('bigint');

      // A's own session table: B's row catches up with the write.
      let peerB: SyncRow | undefined;
      await vi.waitFor(
        async () => {
          const rows = (await a.ditto.store.execute(SYNC_INFO_QUERY)).items.map((item) => item.value as SyncRow);
          peerB = rows.find((row) => row.is_ditto_server === false && BigInt(row.documents?.synced_up_to_local_commit_id ?? -1) >= commitId);
          expect(peerB, `rows so far: ${JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`).toBeDefined();
        },
        { timeout: 45_000, interval: 250 },
      );
      console.info(`[two-peer.test] B's row _id ${peerB!._id} ${peerB!._id === b.ditto.presence.graph.localPeer.peerKey ? 'equals' : 'differs from'} B's presence peerKey`);
      await vi.waitFor(async () => expect((await b.ditto.store.execute("SELECT * FROM tasks WHERE _id = 't1'")).items).toHaveLength(1), {
        timeout: 15_000,
        interval: 250,
      });

      // The exporter on A reports B as a connected device that has A's latest commit.
      const peer = { peer_id: peerB!._id, peer_type: 'device' };
      await vi.waitFor(
        async () => {
          const body = (await attached!.metrics()).body;
          expect(sampleValue(body, 'ditto_sync_peer_synced_commit_id', peer)).toBeGreaterThanOrEqual(Number(commitId));
          expect(sampleValue(body, 'ditto_sync_peer_commit_lag', peer)).toBe(0);
          expect(sampleValue(body, 'ditto_sync_peer_status', { ...peer, status: 'connected' })).toBe(1);
          expect(sampleValue(body, 'ditto_sync_peers', { peer_type: 'device', status: 'connected' })).toBe(1);
          expect(sampleValue(body, 'ditto_sync_connected_peers')).toBe(1);
          expect(sampleValue(body, 'ditto_sync_local_commit_id')).toBeGreaterThanOrEqual(Number(commitId));
          expect(sampleValue(body, 'ditto_sync_up')).toBe(1);
        },
        { timeout: 15_000, interval: 250 },
      );
    },
    120_000,
  );
});
