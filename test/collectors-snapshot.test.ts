import { describe, expect, it } from 'vitest';
import { parseRows } from '../src/collectors/rows.js';
import { selectStable, type KeptIds } from '../src/collectors/selection.js';
import { buildSnapshot } from '../src/collectors/snapshot.js';
import { labelSet } from '../src/exposition/labels.js';
import type { PeerRow } from '../src/model.js';
import { seededRandom } from '../src/sources/seeded-random.js';
import { row } from './helpers/fake-source.js';

const CLOCK = 1000;
const labelsFor = (r: PeerRow) => labelSet({ peer_id: r.id, peer_type: r.type });
const parsed = (...raw: unknown[]) => parseRows(raw, CLOCK);
const NONE = new Set<string>();

describe('buildSnapshot', () => {
  it('counts rows by type and status and finds the cloud maxima', () => {
    const snap = buildSnapshot(
      parsed(
        row('c1', { cloud: true, status: 'Connected', synced: 10, lastUpdate: 990 }),
        row('c2', { cloud: true, status: 'Not Connected', synced: 12, lastUpdate: 980 }),
        row('d1', { status: 'Connected', synced: 15, lastUpdate: 999 }),
        row('d2', { status: 'Disabled' }),
        row('d3', { status: 'Reconnecting' }),
        { _id: 'u1', is_ditto_server: 'maybe', documents: { sync_session_status: 'Connected', synced_up_to_local_commit_id: 99 } },
      ),
      CLOCK,
      { maxPeers: 10, previousKept: NONE, labelsFor },
    );
    expect(snap.counts).toEqual({
      cloud: { connected: 1, not_connected: 1, disabled: 0, unknown: 0 },
      device: { connected: 1, not_connected: 0, disabled: 1, unknown: 1 },
      unknown: { connected: 1, not_connected: 0, disabled: 0, unknown: 0 },
    });
    expect([snap.connected, snap.cloudServers, snap.cloudConnected]).toEqual([3, 2, 1]);
    // A row of unknown type is not taken for a cloud server: its commit id is no cloud ack.
    expect(snap.cloudSyncedCommitId).toBe(12n);
    expect(snap.maxSyncedCommitId).toBe(99n);
    expect(snap.cloudLastUpdate).toBe(990);
    expect(snap.peers.map((p) => p.row.id)).toEqual(['c1', 'c2', 'd1', 'd2', 'd3', 'u1']);
    expect(snap.omitted).toBe(0);
    expect(snap.fieldsUnusable.get('is_ditto_server')).toBe(1);
    expect(Object.isFrozen(snap)).toBe(true);
  });

  it('has no cloud values without cloud rows, and counts rows ahead of the clock', () => {
    const snap = buildSnapshot(parsed(row('d1', { lastUpdate: 1000.5 }), row('d2', { lastUpdate: 1002 })), CLOCK, { maxPeers: 10, previousKept: NONE, labelsFor });
    expect(snap.cloudSyncedCommitId).toBeUndefined();
    expect(snap.cloudLastUpdate).toBeUndefined();
    expect(snap.aheadOfClock).toBe(1);
  });

  it('keeps a far-future cloud row out of the cloud freshness: an hour-stale cloud stays stale', () => {
    const now = 1_700_000_000;
    const snap = buildSnapshot(
      parseRows([row('c1', { cloud: true, status: 'Connected', lastUpdate: (now - 3600) * 1000 }), row('c2', { cloud: true, status: 'Not Connected', lastUpdate: (now + 10 * 86_400) * 1e6 })], now),
      now,
      { maxPeers: 10, previousKept: NONE, labelsFor },
    );
    expect(snap.cloudLastUpdate).toBe(now - 3600);
    expect(snap.fieldsUnusable.get('last_update_received_time')).toBe(1);
  });

  it('leaves peers out of per-peer series when the labeler hides them', () => {
    const snap = buildSnapshot(parsed(row('a'), row('b')), CLOCK, { maxPeers: 10, previousKept: NONE, labelsFor: () => null });
    expect(snap.peers).toEqual([]);
    expect(snap.omitted).toBe(2);
    expect(snap.connected).toBe(2);
  });

  it('never writes two peers under one label text (a hash collision), and counts the second as omitted', () => {
    const snap = buildSnapshot(parsed(row('a'), row('b'), row('c')), CLOCK, { maxPeers: 10, previousKept: NONE, labelsFor: (r) => labelSet({ peer_id: 'same', peer_type: r.type }) });
    expect(snap.peers.map((p) => p.row.id)).toEqual(['a']);
    expect(snap.omitted).toBe(2);
  });
});

