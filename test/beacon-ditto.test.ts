/**
 * The sync-health beacon with the real Ditto SDK: it lands in this device's own
 * `__small_peer_info` document (the one Ditto syncs to the Ditto Server) beside the application's
 * metadata keys, and comes back after the application replaces the metadata.
 *
 * DITTO_SMALL_PEER_INFO_PUBLISH_INTERVAL_SECS is read at Ditto.open; it is set here, before any
 * open, so the document is collected every second instead of every 300 s. The variable is
 * process-wide: it holds for every Ditto instance this vitest worker opens for this file.
 */
process.env['DITTO_SMALL_PEER_INFO_PUBLISH_INTERVAL_SECS'] = '1';

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attachSyncExporter, type AttachedSyncExporter } from '../src/attach.js';
import { BEACON_KEY, readBeacon } from '../src/collectors/beacon.js';
import { EXPORTER_VERSION } from '../src/version.js';
import { openTempDitto, type TempDitto } from './ditto-test-kit.js';
import { valueOf } from './helpers/exposition.js';
import { waitFor } from './helpers/net.js';

const SCHEMA = JSON.parse(readFileSync(new URL('../schemas/ditto-sync-health.v1.schema.json', import.meta.url), 'utf8')) as { required: string[] };

interface Device {
  readonly store: TempDitto;
  readonly attached: AttachedSyncExporter;
  /** This device's own __small_peer_info document, as Ditto collected it last. */
  ownDocument(): Promise<Record<string, unknown> | undefined>;
  /** Waits until the collected document's metadata satisfies `check` (collected every second here). */
  documentMetadata(check: (metadata: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** The SDK's own setter, past any wrapper on the instance. */
  sdkSet(json: string): void;
}

/** A fresh store whose application set its own metadata, with the exporter attached and publishing every 0.5 s. */
async function device(run: (d: Device) => Promise<void>): Promise<void> {
  const store = await openTempDitto();
  let attached: AttachedSyncExporter | undefined;
  try {
    expect((await store.ditto.store.execute('SHOW small_peer_info_publish_interval_secs')).items[0]!.value).toEqual({ small_peer_info_publish_interval_secs: 1 });
    store.ditto.smallPeerInfo.metadata = { app: 'pos-terminal', build: 7 };
    attached = await attachSyncExporter(store.ditto, { publishHealth: true, publishInterval: 0.5, collectDefaultMetrics: false });
    const ownDocument = async () => {
      const id = store.ditto.presence.graph.localPeer.peerKey;
      const result = await store.ditto.store.execute('SELECT * FROM __small_peer_info WHERE _id = :id', { id });
      return result.items[0]?.value as Record<string, unknown> | undefined;
    };
    await run({
      store,
      attached,
      ownDocument,
      documentMetadata: (check) =>
        waitFor(async () => {
          const metadata = (await ownDocument())?.['metadata'];
          return typeof metadata === 'object' && metadata !== null && check(metadata as Record<string, unknown>) ? (metadata as Record<string, unknown>) : undefined;
        }, 30_000, 250),
      sdkSet: (json) => Object.getOwnPropertyDescriptor(Object.getPrototypeOf(store.ditto.smallPeerInfo) as object, 'metadataJSONString')!.set!.call(store.ditto.smallPeerInfo, json),
    });
  } finally {
    await attached?.close();
    await store.dispose();
  }
}

// Each case has its own store; they run side by side because most of their time is waiting for Ditto's collection.
describe.concurrent('the beacon in the real __small_peer_info (SDK 5.1.0, no license)', () => {
  it('lands in this device\'s own document (BigPeerOnly, keyed by this peer) beside the application\'s keys, as schema v1, and is counted', () =>
    device(async ({ store, attached, ownDocument, documentMetadata }) => {
      const metadata = await documentMetadata((m) => BEACON_KEY in m);
      expect(metadata['app']).toBe('pos-terminal');
      expect(metadata['build']).toBe(7);
      const beacon = metadata[BEACON_KEY] as Record<string, unknown>;
      expect(Object.keys(beacon).sort()).toEqual([...SCHEMA.required].sort());
      expect(beacon).toMatchObject({ v: 1, exporter_version: EXPORTER_VERSION, peers: 0, connected_peers: 0, cloud_servers: 0, cloud_servers_connected: 0, cloud_last_update_at: null, cloud_synced_commit_id: null, rows_unusable: 0 });
      const reading = readBeacon(metadata, Date.now() / 1000);
      expect(reading.kind === 'beacon' && reading.beacon.unusable).toEqual([]);
      expect(Buffer.byteLength(JSON.stringify({ [BEACON_KEY]: beacon }))).toBeLessThan(2048);

      const doc = (await ownDocument())!;
      const scopes = (doc['sync_scopes'] as { collections: Record<string, { scope: string }[]> }).collections['__small_peer_info']!;
      expect(scopes.map((s) => s.scope)).toEqual(['BigPeerOnly']);
      expect(doc['_id']).toBe(store.ditto.presence.graph.localPeer.peerKey);

      // Refreshed every 0.5 s: its time moves, and every write is counted.
      const first = (store.ditto.smallPeerInfo.metadata[BEACON_KEY] as { at: number }).at;
      await waitFor(() => ((store.ditto.smallPeerInfo.metadata[BEACON_KEY] as { at: number }).at > first ? true : undefined), 10_000, 50);
      const { body } = await attached.metrics();
      expect(valueOf(body, 'ditto_sync_health_beacon_publishes_total', { reason: 'refresh' })).toBeGreaterThanOrEqual(2);
      expect(valueOf(body, 'ditto_sync_health_beacon_publishes_total', { reason: 'restore' })).toBe(0);
      expect(valueOf(body, 'ditto_sync_health_beacon_publish_failures_total')).toBe(0);
      expect(Math.abs(valueOf(body, 'ditto_sync_health_beacon_last_publish_timestamp_seconds')! - Date.now() / 1000)).toBeLessThan(30);
    }));

  it('comes back after the application replaces the metadata: at once through its setter, at the next refresh past it', () =>
    device(async ({ store, attached, documentMetadata, sdkSet }) => {
      await documentMetadata((m) => BEACON_KEY in m);
      store.ditto.smallPeerInfo.metadata = { app: 'pos-terminal', build: 8 };
      const now = store.ditto.smallPeerInfo.metadata;
      expect(now['build']).toBe(8);
      expect(now[BEACON_KEY]).toMatchObject({ v: 1 });
      const metadata = await documentMetadata((m) => m['build'] === 8 && BEACON_KEY in m);
      expect(Object.keys(metadata).sort()).toEqual(['app', 'build', BEACON_KEY]);

      sdkSet('{"app":"bypassed"}');
      expect(store.ditto.smallPeerInfo.metadata).toEqual({ app: 'bypassed' });
      await waitFor(() => (BEACON_KEY in store.ditto.smallPeerInfo.metadata ? true : undefined), 10_000, 50);
      await documentMetadata((m) => m['app'] === 'bypassed' && !('build' in m) && BEACON_KEY in m);
      expect(valueOf((await attached.metrics()).body, 'ditto_sync_health_beacon_publishes_total', { reason: 'restore' })).toBeGreaterThanOrEqual(1);
    }));

  it('on close, takes only its own key out (the document follows) and leaves the application\'s metadata and Ditto alone', () =>
    device(async ({ store, attached, documentMetadata }) => {
      await documentMetadata((m) => BEACON_KEY in m);
      store.ditto.smallPeerInfo.metadata = { app: 'pos-terminal', build: 9 };
      await attached.close();
      expect(store.ditto.isClosed).toBe(false);
      expect(store.ditto.smallPeerInfo.metadata).toEqual({ app: 'pos-terminal', build: 9 });
      expect(await documentMetadata((m) => m['build'] === 9 && !(BEACON_KEY in m))).toEqual({ app: 'pos-terminal', build: 9 });
      // The application's own writes are its own again.
      store.ditto.smallPeerInfo.metadata = { app: 'after' };
      expect(store.ditto.smallPeerInfo.metadata).toEqual({ app: 'after' });
    }));
});
