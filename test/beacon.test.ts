import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BEACON_FIELDS, BEACON_KEY, buildBeacon, readBeacon } from '../src/collectors/beacon.js';
import { SyncState } from '../src/state/sync-state.js';
import { peerLabeler } from '../src/state/peer-labels.js';
import { row } from './helpers/fake-source.js';

const T = 1_700_000_000;
const SCHEMA = JSON.parse(readFileSync(new URL('../schemas/ditto-sync-health.v1.schema.json', import.meta.url), 'utf8')) as {
  required: string[];
  properties: Record<string, { type?: string | string[]; const?: unknown; pattern?: string }>;
};

function state(): SyncState {
  const s = new SyncState({ maxPeers: 10, maxTrackedCommits: 100, peerLabels: peerLabeler('full') });
  s.trackCommit(20n, T - 30, T - 30);
  s.trackCommit(25n, T - 10, T - 10);
  s.ingest({
    readAt: T,
    rows: [
      row('cloud', { cloud: true, status: 'Not Connected', synced: 20, lastUpdate: (T - 600) * 1000 }),
      row('dev', { synced: 25, lastUpdate: T - 1 }),
      { _id: 'odd', is_ditto_server: 'yes', documents: {} },
      { no_id: true },
    ],
  });
  return s;
}

describe('the sync-health beacon', () => {
  it('summarises a sync view as schema v1 says', () => {
    const beacon = buildBeacon(state().view(true), T + 5, '1.2.3');
    expect(beacon).toEqual({
      v: 1,
      at: T + 5,
      exporter_version: '1.2.3',
      peers: 3,
      connected_peers: 1,
      cloud_servers: 1,
      cloud_servers_connected: 0,
      cloud_last_update_at: T - 600,
      local_commit_id: '25',
      cloud_synced_commit_id: '20',
      unacked_commits: 1,
      oldest_unacked_commit_at: T - 10,
      // One row left out (no _id), one used with an unusable field.
      rows_unusable: 2,
    });
    expect(JSON.stringify({ [BEACON_KEY]: beacon }).length).toBeLessThan(2048);
  });

  it('is not built while no snapshot is served: a frozen snapshot is never reported as current', () => {
    expect(buildBeacon(state().view(false), T, '1')).toBeUndefined();
    expect(buildBeacon(undefined, T, '1')).toBeUndefined();
  });

  it('matches its JSON Schema: the same fields, each of the declared type', () => {
    const beacon = buildBeacon(state().view(true), T, '1.2.3')! as unknown as Record<string, unknown>;
    expect(Object.keys(beacon).sort()).toEqual([...SCHEMA.required].sort());
    expect([...BEACON_FIELDS].sort()).toEqual([...SCHEMA.required].sort());
    for (const [field, value] of Object.entries(beacon)) {
      const spec = SCHEMA.properties[field]!;
      if (spec.const !== undefined) expect(value).toBe(spec.const);
      const types = spec.type === undefined ? [] : Array.isArray(spec.type) ? spec.type : [spec.type];
      const actual = value === null ? 'null' : Number.isInteger(value) && types.includes('integer') ? 'integer' : typeof value;
      if (types.length > 0) expect(types, field).toContain(actual);
      if (spec.pattern && typeof value === 'string') expect(value).toMatch(new RegExp(spec.pattern));
    }
  });

  it('reads back what it wrote, field by field', () => {
    const beacon = buildBeacon(state().view(true), T, '1.2.3')!;
    const reading = readBeacon({ app: 'x', [BEACON_KEY]: JSON.parse(JSON.stringify(beacon)) }, T);
    expect(reading).toEqual({
      kind: 'beacon',
      beacon: {
        at: T,
        exporterVersion: '1.2.3',
        peers: 3,
        connectedPeers: 1,
        cloudServers: 1,
        cloudServersConnected: 0,
        cloudLastUpdateAt: T - 600,
        localCommitId: 25n,
        cloudSyncedCommitId: 20n,
        unackedCommits: 1,
        oldestUnackedCommitAt: T - 10,
        rowsUnusable: 2,
        unusable: [],
      },
    });
  });

  it.each([
    ['no metadata', undefined, 'absent'],
    ['metadata without the key', { app: 1 }, 'absent'],
    ['a key named like a prototype property only', Object.create({ [BEACON_KEY]: { v: 1 } }), 'absent'],
    ['a later version', { [BEACON_KEY]: { v: 2 } }, 'unsupported'],
    ['not an object', { [BEACON_KEY]: 'ok' }, 'unsupported'],
  ])('reads %s as %s', (_name, metadata, kind) => {
    expect(readBeacon(metadata, T).kind).toBe(kind);
  });

  it('keeps the usable fields of a damaged beacon and names the others', () => {
    const reading = readBeacon({ [BEACON_KEY]: { v: 1, at: T + 3 * 86_400, peers: -1, unacked_commits: 4, local_commit_id: 12, oldest_unacked_commit_at: null } }, T);
    expect(reading.kind).toBe('beacon');
    if (reading.kind !== 'beacon') return;
    expect(reading.beacon.unackedCommits).toBe(4);
    expect(reading.beacon.oldestUnackedCommitAt).toBeNull();
    expect(reading.beacon.at).toBeUndefined();
    expect(reading.beacon.unusable).toEqual(expect.arrayContaining(['at', 'peers', 'local_commit_id', 'exporter_version', 'connected_peers']));
  });
});
