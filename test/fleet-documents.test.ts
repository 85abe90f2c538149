import { describe, expect, it } from 'vitest';
import { TRANSPORTS } from '../src/catalogue/device.js';
import { parseDevice, type DeviceField, type DeviceRecord } from '../src/collectors/fleet-documents.js';
import { transportOf } from '../src/collectors/transports.js';
import { capturedDocuments } from './helpers/ditto-server-emulator.js';

const docs = capturedDocuments();
/** The clock of the capture (the beacons' `at`), plus a minute. */
const CLOCK = Date.parse(String(docs[2]!['last_updated_at'])) / 1000 + 60;

const parsed = (raw: unknown, clock = CLOCK): DeviceRecord => {
  const d = parseDevice(raw, clock);
  if (typeof d === 'string') throw new Error(`left out: ${d}`);
  return d;
};
const base = () => structuredClone(docs[2]!);

describe('__small_peer_info documents captured from the real SDK', () => {
  it('parse with no unusable field, every exported value read from its documented field', () => {
    for (const doc of docs) {
      const d = parsed(doc);
      const disk = doc['device_disk_usage'] as Record<string, number>;
      expect(d).toMatchObject({
        id: doc['_id'],
        // The SDK leaves device_name null until sync starts: unknown, not unusable.
        name: undefined,
        language: 'JavaScript',
        platform: 'Linux',
        version: '5.1.0',
        lastSeen: Date.parse(String(doc['last_updated_at'])) / 1000,
        storeBytes: disk['ditto_total'],
        availBytes: disk['device_available'],
        sizeBytes: disk['device_total'],
        // Every transport is null on an unsynced SDK: nothing to say, so nothing said.
        connections: [],
        unusable: [],
      });
    }
  });

  it('read the three beacon states the capture set: none, healthy, and commits the cloud lacks', () => {
    const [none, healthy, gap] = docs.map((d) => parsed(d).beacon);
    expect(none).toEqual({ kind: 'absent' });
    const h = (healthy!.kind === 'v1' ? healthy : undefined)!;
    expect(h).toMatchObject({ kind: 'v1', unackedCommits: 0, oldestUnackedAt: null });
    expect(h.at).toBeGreaterThan(1.7e9);
    const g = (gap!.kind === 'v1' ? gap : undefined)!;
    expect(g.unackedCommits).toBe(2);
    // The capture tracked commits 20 and 10 minutes before the beacon; the cloud had neither.
    expect(g.at! - g.oldestUnackedAt!).toBeCloseTo(1200, 3);
    expect(g.cloudLastUpdateAt).toBeLessThan(g.at!);
  });

  it('leave out unacked commits of a beacon that tracks none (local_commit_id null): 0 would read as "nothing waits"', () => {
    const doc = structuredClone(docs[1]!) as Record<string, unknown>;
    const health = (doc['metadata'] as Record<string, unknown>)['ditto_sync_health'] as Record<string, unknown>;
    expect(health['unacked_commits']).toBe(0);
    health['local_commit_id'] = null;
    const b = parsed(doc).beacon;
    expect(b).toMatchObject({ kind: 'v1', unackedCommits: undefined, oldestUnackedAt: null });
    expect(b.kind === 'v1' && b.at).toBeGreaterThan(1.7e9);
  });
});

