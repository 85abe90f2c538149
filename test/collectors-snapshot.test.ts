import { describe, expect, it } from 'vitest';
import { parseRows } from '../src/collectors/rows.js';
import { buildSnapshot, selectDetailed } from '../src/collectors/snapshot.js';
import { labelSet } from '../src/exposition/labels.js';
import type { PeerRow } from '../src/model.js';
import { row } from './helpers/fake-source.js';

const labelsFor = (r: PeerRow) => labelSet({ peer_id: r.id, peer_type: r.type });
const rows = (...raw: unknown[]) => parseRows(raw).rows;

describe('buildSnapshot', () => {
  it('counts rows by type and status and finds the cloud maxima', () => {
    const snap = buildSnapshot(
      rows(
        row('c1', { cloud: true, status: 'Connected', synced: 10, lastUpdate: 990 }),
        row('c2', { cloud: true, status: 'Not Connected', synced: 12, lastUpdate: 980 }),
        row('d1', { status: 'Connected', synced: 15, lastUpdate: 999 }),
        row('d2', { status: 'Disabled' }),
        row('d3', { status: 'Reconnecting' }),
      ),
      1000,
      { maxPeers: 10, labelsFor },
    );
    expect(snap.counts).toEqual({
      cloud: { connected: 1, not_connected: 1, disabled: 0, unknown: 0 },
      device: { connected: 1, not_connected: 0, disabled: 1, unknown: 1 },
    });
    expect([snap.connected, snap.cloudServers, snap.cloudConnected]).toEqual([2, 2, 1]);
    expect(snap.cloudSyncedCommitId).toBe(12n);
    expect(snap.maxSyncedCommitId).toBe(15n);
    expect(snap.cloudLastUpdate).toBe(990);
    expect(snap.peers.map((p) => p.row.id)).toEqual(['c1', 'c2', 'd1', 'd2', 'd3']);
    expect(snap.omitted).toBe(0);
    expect(Object.isFrozen(snap)).toBe(true);
  });

  it('has no cloud values without cloud rows, and counts future timestamps beyond the tolerance', () => {
    const snap = buildSnapshot(rows(row('d1', { lastUpdate: 1000.5 }), row('d2', { lastUpdate: 1002 })), 1000, { maxPeers: 10, labelsFor });
    expect(snap.cloudSyncedCommitId).toBeUndefined();
    expect(snap.cloudLastUpdate).toBeUndefined();
    expect(snap.futureRows).toBe(1);
  });

  it('keeps every cloud server and the most relevant devices when over --max-peers', () => {
    const input = rows(
      row('d-old', { status: 'Not Connected', lastUpdate: 100 }),
      row('c1', { cloud: true, status: 'Not Connected' }),
      row('d-fresh', { status: 'Not Connected', lastUpdate: 900 }),
      row('d-conn', { status: 'Connected', lastUpdate: 50 }),
      row('c2', { cloud: true }),
    );
    const snap = buildSnapshot(input, 1000, { maxPeers: 3, labelsFor });
    expect(snap.peers.map((p) => p.row.id)).toEqual(['c1', 'd-conn', 'c2']);
    expect(snap.omitted).toBe(2);
    // Aggregates still count everyone.
    expect(snap.counts.device.not_connected).toBe(2);
    expect(selectDetailed(input, 1).map((r) => r.id)).toEqual(['c1', 'c2']);
  });

  it('leaves peers out of per-peer series when the labeler hides them', () => {
    const snap = buildSnapshot(rows(row('a'), row('b')), 1000, { maxPeers: 10, labelsFor: () => null });
    expect(snap.peers).toEqual([]);
    expect(snap.omitted).toBe(2);
    expect(snap.connected).toBe(2);
  });
});
