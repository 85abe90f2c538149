/**
 * The presence and storage families end to end through the exporter, on replayed and simulated
 * data (no real peers can exist here): the join of data_sync_info rows to presence peers, each
 * connection counted once, cloud servers missing from the graph, the per-peer rules, and the
 * freshness rules of presence and storage.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SyncExporter, type ExporterOptions } from '../src/exporter.js';
import { buildPresence } from '../src/collectors/presence.js';
import { MeshSimulator, DEFAULT_MESH } from '../src/sources/mesh-simulator.js';
import { SimulateSource } from '../src/sources/simulate.js';
import { hashId } from '../src/state/peer-labels.js';
import { sampleMap, parseSamples, type Sample } from './helpers/exposition.js';
import { ManualSource, row } from './helpers/fake-source.js';
import { waitFor } from './helpers/net.js';
import { replayed } from './helpers/replay-exporter.js';
import { haveBinary, run } from './helpers/tools.js';

const FIXTURE = new URL('./fixtures/presence.jsonl', import.meta.url).pathname;
const LINES = readFileSync(FIXTURE, 'utf8').trim().split('\n');

/** A replay file of the fixture's first `n` lines. */
function firstLines(n: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'presence-')), 'presence.jsonl');
  writeFileSync(file, `${LINES.slice(0, n).join('\n')}\n`);
  return file;
}

const exporters: SyncExporter[] = [];
afterEach(async () => {
  await Promise.all(exporters.splice(0).map((e) => e.close()));
});

async function replay(lines: number, options: ExporterOptions = {}): Promise<{ exporter: SyncExporter; body: string; samples: Sample[] }> {
  const exporter = await replayed(firstLines(lines), options);
  exporters.push(exporter);
  const body = (await exporter.scrape('prometheus')).body;
  return { exporter, body, samples: parseSamples(body) };
}

const of = (samples: Sample[], name: string) => samples.filter((s) => s.name === name);
const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  of(samples, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)?.value;
const infoByPeer = (samples: Sample[]) => Object.fromEntries(of(samples, 'ditto_sync_peer_info').map((s) => [s.labels['peer_id'], { ...s.labels, value: s.value }]));
const connections = (samples: Sample[]) => Object.fromEntries(of(samples, 'ditto_presence_connections').map((s) => [s.labels['transport'], s.value]));

