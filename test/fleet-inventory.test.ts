import { describe, expect, it } from 'vitest';
import { F } from '../src/catalogue/index.js';
import { FLEET_EMITTERS } from '../src/collectors/families/fleet.js';
import type { ScrapeView } from '../src/collectors/families/index.js';
import { countBelow, MAX_SDK_SERIES, selectKeys, type FleetInventory } from '../src/collectors/fleet-inventory.js';
import { checkShard, fnv1a64, jumpHash, shardOf, type Shard } from '../src/collectors/fleet-shard.js';
import { renderFamilies } from '../src/exposition/render.js';
import { FleetState, type FleetStateOptions } from '../src/state/fleet-state.js';
import { hashId } from '../src/state/peer-labels.js';
import { deriveFleet, deviceId, type Document } from './helpers/ditto-server-emulator.js';
import { checkExposition } from './helpers/exposition-check.js';
import { parseSamples, sampleMap } from './helpers/exposition.js';

const NOW = 1_796_112_000;

async function read(state: FleetState, documents: readonly unknown[], clock = NOW): Promise<FleetInventory> {
  const builder = state.begin(clock);
  // Pages of 7, as the source hands them over.
  for (let i = 0; i < documents.length; i += 7) builder.add(documents.slice(i, i + 7));
  return state.complete(builder, clock, 0.5);
}

const newState = (options: Partial<FleetStateOptions> = {}) => new FleetState({ shard: checkShard({ index: 0, total: 1 }), maxDevices: 1000, deviceIdLabel: 'full', ...options });

const INFO = { version: 't', dittoSdkVersion: 'none', source: 'fleet', backend: 'prom-client', strictMode: 'none', peerIdLabel: 'full' };
const view = (state: FleetState, now = NOW): ScrapeView => ({ now, sync: undefined, device: { presence: undefined, peerInfo: [], storage: undefined }, fleet: state.view(), info: INFO });
async function body(state: FleetState, now = NOW): Promise<string> {
  const text = await renderFamilies(view(state, now), 'prometheus', { emitters: FLEET_EMITTERS });
  expect(checkExposition(text)).toEqual([]);
  return text;
}
const ids = (text: string, family = F.fleetDeviceLastSeen.name) => new Set(parseSamples(text).filter((s) => s.name === family).map((s) => s.labels['device_id']));
const total = (text: string) => parseSamples(text).filter((s) => s.name === F.fleetDevices.name).reduce((n, s) => n + s.value, 0);

