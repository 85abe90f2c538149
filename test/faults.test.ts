import { mkdtempSync, openSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SyncExporter } from '../src/exporter.js';
import { renderFamilies } from '../src/exposition/render.js';
import { parseReplayLine } from '../src/sources/replay-line.js';
import { checkExposition } from './helpers/exposition-check.js';
import { sampleMap, valueOf } from './helpers/exposition.js';
import { ManualSource, row } from './helpers/fake-source.js';
import { replayed } from './helpers/replay-exporter.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'faults-'));

function manualExporter(options: ConstructorParameters<typeof SyncExporter>[1] = {}) {
  const source = new ManualSource();
  const exporter = new SyncExporter(source, { collectDefaultMetrics: false, ...options });
  return { source, exporter };
}

describe('hostile replay files', () => {
  it('skips a 50 MB line without holding it, and applies the lines around it', async () => {
    const file = join(tmp(), 'big.jsonl');
    const fd = openSync(file, 'w');
    writeSync(fd, `${JSON.stringify({ t: 100, rows: [row('a', { synced: 1 })] })}\n`);
    const mb = Buffer.alloc(1024 * 1024, 'x');
    writeSync(fd, '{"t": 101, "rows": ["');
    for (let i = 0; i < 50; i++) writeSync(fd, mb);
    writeSync(fd, '"]}\n');
    writeSync(fd, `${JSON.stringify({ t: 102, rows: [row('b', { synced: 2 })] })}\n`);
    closeSync(fd);

    const before = process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed;
    const exporter = await replayed(file, { maxPeers: 10 });
    const grown = process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed - before;
    const body = (await exporter.backend.render('prometheus')).body;
    await exporter.close();
    expect(valueOf(body, 'ditto_sync_replay_lines_skipped_total', { reason: 'line_too_long' })).toBe(1);
    expect(valueOf(body, 'ditto_sync_observer_ticks_total')).toBe(2);
    expect(valueOf(body, 'ditto_sync_peer_synced_commit_id', { peer_id: 'b', peer_type: 'device' })).toBe(2);
    // The 16 MiB line limit bounds what is held; 50 MB never sits in memory at once.
    expect(grown).toBeLessThan(40 * 1024 * 1024);
  });

  it('treats a file cut mid-line as one bad last line', async () => {
    const file = join(tmp(), 'cut.jsonl');
    writeFileSync(file, `${JSON.stringify({ t: 100, rows: [] })}\n{"t": 101, "rows": [{"_id": "a", "is_ditto`);
    const exporter = await replayed(file);
    const body = (await exporter.backend.render('prometheus')).body;
    await exporter.close();
    expect(valueOf(body, 'ditto_sync_observer_ticks_total')).toBe(1);
    expect(valueOf(body, 'ditto_sync_replay_lines_skipped_total', { reason: 'invalid_json' })).toBe(1);
    expect(exporter.source.finished).toBe(true);
  });
});