describe('the presence graph joined to system:data_sync_info (replay fixture test/fixtures/presence.jsonl)', () => {
  it('names each peer by its presence entry; a cloud server missing from the graph gets empty labels and no error', async () => {
    const { samples } = await replay(1);
    expect(infoByPeer(samples)).toEqual({
      'cloud-1': { peer_id: 'cloud-1', peer_type: 'cloud', device_name: '', os: '', sdk_version: '', value: 1 },
      'device-a': { peer_id: 'device-a', peer_type: 'device', device_name: "Alice's iPad", os: 'iOS', sdk_version: '5.1.0', value: 1 },
      'device-b': { peer_id: 'device-b', peer_type: 'device', device_name: 'Front desk', os: 'Android', sdk_version: '4.14.4', value: 1 },
      // In data_sync_info (a session that ended) but not in the graph.
      'device-c': { peer_id: 'device-c', peer_type: 'device', device_name: '', os: '', sdk_version: '', value: 1 },
    });
    expect(value(samples, 'ditto_sync_observer_errors_total')).toBe(0);
  });

  it('counts remote peers over several hops, and each direct connection once though both ends report it', async () => {
    const { samples } = await replay(1);
    // device-a, device-b and relay-x (reached through device-b only).
    expect(value(samples, 'ditto_presence_remote_peers')).toBe(3);
    // WebSocket to a and Bluetooth to b are reported by both ends; AccessPoint to b only by b;
    // b's Bluetooth link to relay-x does not involve this device.
    expect(connections(samples)).toEqual({ bluetooth: 1, access_point: 1, p2p_wifi: 0, web_socket: 1, multicast: 0, other: 0 });
    expect(Object.fromEntries(of(samples, 'ditto_presence_items_unusable').map((s) => [s.labels['item'], s.value]))).toEqual({ peer: 0, connection: 0 });
  });

  it('follows the graph as it changes: a peer that left keeps its name while its row exists, a new one gets its own, bad entries are counted', async () => {
    const { samples } = await replay(2);
    const info = infoByPeer(samples);
    expect(info['device-a']).toMatchObject({ device_name: "Alice's iPad", os: 'iOS' });
    expect(info['device-c']).toMatchObject({ device_name: 'Zoë\'s "phone"', os: 'Android', sdk_version: '5.0.2' });
    expect(info['cloud-1']).toMatchObject({ device_name: '', os: '', sdk_version: '' });
    expect(value(samples, 'ditto_presence_remote_peers')).toBe(3);
    expect(connections(samples)).toEqual({ bluetooth: 1, access_point: 1, p2p_wifi: 1, web_socket: 0, multicast: 0, other: 1 });
    expect(Object.fromEntries(of(samples, 'ditto_presence_items_unusable').map((s) => [s.labels['item'], s.value]))).toEqual({ peer: 1, connection: 1 });
    expect(value(samples, 'ditto_sync_observer_errors_total')).toBe(0);
  });

  it('gives ditto_sync_peer_info exactly to the peers with per-peer series, under --max-peers', async () => {
    const { samples } = await replay(2, { maxPeers: 2 });
    const withSeries = new Set(of(samples, 'ditto_sync_peer_status').map((s) => s.labels['peer_id']));
    expect(withSeries.size).toBe(2);
    expect(new Set(Object.keys(infoByPeer(samples)))).toEqual(withSeries);
    expect(value(samples, 'ditto_sync_peers_omitted')).toBe(2);
  });

  it('carries the hashed peer_id under --peer-id-label hash, and is left out under none', async () => {
    const hashed = await replay(1, { peerIdLabel: 'hash', peerIdHashKey: 'k' });
    const info = of(hashed.samples, 'ditto_sync_peer_info');
    expect(info.map((s) => s.labels['peer_id']).sort()).toEqual(['cloud-1', 'device-a', 'device-b', 'device-c'].map((id) => hashId(id, 'k')).sort());
    expect(info.find((s) => s.labels['peer_id'] === hashId('device-a', 'k'))?.labels['device_name']).toBe("Alice's iPad");
    const none = await replay(1, { peerIdLabel: 'none' });
    expect(of(none.samples, 'ditto_sync_peer_info')).toEqual([]);
    expect(value(none.samples, 'ditto_presence_remote_peers')).toBe(3);
  });

  it('leaves device_name out with peerDeviceName: false (--no-peer-device-name), keeping OS and SDK version', async () => {
    const { body, samples } = await replay(1, { peerDeviceName: false });
    expect(body).not.toContain('device_name=');
    expect(infoByPeer(samples)['device-a']).toEqual({ peer_id: 'device-a', peer_type: 'device', os: 'iOS', sdk_version: '5.1.0', value: 1 });
  });

  it('serves the same presence series through the otel backend', async () => {
    const prom = await replay(2);
    const otel = await replay(2, { backend: 'otel' });
    const device = (body: string) => new Map([...sampleMap(body)].filter(([k]) => /^ditto_(presence_|sync_peer_info)/.test(k)).map(([k, s]) => [k, s.value]));
    expect(device(otel.body)).toEqual(device(prom.body));
    expect(device(prom.body).size).toBe(4 + 1 + 6 + 2);
  });

  it.runIf(haveBinary('promtool'))('passes promtool check metrics with user text in labels', async () => {
    const { body } = await replay(2);
    const result = run('promtool', ['check', 'metrics'], body);
    expect(result.stderr + result.stdout).toBe('');
    expect(result.status).toBe(0);
  });
});

/** An exporter on a hand-driven source; `storage` becomes its readStorage before the exporter sees it. */
function manual(options: ExporterOptions & { storage?: ManualSource['readStorage'] } = {}) {
  const source = new ManualSource();
  if (options.storage) source.readStorage = options.storage;
  const exporter = new SyncExporter(source, { collectDefaultMetrics: false, ...options });
  exporters.push(exporter);
  return { source, exporter, scrape: async () => parseSamples((await exporter.scrape('prometheus')).body) };
}

const GRAPH = JSON.parse(LINES[0]!).presence as unknown;
const ROWS = [row('device-a'), row('cloud-1', { cloud: true })];