describe('field-by-field validation', () => {
  const cases: [string, (d: Record<string, unknown>) => void, DeviceField, Partial<DeviceRecord>][] = [
    ['device_name not a string', (d) => (d['device_name'] = 42), 'device_name', { name: undefined }],
    ['device_name too long for a label', (d) => (d['device_name'] = 'x'.repeat(129)), 'device_name', { name: undefined }],
    ['device_name with a lone surrogate', (d) => (d['device_name'] = 'a\ud800'), 'device_name', { name: undefined }],
    ['SDK version an object', (d) => (d['ditto_sdk_version'] = { major: 5 }), 'ditto_sdk_version', { version: undefined }],
    ['SDK platform too long', (d) => (d['ditto_sdk_platform'] = 'p'.repeat(65)), 'ditto_sdk_platform', { platform: undefined }],
    ['last_updated_at not a time', (d) => (d['last_updated_at'] = 'yesterday'), 'last_updated_at', { lastSeen: undefined }],
    ['last_updated_at two days ahead', (d) => (d['last_updated_at'] = new Date((CLOCK + 2 * 86_400) * 1000).toISOString()), 'last_updated_at', { lastSeen: undefined }],
    ['device_disk_usage a string', (d) => (d['device_disk_usage'] = 'full'), 'device_disk_usage', { availBytes: undefined, sizeBytes: undefined, storeBytes: undefined }],
    ['device_available negative', (d) => ((d['device_disk_usage'] as Record<string, unknown>)['device_available'] = -1), 'device_disk_usage.device_available', { availBytes: undefined }],
    ['device_total fractional', (d) => ((d['device_disk_usage'] as Record<string, unknown>)['device_total'] = 1.5), 'device_disk_usage.device_total', { sizeBytes: undefined }],
    ['ditto_total past 2^53', (d) => ((d['device_disk_usage'] as Record<string, unknown>)['ditto_total'] = 2 ** 54), 'device_disk_usage.ditto_total', { storeBytes: undefined }],
    ['connections_by_transport an array', (d) => (d['connections_by_transport'] = [1, 2]), 'connections_by_transport', { connections: [] }],
    ['metadata a string', (d) => (d['metadata'] = 'oops'), 'metadata', { beacon: { kind: 'absent' } }],
    ['a beacon field of the wrong type', (d) => (((d['metadata'] as Record<string, unknown>)['ditto_sync_health'] as Record<string, unknown>)['unacked_commits'] = '2'), 'ditto_sync_health.unacked_commits', {}],
  ];

  it.each(cases)('%s: that field is unknown and counted, the rest of the document is used', (_what, spoil, field, expected) => {
    const doc = base();
    spoil(doc);
    const d = parsed(doc);
    expect(d.unusable).toEqual([field]);
    expect(d).toMatchObject(expected);
    expect(d.id).toBe(doc['_id']);
    // Something unrelated to the spoiled field is still read.
    expect(field === 'ditto_sdk_version' ? d.platform : d.version).toBeDefined();
  });

  it('keeps the usable beacon fields when one is unusable', () => {
    const doc = base();
    ((doc['metadata'] as Record<string, unknown>)['ditto_sync_health'] as Record<string, unknown>)['unacked_commits'] = -3;
    const b = parsed(doc).beacon;
    expect(b).toMatchObject({ kind: 'v1', unackedCommits: undefined });
    expect(b.kind === 'v1' && b.at).toBeGreaterThan(0);
    expect(b.kind === 'v1' && b.oldestUnackedAt).toBeGreaterThan(0);
  });

  it('tells a beacon of another version from a missing one, and leaves both without beacon values', () => {
    const doc = base();
    (doc['metadata'] as Record<string, unknown>)['ditto_sync_health'] = { v: 2, at: CLOCK };
    expect(parsed(doc).beacon).toEqual({ kind: 'unsupported' });
    (doc['metadata'] as Record<string, unknown>)['ditto_sync_health'] = 'v1';
    expect(parsed(doc).beacon).toEqual({ kind: 'unsupported' });
    doc['metadata'] = null;
    expect(parsed(doc)).toMatchObject({ beacon: { kind: 'absent' }, unusable: [] });
  });

  it('reads transport counts as the snake_case values of ditto_presence_connections, skips nulls and counts transports it does not know as other', () => {
    const doc = base();
    doc['connections_by_transport'] = { AccessPoint: null, Bluetooth: 2, P2PWiFi: 0, WebSocket: 1, Multicast: 5, Lora: 3, Zigbee: 1, bluetooth: 1 };
    expect(parsed(doc).connections).toEqual([
      { transport: 'bluetooth', connections: 2 },
      { transport: 'p2p_wifi', connections: 0 },
      { transport: 'web_socket', connections: 1 },
      { transport: 'multicast', connections: 5 },
      { transport: 'other', connections: 5 },
    ]);
    doc['connections_by_transport'] = { AccessPoint: 4 };
    expect(parsed(doc).connections).toEqual([{ transport: 'access_point', connections: 4 }]);
    doc['connections_by_transport'] = { Bluetooth: 2, WebSocket: 'many' };
    expect(parsed(doc)).toMatchObject({ connections: [{ transport: 'bluetooth', connections: 2 }], unusable: ['connections_by_transport'] });
  });

  it('name every transport exactly as the presence graph does: one mapping for both families', () => {
    const doc = base();
    for (const sdkName of ['Bluetooth', 'AccessPoint', 'P2PWiFi', 'WebSocket', 'Multicast', 'LoRa', 'constructor']) {
      doc['connections_by_transport'] = { [sdkName]: 1 };
      const [count] = parsed(doc).connections;
      expect(count!.transport).toBe(transportOf(sdkName));
      expect(TRANSPORTS).toContain(count!.transport);
    }
  });

  it('never lets a document reach Object.prototype', () => {
    const doc = JSON.parse(`{"_id": "pkEvil", "__proto__": {"device_name": "injected"}, "constructor": 1}`) as unknown;
    expect(parsed(doc).name).toBeUndefined();
  });

  it.each([
    ['a string', 'doc', 'not_an_object'],
    ['an array', [docs[0]], 'not_an_object'],
    ['null', null, 'not_an_object'],
    ['no _id', { device_name: 'x' }, 'missing_id'],
    ['an empty _id', { _id: '' }, 'missing_id'],
    ['a numeric _id', { _id: 7 }, 'missing_id'],
    ['an _id of 513 characters', { _id: 'p'.repeat(513) }, 'bad_id'],
  ])('leaves out a document that is %s', (_what, raw, reason) => {
    expect(parseDevice(raw, CLOCK)).toBe(reason);
  });
});
