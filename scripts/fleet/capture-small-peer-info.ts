/**
 * Captures `__small_peer_info` documents from the real Ditto SDK on this machine, for the Ditto
 * Server emulator under test/ (test/fixtures/fleet/small-peer-info.json).
 *
 *   npx tsx scripts/fleet/capture-small-peer-info.ts [OUT]
 *
 * Three local stores are opened, each with its own persistence directory (so its own peer key) and
 * device name. Their small-peer-info metadata is set as an application would: one without a
 * beacon, two with a v1 sync-health beacon built by buildBeacon from a SyncState (the publisher's
 * building block), one of them with commits the cloud has not received. The SDK writes each
 * document; this script only reads it back with `SELECT * FROM __small_peer_info`. Nothing syncs
 * (no license here), so connections and transports are what an unsynced SDK reports.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { buildBeacon, BEACON_KEY } from '../../src/collectors/beacon.js';
import { peerLabeler } from '../../src/state/peer-labels.js';
import { SyncState } from '../../src/state/sync-state.js';
import { EXPORTER_VERSION } from '../../src/version.js';

// The SDK reads this at start-up: publish every 2 s instead of every 300 s.
process.env['DITTO_SMALL_PEER_INFO_PUBLISH_INTERVAL_SECS'] ??= '2';
const { Ditto, DittoConfig, Logger } = await import('@dittolive/ditto');
Logger.minimumLogLevel = 'Warning';

const out = process.argv[2] ?? new URL('../../test/fixtures/fleet/small-peer-info.json', import.meta.url).pathname;
const now = Date.now() / 1000;

/** A beacon as the device publisher builds it, from rows shaped as Ditto documents them. */
function beacon(opts: { unacked: boolean }): Record<string, unknown> {
  const state = new SyncState({ maxPeers: 100, maxTrackedCommits: 1000, peerLabels: peerLabeler('none') });
  // Commits made 20 and 10 minutes ago; the cloud has received the first only when healthy.
  state.trackCommit(41n, now - 1200, now - 1200);
  state.trackCommit(42n, now - 600, now - 600);
  state.ingest({
    readAt: now,
    rows: [
      { _id: 'cloud-server', is_ditto_server: true, documents: { sync_session_status: opts.unacked ? 'Not Connected' : 'Connected', synced_up_to_local_commit_id: opts.unacked ? 40 : 42, last_update_received_time: Math.round((now - (opts.unacked ? 1500 : 2)) * 1000) } },
      { _id: 'pkNearbyDevice', is_ditto_server: false, documents: { sync_session_status: 'Connected', synced_up_to_local_commit_id: 42, last_update_received_time: Math.round((now - 5) * 1000) } },
    ],
  });
  const b = buildBeacon(state.view(true), now, EXPORTER_VERSION);
  if (!b) throw new Error('no beacon: the state serves no snapshot');
  return b as unknown as Record<string, unknown>;
}

const SPECS = [
  { name: 'kiosk-no-beacon', metadata: { app_build: '2026.11.3' } },
  { name: 'tablet-healthy', metadata: { [BEACON_KEY]: beacon({ unacked: false }) } },
  { name: 'tablet-cloud-gap', metadata: { [BEACON_KEY]: beacon({ unacked: true }), app_build: '2026.11.3', site: 'warehouse-7' } },
];

const noBigints = (_key: string, value: unknown) => {
  if (typeof value === 'bigint') throw new Error(`the document holds a bigint (${value}); store it as a string on purpose, not by accident`);
  return value;
};

const documents: unknown[] = [];
for (const spec of SPECS) {
  const dir = mkdtempSync(join(tmpdir(), 'capture-spi-'));
  const ditto = await Ditto.open(new DittoConfig(randomUUID(), { mode: 'smallPeersOnly' }, dir));
  try {
    ditto.deviceName = spec.name;
    ditto.smallPeerInfo.metadata = spec.metadata;
    const wanted = JSON.stringify(spec.metadata, Object.keys(spec.metadata).sort());
    const deadline = Date.now() + 60_000;
    for (;;) {
      const result = await ditto.store.execute('SELECT * FROM __small_peer_info');
      const doc = result.items[0]?.value as Record<string, unknown> | undefined;
      const metadata = doc?.['metadata'] as Record<string, unknown> | undefined;
      if (doc && metadata && JSON.stringify(metadata, Object.keys(metadata).sort()) === wanted) {
        if (doc['_id'] !== ditto.presence.graph.localPeer.peerKey) throw new Error('the document is not keyed by the local peer key');
        documents.push(JSON.parse(JSON.stringify(doc, noBigints)));
        break;
      }
      if (Date.now() > deadline) throw new Error(`no __small_peer_info document with the metadata set for ${spec.name} within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await ditto.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const { version } = (await import('@dittolive/ditto/package.json', { with: { type: 'json' } })).default as { version: string };
writeFileSync(
  out,
  `${JSON.stringify(
    {
      captured: {
        by: 'scripts/fleet/capture-small-peer-info.ts',
        at: new Date(now * 1000).toISOString(),
        sdk: `@dittolive/ditto ${version}`,
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        note: 'Documents written by the real SDK and read back locally with SELECT * FROM __small_peer_info; the Ditto Server emulator in test/ serves them. Metadata was set by this script (no beacon, and two v1 beacons built with buildBeacon). device_name is null although ditto.deviceName was set: the SDK applies the name when sync starts, which needs a license not available here.',
      },
      documents,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${documents.length} documents to ${out}`);