describe('presence freshness', () => {
  it('serves nothing derived from presence while the source is closed, as for sync', async () => {
    const { source, exporter, scrape } = manual();
    await exporter.start();
    source.sink!.presence(GRAPH, source.clock);
    source.sink!.tick({ rows: ROWS, readAt: source.clock });
    expect(value(await scrape(), 'ditto_presence_remote_peers')).toBe(3);
    source.open = false;
    const down = await scrape();
    expect(value(down, 'ditto_sync_up')).toBe(0);
    expect(of(down, 'ditto_presence_remote_peers')).toEqual([]);
    expect(of(down, 'ditto_presence_connections')).toEqual([]);
    expect(of(down, 'ditto_sync_peer_info')).toEqual([]);
  });

  it('drops a graph it cannot read, counts the error, and serves the next good one', async () => {
    const { source, exporter, scrape } = manual();
    await exporter.start();
    source.sink!.tick({ rows: ROWS, readAt: source.clock });
    source.sink!.presence(GRAPH, source.clock);
    source.sink!.presence({ localPeer: 'garbage' }, source.clock);
    const bad = await scrape();
    expect(of(bad, 'ditto_presence_remote_peers')).toEqual([]);
    expect(value(bad, 'ditto_sync_observer_errors_total')).toBe(1);
    // Names already learnt stay with their peers.
    expect(of(bad, 'ditto_sync_peer_info').find((s) => s.labels['peer_id'] === 'device-a')?.labels['device_name']).toBe("Alice's iPad");
    source.sink!.presence(GRAPH, source.clock);
    expect(value(await scrape(), 'ditto_presence_remote_peers')).toBe(3);
  });

  it('forgets a name once the peer has left both the graph and data_sync_info', async () => {
    const { source, exporter, scrape } = manual();
    await exporter.start();
    const emptyGraph = { localPeer: { peerKey: 'pkLocal', connections: [] }, remotePeers: [] };
    source.sink!.presence(GRAPH, source.clock);
    source.sink!.tick({ rows: ROWS, readAt: source.clock });
    source.sink!.presence(emptyGraph, source.clock + 1);
    // Gone from the graph, still in data_sync_info: the name stays.
    const name = async () => of(await scrape(), 'ditto_sync_peer_info').find((s) => s.labels['peer_id'] === 'device-a')?.labels['device_name'];
    expect(await name()).toBe("Alice's iPad");
    source.sink!.tick({ rows: [row('cloud-1', { cloud: true })], readAt: source.clock + 2 });
    source.sink!.tick({ rows: ROWS, readAt: source.clock + 3 });
    expect(await name()).toBe('');
  });

  it('has no presence families before the source delivers a graph', async () => {
    const { source, exporter, scrape } = manual();
    await exporter.start();
    source.sink!.tick({ rows: ROWS, readAt: source.clock });
    const s = await scrape();
    expect(of(s, 'ditto_presence_remote_peers')).toEqual([]);
    expect(of(s, 'ditto_sync_peer_info').map((x) => x.labels['device_name'])).toEqual(['', '']);
  });
});

describe('ditto_sync_peer_info label sets at 10,000 peers', () => {
  it('are built once: scrapes reuse them, and a tick with the same peers rebuilds none', async () => {
    const { source, exporter } = manual({ maxPeers: 10_000 });
    await exporter.start();
    const ids = Array.from({ length: 10_000 }, (_, i) => `pk${String(i).padStart(6, '0')}`);
    const graph = { localPeer: { peerKey: 'pkLocal', connections: [] }, remotePeers: ids.map((id, i) => ({ peerKey: id, deviceName: `device ${i}`, os: 'iOS', dittoSdkVersion: '5.1.0', connections: [] })) };
    source.sink!.presence(graph, source.clock);
    source.sink!.tick({ rows: ids.map((id) => row(id)), readAt: source.clock });
    const first = exporter.view().device.peerInfo;
    expect(first).toHaveLength(10_000);
    expect(exporter.view().device.peerInfo).toBe(first);
    source.sink!.tick({ rows: ids.map((id) => row(id, { status: 'Not Connected' })), readAt: source.clock + 1 });
    const second = exporter.view().device.peerInfo;
    expect(second).not.toBe(first);
    expect(second.every((labels, i) => labels === first[i])).toBe(true);
    // A changed description rebuilds that peer's set only.
    source.sink!.presence({ ...graph, remotePeers: graph.remotePeers.map((p, i) => (i === 7 ? { ...p, deviceName: 'renamed' } : p)) }, source.clock + 1);
    const third = exporter.view().device.peerInfo;
    expect(third.filter((labels, i) => labels !== second[i])).toHaveLength(1);
    expect(third[7]!.pairs['device_name']).toBe('renamed');
  });
});