describe('the aggregates', () => {
  it('count every device past --max-devices, while per-device series stop at the cap', async () => {
    const state = newState({ maxDevices: 4 });
    await read(state, deriveFleet(30, (i) => ({ lastSeen: NOW - i })));
    const text = await body(state);
    expect(total(text)).toBe(30);
    expect(ids(text).size).toBe(4);
    expect(sampleMap(text).get('ditto_fleet_devices_omitted{}')?.value).toBe(26);
    expect(sampleMap(text).get('ditto_fleet_beacon_devices{beacon="v1"}')?.value).toBe(20);
  });

  it('bound their label values: a fleet with 1,000 SDK versions makes at most 200 series plus "other", and still counts every device', async () => {
    const state = newState({ maxDevices: 10 });
    await read(state, deriveFleet(3000, (i) => ({ version: `5.${i % 1000}.0`, platform: i % 2 ? 'iOS' : 'Android' })));
    const text = await body(state);
    const series = parseSamples(text).filter((s) => s.name === F.fleetDevices.name);
    expect(series.length).toBe(MAX_SDK_SERIES + 1);
    expect(series.filter((s) => s.labels['sdk_version'] === 'other' && s.labels['sdk_platform'] === 'other')).toHaveLength(1);
    expect(total(text)).toBe(3000);
  });

  it('keep the SDK series they chose while those still have devices, instead of churning with the counts', () => {
    const before = selectKeys(new Map([['a', 5], ['b', 4], ['c', 1]]), new Set(), 2);
    expect([...before].sort()).toEqual(['a', 'b']);
    const after = selectKeys(new Map([['a', 5], ['b', 1], ['c', 9]]), before, 2);
    expect([...after].sort()).toEqual(['a', 'b']);
    const gone = selectKeys(new Map([['a', 5], ['c', 9], ['d', 1]]), after, 2);
    expect([...gone].sort()).toEqual(['a', 'c']);
  });

  it('name unusable SDK values "unknown" rather than dropping their devices', async () => {
    const state = newState();
    const docs = deriveFleet(3);
    docs[0]!['ditto_sdk_version'] = { not: 'a string' };
    delete docs[1]!['ditto_sdk_platform'];
    await read(state, docs);
    const text = await body(state);
    expect(sampleMap(text).get('ditto_fleet_devices{sdk_platform="Linux",sdk_version="unknown"}')?.value).toBe(1);
    expect(sampleMap(text).get('ditto_fleet_devices{sdk_platform="unknown",sdk_version="5.1.0"}')?.value).toBe(1);
    expect(sampleMap(text).get('ditto_fleet_fields_unusable{field="ditto_sdk_version"}')?.value).toBe(1);
    expect(sampleMap(text).get('ditto_fleet_fields_unusable{field="ditto_sdk_platform"}')?.value).toBe(0);
  });

  it('count devices not seen for 1 h and for 24 h at scrape time, not at read time', async () => {
    const state = newState();
    await read(state, deriveFleet(6, (i) => ({ lastSeen: NOW - [10, 3599, 3601, 7200, 86_401, 200_000][i]! })));
    const at = async (now: number) => {
      const m = sampleMap(await body(state, now));
      return [m.get('ditto_fleet_devices_not_seen{older_than="1h"}')?.value, m.get('ditto_fleet_devices_not_seen{older_than="24h"}')?.value];
    };
    expect(await at(NOW)).toEqual([4, 2]);
    expect(await at(NOW + 2)).toEqual([5, 2]);
    expect(countBelow(Float64Array.from([1, 2, 2, 3]), 2)).toBe(1);
  });
});