describe('hostile ticks', () => {
  it('bounds per-peer series on a 100,000-row tick and keeps the aggregates right', async () => {
    const { source, exporter } = manualExporter();
    await exporter.start();
    exporter.trackCommit(100_000, source.clock);
    const rows = [row('cloud-1', { cloud: true, synced: 5 }), row('cloud-2', { cloud: true, status: 'Not Connected', synced: 7 })];
    for (let i = 0; i < 100_000; i++) rows.push(row(`device-${i}`, { status: i % 3 === 0 ? 'Not Connected' : 'Connected', synced: i, lastUpdate: source.clock - (i % 60) }));
    source.sink!.tick({ rows, readAt: source.clock });
    const body = (await exporter.backend.render('prometheus')).body;
    const samples = sampleMap(body);
    const detailed = new Set([...samples.values()].filter((s) => s.name === 'ditto_sync_peer_status').map((s) => s.labels['peer_id']));
    expect(detailed.size).toBe(1000);
    // Cloud servers first, then connected devices in id order (device-1, device-10, device-100, …).
    expect(detailed.has('cloud-1') && detailed.has('cloud-2') && detailed.has('device-1') && !detailed.has('device-0')).toBe(true);
    expect(valueOf(body, 'ditto_sync_peers_omitted')).toBe(100_002 - 1000);
    expect(valueOf(body, 'ditto_sync_peers', { peer_type: 'device', status: 'not_connected' })).toBe(33_334);
    expect(valueOf(body, 'ditto_sync_connected_peers')).toBe(66_666 + 1);
    // max(tracked 100,000, rows 99,999) − the cloud's 7.
    expect(valueOf(body, 'ditto_sync_cloud_commit_lag')).toBe(100_000 - 7);
    expect(checkExposition(body)).toEqual([]);
    await exporter.close();
  });

  it('keeps commit ids beyond 2^53 exact and their small differences precise', async () => {
    const { source, exporter } = manualExporter();
    await exporter.start();
    const big = 2n ** 64n - 10n;
    exporter.trackCommit(big + 5n, source.clock);
    source.sink!.tick({ rows: [row('cloud', { cloud: true, synced: big }), row('dev', { synced: (big - 1n).toString() })], readAt: source.clock });
    const body = (await exporter.backend.render('prometheus')).body;
    expect(body).toContain(`ditto_sync_local_commit_id ${big + 5n}\n`);
    expect(body).toContain(`ditto_sync_peer_synced_commit_id{peer_id="cloud",peer_type="cloud"} ${big}\n`);
    expect(valueOf(body, 'ditto_sync_cloud_commit_lag')).toBe(5);
    expect(valueOf(body, 'ditto_sync_peer_commit_lag', { peer_id: 'dev', peer_type: 'device' })).toBe(6);
    await exporter.close();
  });

  it('counts a malformed tick as an error and an unusable tracked commit as such, and keeps the last good snapshot', async () => {
    const { source, exporter } = manualExporter();
    await exporter.start();
    source.sink!.tick({ rows: [row('a', { synced: 1 })], readAt: source.clock });
    source.sink!.tick({ rows: 'nope' as unknown as unknown[], readAt: source.clock });
    source.sink!.tick({ rows: [], readAt: Number.NaN });
    exporter.trackCommit('not-a-number');
    exporter.trackCommit(-4);
    exporter.trackCommit(5, -1e300);
    exporter.trackCommit(6, source.clock + 3 * 86_400);
    const body = (await exporter.backend.render('prometheus')).body;
    expect(valueOf(body, 'ditto_sync_observer_errors_total')).toBe(2);
    expect(valueOf(body, 'ditto_sync_commits_unusable_total')).toBe(4);
    expect(valueOf(body, 'ditto_sync_tracked_commits_total')).toBe(0);
    // Nothing usable was tracked: the ack histogram's sum is not pushed anywhere by a wild time.
    expect(valueOf(body, 'ditto_sync_commit_cloud_ack_seconds_sum')).toBe(0);
    expect(valueOf(body, 'ditto_sync_observer_ticks_total')).toBe(1);
    expect(valueOf(body, 'ditto_sync_peer_synced_commit_id', { peer_id: 'a', peer_type: 'device' })).toBe(1);
    expect(valueOf(body, 'ditto_sync_up')).toBe(1);
    await exporter.close();
  });

  it('refreshes a stale snapshot once for concurrent scrapes, and marks a failing refresh down', async () => {
    const { source, exporter } = manualExporter({ maxSnapshotAge: 5 });
    let reads = 0;
    let fail = false;
    source.refresh = async () => {
      reads++;
      await new Promise((r) => setTimeout(r, 20));
      if (fail) throw new Error('store closed');
      return { rows: [row('a')], readAt: source.clock };
    };
    await exporter.start();
    source.sink!.tick({ rows: [], readAt: source.clock });
    await exporter.ensureFresh();
    expect(reads).toBe(0);
    source.clock += 10;
    await Promise.all([exporter.ensureFresh(), exporter.ensureFresh(), exporter.ensureFresh()]);
    expect(reads).toBe(1);
    let body = (await exporter.backend.render('prometheus')).body;
    expect(valueOf(body, 'ditto_sync_snapshot_refreshes_total')).toBe(1);
    expect(valueOf(body, 'ditto_sync_connected_peers')).toBe(1);
    source.clock += 10;
    fail = true;
    await exporter.ensureFresh();
    body = (await exporter.backend.render('prometheus')).body;
    expect(valueOf(body, 'ditto_sync_up')).toBe(0);
    expect(valueOf(body, 'ditto_sync_observer_errors_total')).toBe(1);
    expect(exporter.readiness().ready).toBe(false);
    await exporter.close();
  });
});