const STORAGE_ROWS = (at: number, store = 1000) => [
  { key: 'fs_usage_store', namespace: 'core', timestamp: at, value: store },
  { key: 'fs_usage_attachment', namespace: 'core', timestamp: at, value: 200 },
  { key: 'fs_usage_replication', namespace: 'core', timestamp: at, value: 30 },
  { key: 'fs_usage_auth', namespace: 'core', timestamp: at, value: 4 },
  { key: 'fs_usage_total', namespace: 'core', timestamp: at, value: store + 1234 },
  { key: 'fs_device_available', namespace: 'core', timestamp: at, value: 5_000 },
  { key: 'fs_device_total', namespace: 'core', timestamp: at, value: 50_000 },
];

describe('storage at scrape time', () => {
  it('serves the latest figures, with when Ditto measured them', async () => {
    let calls = 0;
    const { source, exporter, scrape } = manual({ storage: async () => (calls++, { rows: STORAGE_ROWS(source.clock - 1), readAt: source.clock }) });
    await exporter.start();
    source.sink!.tick({ rows: ROWS, readAt: source.clock });
    const s = await scrape();
    expect(Object.fromEntries(of(s, 'ditto_store_size_bytes').map((x) => [x.labels['component'], x.value]))).toEqual({ store: 1000, attachments: 200, replication: 30, auth: 4, total: 2234 });
    expect(value(s, 'ditto_device_filesystem_avail_bytes')).toBe(5_000);
    expect(value(s, 'ditto_device_filesystem_size_bytes')).toBe(50_000);
    expect(value(s, 'ditto_device_storage_timestamp_seconds')).toBe(source.clock - 1);
    expect([value(s, 'ditto_device_storage_up'), value(s, 'ditto_device_storage_read_errors_total'), value(s, 'ditto_device_storage_values_unusable')]).toEqual([1, 0, 0]);
    expect(calls).toBe(1);
  });

  it('re-reads only when the reading is older than maxSnapshotAge, and concurrent scrapes share one read', async () => {
    let calls = 0;
    let release: () => void = () => {};
    const { source, exporter } = manual({
      maxSnapshotAge: 5,
      storage: async () => {
        calls++;
        const readAt = source.clock;
        await new Promise<void>((resolve) => (release = resolve));
        return { rows: STORAGE_ROWS(readAt - 1), readAt };
      },
    });
    await exporter.start();
    source.sink!.tick({ rows: ROWS, readAt: source.clock });
    const scrapes = [exporter.scrape('prometheus'), exporter.scrape('prometheus'), exporter.scrape('prometheus')];
    await waitFor(() => (calls === 1 ? true : undefined));
    release();
    await Promise.all(scrapes);
    expect(calls).toBe(1);
    source.clock += 5;
    source.sink!.tick({ rows: ROWS, readAt: source.clock });
    await exporter.scrape('prometheus');
    expect(calls).toBe(1);
    source.clock += 1;
    source.sink!.tick({ rows: ROWS, readAt: source.clock });
    const next = exporter.scrape('prometheus');
    await waitFor(() => (calls === 2 ? true : undefined));
    release();
    await next;
  });

  it('a failed read fails no scrape and leaves no old figure served as current; the next good read brings them back', async () => {
    let fail = false;
    const { source, exporter, scrape } = manual({
      maxSnapshotAge: 1,
      storage: async () => {
        if (fail) throw new Error('store closed');
        return { rows: STORAGE_ROWS(source.clock), readAt: source.clock };
      },
    });
    await exporter.start();
    source.sink!.tick({ rows: ROWS, readAt: source.clock });
    expect(value(await scrape(), 'ditto_store_size_bytes', { component: 'store' })).toBe(1000);
    fail = true;
    source.clock += 2;
    source.sink!.tick({ rows: ROWS, readAt: source.clock });
    const failed = await scrape();
    expect(value(failed, 'ditto_sync_up')).toBe(1);
    expect(value(failed, 'ditto_device_storage_up')).toBe(0);
    expect(value(failed, 'ditto_device_storage_read_errors_total')).toBe(1);
    for (const name of ['ditto_store_size_bytes', 'ditto_device_filesystem_avail_bytes', 'ditto_device_filesystem_size_bytes', 'ditto_device_storage_timestamp_seconds']) {
      expect(of(failed, name), name).toEqual([]);
    }
    fail = false;
    const back = await scrape();
    expect(value(back, 'ditto_device_storage_up')).toBe(1);
    expect(value(back, 'ditto_store_size_bytes', { component: 'store' })).toBe(1000);
  });

  it('a read that outlasts refreshTimeout does not hold the scrape: storage is reported failing', async () => {
    const { source, exporter, scrape } = manual({ refreshTimeout: 0.1, storage: () => new Promise(() => {}) });
    await exporter.start();
    source.sink!.tick({ rows: ROWS, readAt: source.clock });
    const s = await scrape();
    expect(value(s, 'ditto_device_storage_up')).toBe(0);
    expect(value(s, 'ditto_device_storage_read_errors_total')).toBe(1);
    expect(of(s, 'ditto_store_size_bytes')).toEqual([]);
    // The sync part is unaffected.
    expect(value(s, 'ditto_sync_up')).toBe(1);
    expect(exporter.readiness().ready).toBe(true);
  });

  it('serves no storage while the source is closed', async () => {
    const { source, exporter, scrape } = manual({ storage: async () => ({ rows: STORAGE_ROWS(source.clock), readAt: source.clock }) });
    await exporter.start();
    source.sink!.tick({ rows: ROWS, readAt: source.clock });
    await scrape();
    source.open = false;
    const s = await scrape();
    expect(value(s, 'ditto_device_storage_up')).toBe(0);
    expect(of(s, 'ditto_store_size_bytes')).toEqual([]);
  });

  it('has no storage families at all for a source without storage (replay)', async () => {
    const { samples } = await replay(1);
    expect(samples.filter((s) => /^ditto_(store|device)_/.test(s.name))).toEqual([]);
  });
});

