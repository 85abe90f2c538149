/**
 * --fleet-live: each connected device's own system:data_sync_info over remote execute, against an
 * emulator of the Ditto Server HTTP API (written from the ditto CLI's client, since the endpoint is
 * not in Ditto's public reference; not the real server).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SyncExporter } from '../src/exporter.js';
import { FleetSource } from '../src/sources/fleet/fleet-source.js';
import { LIVE_BATCH } from '../src/sources/fleet/live-reader.js';
import { liveSessions } from '../src/sources/fleet/queries.js';
import { DittoServerEmulator, deriveFleet } from './helpers/ditto-server-emulator.js';
import { checkExposition } from './helpers/exposition-check.js';
import { parseSamples, valueOf } from './helpers/exposition.js';
import { row } from './helpers/fake-source.js';

const KEY = 'emulator-read-only-key';
const T = 1_796_112_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(count: number, peerShape: 'string' | 'object' = 'string') {
  const emu = await new DittoServerEmulator({ keys: [KEY], peerShape }).start();
  // Seen a minute ago: connected, so worth asking.
  const fleet = deriveFleet(count, () => ({ lastSeen: T - 60 }));
  emu.setDocuments(fleet);
  const source = new FleetSource({ url: emu.url, apiKey: () => KEY, intervalSeconds: 3600, live: true, clock: () => T, backoffMs: 5 });
  const exporter = new SyncExporter(source, { collectDefaultMetrics: false });
  cleanups.push(async () => {
    await exporter.close();
    await emu.stop();
  });
  await exporter.start();
  await source.readNow();
  const ids = fleet.map((d) => String(d['_id']));
  const scrape = async () => {
    await source.readNow();
    const { body } = await exporter.scrape('prometheus');
    expect(checkExposition(body)).toEqual([]);
    return body;
  };
  return { emu, source, ids, scrape };
}

const SESSIONS = [
  row('pkCloud', { cloud: true, status: 'Connected', synced: 10, lastUpdate: (T - 30) * 1000 }),
  row('pkCloud2', { cloud: true, status: 'Not Connected', synced: 9, lastUpdate: (T - 900) * 1000 }),
  row('pkPhone', { status: 'Connected', synced: 10, lastUpdate: T - 5 }),
];

describe('live sessions over remote execute', () => {
  it.each(['string', 'object'] as const)('reads each answering device\'s sessions by peer type and status (peer given as %s)', async (shape) => {
    const { emu, ids, scrape } = await setup(3, shape);
    emu.connected.set(ids[0]!, { rows: SESSIONS });
    const body = await scrape();
    const d = ids[0]!;
    expect(valueOf(body, 'ditto_fleet_device_live_sessions', { device_id: d, peer_type: 'cloud', status: 'connected' })).toBe(1);
    expect(valueOf(body, 'ditto_fleet_device_live_sessions', { device_id: d, peer_type: 'cloud', status: 'not_connected' })).toBe(1);
    expect(valueOf(body, 'ditto_fleet_device_live_sessions', { device_id: d, peer_type: 'device', status: 'connected' })).toBe(1);
    expect(valueOf(body, 'ditto_fleet_device_live_sessions', { device_id: d, peer_type: 'device', status: 'not_connected' })).toBe(0);
    // Milliseconds, as every real consumer reads them, told apart by magnitude.
    expect(valueOf(body, 'ditto_fleet_device_live_cloud_last_update_timestamp_seconds', { device_id: d })).toBe(T - 30);
    expect(valueOf(body, 'ditto_fleet_live_devices', { outcome: 'answered' })).toBe(1);
    expect(valueOf(body, 'ditto_fleet_live_devices', { outcome: 'not_answered' })).toBe(2);
    expect(valueOf(body, 'ditto_fleet_live_age_seconds')).toBe(0);
    // Devices that did not answer have no live series: nothing is guessed.
    for (const other of ids.slice(1)) expect(body).not.toMatch(new RegExp(`ditto_fleet_device_live_\\w+\\{device_id="${other}"`));
  });

  it('sends SYNC CONTEXT ( PEERS WHERE peerKeyString = … OR … ) to POST /api/v5/sync/remote_execute, in bounded batches', async () => {
    const { emu, ids } = await setup(LIVE_BATCH + 3);
    const remote = emu.requests.filter((r) => r.path.endsWith('/api/v5/sync/remote_execute'));
    expect(remote).toHaveLength(2);
    const asked = remote.flatMap((r) => [...r.statement!.matchAll(/peerKeyString = '([^']+)'/g)].map((m) => m[1]));
    expect(asked.sort()).toEqual([...ids].sort());
    expect(remote[0]!.statement).toMatch(/^SYNC CONTEXT \( PEERS WHERE peerKeyString = '[^']+'( OR peerKeyString = '[^']+'){24} \) SELECT \* FROM system:data_sync_info$/);
  });

  it('validates live rows field by field, as local rows: a bad field is counted, the row still counts', async () => {
    const { emu, ids, scrape } = await setup(2);
    emu.connected.set(ids[1]!, { rows: [...SESSIONS, { _id: 'pkOdd', is_ditto_server: 'maybe', documents: { sync_session_status: 'Connected' } }, 'junk'] });
    const body = await scrape();
    expect(valueOf(body, 'ditto_fleet_live_fields_unusable', { field: 'is_ditto_server' })).toBe(1);
    expect(valueOf(body, 'ditto_fleet_live_rows_unusable', { reason: 'not_an_object' })).toBe(1);
    expect(valueOf(body, 'ditto_fleet_device_live_sessions', { device_id: ids[1]!, peer_type: 'unknown', status: 'connected' })).toBe(1);
  });

  it('counts a device that answers with an error, and an answer naming no device asked', async () => {
    const { emu, ids, scrape } = await setup(2);
    emu.connected.set(ids[0]!, { error: 'remote query timed out' });
    emu.intercept = (r) =>
      r.path.endsWith('remote_execute')
        ? { kind: 'body', body: JSON.stringify({ result: [{ peer: ids[0], items: [], error: { description: 'timed out' } }, { peer: 'pkStranger', items: [] }, { items: [] }] }) }
        : undefined;
    const body = await scrape();
    expect(valueOf(body, 'ditto_fleet_live_devices', { outcome: 'error' })).toBe(1);
    expect(valueOf(body, 'ditto_fleet_live_devices', { outcome: 'unattributed' })).toBe(2);
    expect(valueOf(body, 'ditto_fleet_live_devices', { outcome: 'not_answered' })).toBe(1);
  });

  it('counts a failed remote execute as a live failure without touching ditto_fleet_up or the inventory', async () => {
    const { emu, scrape } = await setup(2);
    emu.intercept = (r) => (r.path.endsWith('remote_execute') ? { kind: 'status', status: 403, description: 'the key may not run remote queries' } : undefined);
    const body = await scrape();
    expect(valueOf(body, 'ditto_fleet_read_failures_total', { read: 'live', reason: 'unauthorized' })).toBe(1);
    expect(valueOf(body, 'ditto_fleet_up')).toBe(1);
    expect(valueOf(body, 'ditto_fleet_live_devices', { outcome: 'not_answered' })).toBe(2);
  });

  it('drops the live series of a device that left the inventory', async () => {
    const { emu, ids, scrape } = await setup(3);
    for (const id of ids) emu.connected.set(id, { rows: SESSIONS });
    expect(new Set(parseSamples(await scrape()).filter((s) => s.name === 'ditto_fleet_device_live_sessions').map((s) => s.labels['device_id'])).size).toBe(3);
    emu.remove(ids[0]!);
    const body = await scrape();
    expect(new Set(parseSamples(body).filter((s) => s.name === 'ditto_fleet_device_live_sessions').map((s) => s.labels['device_id']))).toEqual(new Set(ids.slice(1)));
  });

  it('never writes a peer key it cannot quote safely into a statement', () => {
    expect(liveSessions(['pkA-b_c'])).toBe("SYNC CONTEXT ( PEERS WHERE peerKeyString = 'pkA-b_c' ) SELECT * FROM system:data_sync_info");
    expect(() => liveSessions(["pk' OR true --"])).toThrow(RangeError);
    expect(() => liveSessions(['pk\\'])).toThrow(RangeError);
  });
});
