import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SyncExporter } from '../src/exporter.js';
import { renderFamilies } from '../src/exposition/render.js';
import { parseReplayLine } from '../src/sources/replay-line.js';
import { RecordingSource } from '../src/sources/recorder.js';
import { SimulateSource } from '../src/sources/simulate.js';
import { DEFAULT_MESH } from '../src/sources/mesh-simulator.js';
import { sampleMap } from './helpers/exposition.js';
import { ManualSource, row } from './helpers/fake-source.js';
import { waitFor } from './helpers/net.js';
import { replayed } from './helpers/replay-exporter.js';

/** Series that depend only on the applied ticks, not on when the scrape happens. */
const tickOnly = (text: string) =>
  new Map(
    [...sampleMap(text)].filter(
      ([k]) => /^ditto_(sync|presence)_/.test(k) && !/seconds_since|snapshot_age|oldest_unacked|_up\{|replay_lines|build_info|exporter_info/.test(k),
    ),
  );

describe('--record', () => {
  it('writes ticks that replay to the same metrics as the live run', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'record-')), 'session.jsonl');
    const live = new RecordingSource(new SimulateSource({ mesh: { ...DEFAULT_MESH, devices: 6, writeRate: 40, churn: 0.2, outageAfter: 0.2, outageDuration: 0.3 }, tickMs: 20 }), file);
    const exporter = new SyncExporter(live, { collectDefaultMetrics: false });
    await exporter.start();
    await waitFor(() => (exporter.view().sync!.ticks >= 30 ? true : undefined));
    await live.close();
    // Closed, the live exporter serves no snapshot as current: render what it held when the source stopped.
    const held = exporter.state.view(true);
    const liveBody = await renderFamilies({ ...exporter.view(), sync: held, device: exporter.device.view(held) }, 'prometheus');
    await exporter.close();

    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.length).toBe(exporter.view().sync!.ticks);
    expect(lines.every((l) => parseReplayLine(l).ok === true)).toBe(true);
    const replay = await replayed(file);
    const replayBody = (await replay.backend.render('prometheus')).body;
    await replay.close();
    const expected = tickOnly(liveBody);
    expect(expected.size).toBeGreaterThan(40);
    // The presence graph was recorded and replayed too: names and connections come back.
    expect([...expected.keys()].filter((k) => k.startsWith('ditto_presence_connections')).length).toBe(6);
    expect([...expected.keys()].some((k) => k.startsWith('ditto_sync_peer_info') && k.includes('device_name="Alice\'s iPad"'))).toBe(true);
    expect(lines.some((l) => 'presence' in JSON.parse(l))).toBe(true);
    expect(tickOnly(replayBody)).toEqual(expected);
  });

  it('keeps commits tracked between ticks with their own time, and ids past 2^53 exact', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'record-')), 'session.jsonl');
    const inner = new ManualSource();
    const source = new RecordingSource(inner, file);
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false });
    await exporter.start();
    const big = 2n ** 64n + 3n;
    inner.sink!.trackCommit(big, inner.clock - 4);
    inner.sink!.tick({ rows: [row('c', { cloud: true, synced: big - 1n })], readAt: inner.clock });
    await source.close();
    await exporter.close();
    const line = JSON.parse(readFileSync(file, 'utf8').trim());
    expect(line).toEqual({
      t: inner.clock,
      rows: [row('c', { cloud: true, synced: (big - 1n).toString() })],
      commits: [{ id: big.toString(), at: inner.clock - 4 }],
    });
    const replay = await replayed(file);
    const body = (await replay.backend.render('prometheus')).body;
    await replay.close();
    expect(body).toContain(`ditto_sync_local_commit_id ${big}\n`);
    expect(body).toContain('ditto_sync_cloud_oldest_unacked_commit_age_seconds 4\n');
  });
});