describe('the simulated mesh (simulated data)', () => {
  it('reports connections from both ends and keeps cloud servers out of the graph; each is counted once', () => {
    const mesh = new MeshSimulator({ ...DEFAULT_MESH, devices: 7, cloudServers: 2, churn: 0 });
    const step = mesh.step(1_700_000_000);
    const g = step.presence;
    const cloudIds = step.rows.filter((r) => r.is_ditto_server).map((r) => r._id);
    const keys = g.remotePeers.map((p) => p.peerKey);
    expect(cloudIds).toHaveLength(2);
    for (const id of cloudIds) expect(keys).not.toContain(id);
    // Every direct connection is listed by the local peer and by the remote end.
    for (const c of g.localPeer.connections) {
      const remote = g.remotePeers.find((p) => p.peerKey === (c.peer1 === g.localPeer.peerKey ? c.peer2 : c.peer1))!;
      expect(remote.connections.map((x) => x.id)).toContain(c.id);
    }
    const connected = step.rows.filter((r) => !r.is_ditto_server && r.documents.sync_session_status === 'Connected').length;
    const result = buildPresence(g, 1_700_000_000);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.values(result.snapshot.connections).reduce((a, b) => a + b, 0)).toBe(connected);
    // Five devices connected over the five transports in turn, two pinned ones unconnected, two relays over hops.
    expect(result.snapshot.connections).toEqual({ bluetooth: 1, access_point: 1, p2p_wifi: 1, web_socket: 1, multicast: 1, other: 0 });
    expect(result.snapshot.remotePeers).toBe(7 + 2);
  });

  it('gives names through the exporter, empty labels for the cloud server, and storage figures', async () => {
    const source = new SimulateSource({ mesh: DEFAULT_MESH, tickMs: 20 });
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false });
    exporters.push(exporter);
    await exporter.start();
    await waitFor(() => (exporter.view().sync!.ticks >= 2 ? true : undefined));
    const samples = parseSamples((await exporter.scrape('prometheus')).body);
    const info = of(samples, 'ditto_sync_peer_info');
    expect(info).toHaveLength(DEFAULT_MESH.devices + DEFAULT_MESH.cloudServers);
    for (const s of info) {
      if (s.labels['peer_type'] === 'cloud') expect(s.labels['device_name']).toBe('');
      else expect(s.labels['device_name']).not.toBe('');
    }
    expect(value(samples, 'ditto_device_storage_up')).toBe(1);
    expect(value(samples, 'ditto_device_filesystem_size_bytes')).toBe(64 * 1024 ** 3);
    expect(of(samples, 'ditto_store_size_bytes')).toHaveLength(5);
    expect(value(samples, 'ditto_sync_observer_errors_total')).toBe(0);
    if (haveBinary('promtool')) {
      const result = run('promtool', ['check', 'metrics'], (await exporter.scrape('prometheus')).body);
      expect(result.stderr + result.stdout).toBe('');
    }
  });
});