describe('selectStable: the per-peer set under --max-peers', () => {
  const rowsOf = (...raw: unknown[]) => parsed(...raw).rows;

  it('fills free slots with cloud servers, then rows of unknown type, then connected devices, then the rest, ties by id', () => {
    const input = rowsOf(
      row('d-old', { status: 'Not Connected', lastUpdate: 100 }),
      row('c1', { cloud: true, status: 'Not Connected' }),
      row('d-fresh', { status: 'Not Connected', lastUpdate: 900 }),
      row('d-conn-b', { status: 'Connected', lastUpdate: 50 }),
      row('d-conn-a', { status: 'Connected', lastUpdate: 10 }),
      { _id: 'u', is_ditto_server: null, documents: {} },
      row('c2', { cloud: true }),
    );
    expect([...selectStable(input, NONE, 3)]).toEqual(['c1', 'c2', 'u']);
    expect([...selectStable(input, NONE, 5)].sort()).toEqual(['c1', 'c2', 'd-conn-a', 'd-conn-b', 'u']);
    expect([...selectStable(input, NONE, 6)]).toContain('d-fresh');
  });

  it('keeps a kept peer while its row exists, whatever its status and freshness do', () => {
    const first = rowsOf(row('a', { status: 'Connected', lastUpdate: 999 }), row('b', { status: 'Connected', lastUpdate: 998 }), row('z', { status: 'Not Connected' }));
    const kept = selectStable(first, NONE, 2);
    expect([...kept].sort()).toEqual(['a', 'b']);
    // b goes silent and disconnects; z connects and is the freshest: b keeps its slot.
    const second = rowsOf(row('a', { status: 'Connected', lastUpdate: 1000 }), row('b', { status: 'Not Connected', lastUpdate: 1 }), row('z', { status: 'Connected', lastUpdate: 1000 }));
    expect([...selectStable(second, kept, 2)].sort()).toEqual(['a', 'b']);
    // b vanishes: its slot goes to the next in admission order.
    expect([...selectStable(rowsOf(row('a'), row('z'), row('y', { cloud: true })), kept, 2)].sort()).toEqual(['a', 'y']);
  });

  it('at the cap with churn: 100 connected devices, a cap of 50, 20 ticks of changing freshness: the same 50 throughout', () => {
    const random = seededRandom(7);
    const ids = Array.from({ length: 100 }, (_, i) => `pk${String(i).padStart(3, '0')}`);
    let kept: Pick<KeptIds, 'has' | 'size'> & Iterable<string> = NONE;
    const everKept = new Set<string>();
    for (let tick = 0; tick < 20; tick++) {
      const rows = rowsOf(...ids.map((id) => row(id, { status: 'Connected', lastUpdate: CLOCK - Math.floor(random() * 600) })));
      kept = selectStable(rows, kept, 50);
      expect(kept.size).toBe(50);
      for (const id of kept) everKept.add(id);
    }
    expect(everKept.size).toBe(50);
  });

  it('at the cap with peers vanishing and appearing: the survivors stay, newcomers fill only freed slots', () => {
    const random = seededRandom(11);
    let population = Array.from({ length: 80 }, (_, i) => `pk${i}`);
    let next = 80;
    let kept: Pick<KeptIds, 'has' | 'size'> & Iterable<string> = NONE;
    for (let tick = 0; tick < 50; tick++) {
      const rows = rowsOf(...population.map((id) => row(id, { status: random() < 0.5 ? 'Connected' : 'Not Connected', lastUpdate: CLOCK - random() * 100 })));
      const previous = kept;
      kept = selectStable(rows, previous, 40);
      expect(kept.size).toBe(40);
      const present = new Set(population);
      for (const id of previous) if (present.has(id)) expect(kept.has(id)).toBe(true);
      // 5 vanish, 5 appear.
      population = population.filter(() => random() > 5 / population.length);
      while (population.length < 80) population.push(`pk${next++}`);
    }
  });
});