describe('a refresh that never returns', () => {
  it('does not hang the scrape: it counts an error and stops serving the frozen snapshot as current', async () => {
    const { source, exporter } = manualExporter({ maxSnapshotAge: 5, refreshTimeout: 0.2 });
    let reads = 0;
    source.refresh = () => {
      reads++;
      return new Promise(() => {});
    };
    await exporter.start();
    source.sink!.tick({ rows: [row('a', { synced: 1 })], readAt: source.clock });
    source.clock += 10;
    await Promise.all([exporter.ensureFresh(), exporter.ensureFresh()]);
    await exporter.ensureFresh();
    expect(reads).toBe(1);
    const body = (await exporter.backend.render('prometheus')).body;
    expect(valueOf(body, 'ditto_sync_observer_errors_total')).toBe(3);
    expect(valueOf(body, 'ditto_sync_snapshot_age_seconds')).toBe(10);
    expect(valueOf(body, 'ditto_sync_up')).toBe(0);
    expect(valueOf(body, 'ditto_sync_peer_synced_commit_id', { peer_id: 'a', peer_type: 'device' })).toBeUndefined();
    expect(valueOf(body, 'ditto_sync_peers', { peer_type: 'device', status: 'connected' })).toBeUndefined();
    // The next good snapshot is served again.
    source.sink!.tick({ rows: [row('a', { synced: 2 })], readAt: source.clock });
    const after = (await exporter.backend.render('prometheus')).body;
    expect(valueOf(after, 'ditto_sync_up')).toBe(1);
    expect(valueOf(after, 'ditto_sync_peer_synced_commit_id', { peer_id: 'a', peer_type: 'device' })).toBe(2);
    await exporter.close();
  });
});

describe('fuzzing the replay line parser through to the exposition', () => {
  const rowArb = fc.record(
    {
      _id: fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.constant(null)),
      is_ditto_server: fc.oneof(fc.boolean(), fc.string({ maxLength: 3 })),
      documents: fc.oneof(
        fc.record(
          {
            sync_session_status: fc.oneof(fc.constantFrom('Connected', 'Not Connected', 'Disabled'), fc.string({ maxLength: 8 })),
            synced_up_to_local_commit_id: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.bigInt({ min: 0n, max: 2n ** 70n }).map(String), fc.constant(null)),
            last_update_received_time: fc.oneof(fc.integer({ min: -10, max: 2_000_000_000_000 }), fc.double(), fc.constant(null)),
          },
          { requiredKeys: [] },
        ),
        fc.anything(),
      ),
    },
    { requiredKeys: [] },
  );
  const lineArb = fc.oneof(
    fc.string(),
    fc.json(),
    fc
      .record({ t: fc.oneof(fc.integer({ min: 1, max: 2_000_000_000 }), fc.double(), fc.string()), rows: fc.array(rowArb, { maxLength: 6 }), commits: fc.option(fc.array(fc.oneof(fc.nat(), fc.string({ maxLength: 4 }), fc.double()), { maxLength: 4 }), { nil: undefined }) }, { requiredKeys: [] })
      .map((o) => JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))),
  );

  it('never throws, and whatever it accepts renders as valid exposition without NaN or negatives', async () => {
    const { source, exporter } = manualExporter();
    await exporter.start();
    const cases = fc.sample(fc.array(lineArb, { minLength: 1, maxLength: 4 }), { numRuns: 10_000, seed: 42 });
    let applied = 0;
    for (const lines of cases) {
      for (const line of lines) {
        const result = parseReplayLine(line);
        if (result.ok === true) {
          source.clock = Math.max(source.clock, result.tick.readAt);
          source.sink!.tick(result.tick);
          applied++;
        } else if (result.ok === false) expect(['invalid_json', 'bad_shape']).toContain(result.reason);
      }
      const problems = checkExposition(await renderFamilies(exporter.view(), 'prometheus'));
      expect(problems, JSON.stringify(lines)).toEqual([]);
    }
    expect(applied).toBeGreaterThan(1000);
    await exporter.close();
  });
});