describe('per-device series', () => {
  it('stay stable under --max-devices: a kept device stays kept while it exists, whatever fresher devices appear', async () => {
    const state = newState({ maxDevices: 3 });
    const fleet = deriveFleet(10, (i) => ({ lastSeen: NOW - 100 * i }));
    await read(state, fleet);
    const first = ids(await body(state));
    // The most recently seen devices are admitted first.
    expect(first).toEqual(new Set(fleet.slice(0, 3).map((d) => d['_id'])));
    // Others become fresher: the kept ones keep their series.
    const fresher = deriveFleet(10, (i) => ({ lastSeen: NOW + 50 - 100 * (9 - i) }));
    await read(state, fresher, NOW + 60);
    expect(ids(await body(state, NOW + 60))).toEqual(first);
    // One kept device vanishes: its slot goes to the freshest candidate.
    const shrunk = fresher.filter((d) => d['_id'] !== fleet[1]!['_id']);
    await read(state, shrunk, NOW + 120);
    expect(ids(await body(state, NOW + 120))).toEqual(new Set([fleet[0]!['_id'], fleet[2]!['_id'], fresher[9]!['_id']]));
  });

  it('carry only device_id on value series; the descriptive labels live in ditto_fleet_device_info', async () => {
    const state = newState();
    await read(state, deriveFleet(2));
    for (const s of parseSamples(await body(state))) {
      if (!s.name.startsWith('ditto_fleet_device_') || s.name === F.fleetDeviceInfo.name) continue;
      expect(Object.keys(s.labels).filter((l) => l !== 'transport' && l !== 'peer_type' && l !== 'status')).toEqual(['device_id']);
    }
  });

  it('label connections with the transport values of ditto_presence_connections', async () => {
    const state = newState();
    const fleet = deriveFleet(1, () => ({ connections: { AccessPoint: 1, Bluetooth: 2, P2PWiFi: null, WebSocket: 3, LoRa: 4 } }));
    await read(state, fleet);
    const id = String(fleet[0]!['_id']);
    const connections = parseSamples(await body(state)).filter((s) => s.name === F.fleetDeviceConnections.name);
    expect(Object.fromEntries(connections.map((s) => [s.labels['transport'], s.value]))).toEqual({ access_point: 1, bluetooth: 2, web_socket: 3, other: 4 });
    for (const s of connections) expect(s.labels['device_id']).toBe(id);
  });

  it('--fleet-device-id-label hash shows the keyed hash (the peer id hash: a device hashes alike in both sources) and leaves device_name out', async () => {
    const state = newState({ deviceIdLabel: 'hash', hashKey: 'k3y' });
    const fleet = deriveFleet(3);
    await read(state, fleet);
    const text = await body(state);
    expect(ids(text)).toEqual(new Set(fleet.map((d) => hashId(String(d['_id']), 'k3y'))));
    expect(text).not.toContain('pkAocCgkM');
    const info = parseSamples(text).filter((s) => s.name === F.fleetDeviceInfo.name);
    expect(info).toHaveLength(3);
    for (const s of info) expect(s.labels).not.toHaveProperty('device_name');
    expect(() => newState({ deviceIdLabel: 'hash' })).toThrow(/non-empty hash key/);
  });

  it('--fleet-device-id-label none keeps only the aggregates', async () => {
    const state = newState({ deviceIdLabel: 'none' });
    await read(state, deriveFleet(5));
    const text = await body(state);
    expect(text).not.toContain('device_id=');
    expect(total(text)).toBe(5);
    expect(sampleMap(text).get('ditto_fleet_devices_omitted{}')?.value).toBe(5);
  });

  it('vanish with their device, in the next complete inventory', async () => {
    const state = newState();
    const fleet = deriveFleet(5);
    await read(state, fleet);
    await read(state, fleet.slice(2), NOW + 60);
    const text = await body(state, NOW + 60);
    expect(ids(text)).toEqual(new Set(fleet.slice(2).map((d) => d['_id'])));
    expect(ids(text, F.fleetDeviceInfo.name)).toEqual(ids(text));
    expect(total(text)).toBe(3);
  });

  it('keep the first of two documents with one _id and count the other', async () => {
    const state = newState();
    const [a, b] = deriveFleet(2);
    await read(state, [a, { ...b, _id: a!['_id'] }, b, 'junk', { no: 'id' }]);
    const m = sampleMap(await body(state));
    expect(m.get('ditto_fleet_documents_unusable{reason="duplicate_id"}')?.value).toBe(1);
    expect(m.get('ditto_fleet_documents_unusable{reason="not_an_object"}')?.value).toBe(1);
    expect(m.get('ditto_fleet_documents_unusable{reason="missing_id"}')?.value).toBe(1);
    expect(m.get('ditto_fleet_devices{sdk_platform="Linux",sdk_version="5.1.0"}')?.value).toBe(2);
  });
});

describe('sharding by a stable hash of the device id', () => {
  // Second, independent implementations in BigInt, straight from the definitions.
  const fnvReference = (id: string): bigint => {
    let h = 0xcbf29ce484222325n;
    for (const byte of new TextEncoder().encode(id)) h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n);
    return h;
  };
  const jumpReference = (key: bigint, buckets: number): number => {
    let b = -1;
    let j = 0;
    while (j < buckets) {
      b = j;
      key = BigInt.asUintN(64, key * 2862933555777941757n + 1n);
      j = Math.floor((b + 1) * (2 ** 31 / (Number(key >> 33n) + 1)));
    }
    return b;
  };
  const manyIds = [...Array.from({ length: 2000 }, (_, i) => deviceId(i)), '', 'a', 'é', 'Zoë\'s "phone"', '设备-7', '\u{1F4F1}', 'x'.repeat(600)];

  it('hashes ids with 64-bit FNV-1a of their UTF-8 bytes (Go hash/fnv New64a): known vectors and a second implementation', () => {
    // The FNV reference vectors.
    expect(fnv1a64('')).toBe(0xcbf29ce484222325n);
    expect(fnv1a64('a')).toBe(0xaf63dc4c8601ec8cn);
    expect(fnv1a64('foobar')).toBe(0x85944171f73967e8n);
    for (const id of manyIds) expect(fnv1a64(id), id).toBe(fnvReference(id));
  });

  it('assigns shards with the jump consistent hash: the reference vectors (go-jump, from the C++ of Lamping & Veach) and a second implementation', () => {
    const vectors: [bigint, number[]][] = [
      [0n, Array<number>(19).fill(0)],
      [1n, [0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 17, 17]],
      [0xdeadbeefn, [0, 1, 2, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 16, 16, 16]],
      [0x0ddc0ffeebadf00dn, [0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 15, 15, 15, 15]],
    ];
    for (const [key, buckets] of vectors) expect(buckets.map((_, i) => jumpHash(key, i + 1))).toEqual(buckets);
    for (const id of manyIds.slice(0, 300)) {
      for (const total of [2, 3, 7, 64, 9999]) expect(shardOf(id, total)).toBe(jumpReference(fnvReference(id), total));
    }
    // As kube-state-metrics assigns an object by its UID: jump.Hash(fnv64a(id), 7), computed separately (Python).
    expect(['', 'a', 'foobar', 'é', 'pkAocCgkMabc'].map((id) => shardOf(id, 7))).toEqual([1, 2, 5, 5, 4]);
  });

  it('moves only about 1/(M+1) of the devices when --total-shards grows from M to M+1, each to the new shard', () => {
    const fleetIds = Array.from({ length: 4000 }, (_, i) => deviceId(i, 7));
    for (const m of [1, 2, 3, 5, 8, 16]) {
      let moved = 0;
      for (const id of fleetIds) {
        const before = shardOf(id, m);
        const after = shardOf(id, m + 1);
        if (after === before) continue;
        moved++;
        expect(after).toBe(m);
      }
      expect(moved / fleetIds.length, `${m} -> ${m + 1}`).toBeLessThan(2 / (m + 1));
      expect(moved / fleetIds.length, `${m} -> ${m + 1}`).toBeGreaterThan(0.5 / (m + 1));
    }
  });

  it('splits a fleet so that the shards together report every device exactly once, and the aggregates add up', async () => {
    const fleet: Document[] = [...deriveFleet(500), 'not a document' as unknown as Document, { _id: 42 }];
    const all = new Set(fleet.flatMap((d) => (typeof d === 'object' && typeof d['_id'] === 'string' ? [d['_id']] : [])));
    const shards = 3;
    const seen: string[] = [];
    let devices = 0;
    let unusable = 0;
    for (let index = 0; index < shards; index++) {
      const shard: Shard = { index, total: shards };
      const state = newState({ shard });
      await read(state, fleet);
      const text = await body(state);
      const mine = [...ids(text)] as string[];
      for (const id of mine) expect(shardOf(id, shards)).toBe(index);
      // Roughly even: no shard holds more than half of three.
      expect(mine.length).toBeGreaterThan(100);
      expect(mine.length).toBeLessThan(250);
      seen.push(...mine);
      devices += total(text);
      const m = sampleMap(text);
      unusable += m.get('ditto_fleet_documents_unusable{reason="not_an_object"}')!.value + m.get('ditto_fleet_documents_unusable{reason="missing_id"}')!.value;
    }
    expect(seen.length).toBe(all.size);
    expect(new Set(seen)).toEqual(all);
    expect(devices).toBe(all.size);
    // Documents without an id belong to no shard: shard 0 counts them, once.
    expect(unusable).toBe(2);
  });

  it('refuses a shard outside 0..total-1', () => {
    expect(() => checkShard({ index: 3, total: 3 })).toThrow(RangeError);
    expect(() => checkShard({ index: 0, total: 0 })).toThrow(RangeError);
    expect(() => checkShard({ index: -1, total: 2 })).toThrow(RangeError);
  });
});
