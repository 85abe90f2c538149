/**
 * Short forms of `npm run load` and `npm run soak` (issue 6), plus the checks they rely on. The
 * full runs are scripts, not tests: 30 s of load and a million ticks do not belong in `npm test`.
 * No timing is asserted here; only errors, completeness, heap growth and handles.
 */
import { describe, expect, it } from 'vitest';
import { ROW_FIELDS, ROW_UNUSABLE_REASONS } from '../src/model.js';
import { SyncExporter } from '../src/exporter.js';
import { ChurnMesh, DEFAULT_CHURN } from '../scripts/lib/churn-mesh.js';
import { deepCheck, lastFamily, quickCheck } from '../scripts/lib/exposition-check.js';
import { FULL_LOAD, runLoad } from '../scripts/lib/load-run.js';
import { activeResources, resourceGrowth } from '../scripts/lib/process-probe.js';
import { SoakSource } from '../scripts/lib/soak-source.js';
import { FULL_SOAK, runSoak } from '../scripts/lib/soak-run.js';

const failed = (checks: readonly { ok: boolean; name: string; detail: string }[]) => checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);

describe('churn mesh', () => {
  it('keeps about the asked number of peers while peers vanish and appear, and injects every kind of bad row', () => {
    const mesh = new ChurnMesh({ ...DEFAULT_CHURN, peers: 200, vanishPerTick: 3, badRowEvery: 2 });
    const first = new Set((mesh.next().rows as { _id: string }[]).map((r) => r._id));
    let rows: readonly unknown[] = [];
    for (let k = 0; k < 100; k++) {
      rows = mesh.next().rows;
      expect(mesh.size).toBeGreaterThanOrEqual(180);
      expect(mesh.size).toBeLessThanOrEqual(200);
    }
    const ids = rows.map((r) => (r as { _id?: unknown } | null)?._id).filter((id): id is string => typeof id === 'string' && id.length === 40);
    expect(ids.filter((id) => !first.has(id)).length).toBeGreaterThan(50);
    expect(mesh.totals.vanished).toBeGreaterThan(100);
    // Every reason a row can be left out for, and every field but the status (unknown strings are usable).
    expect([...mesh.totals.badRows.keys()].sort()).toEqual([...ROW_UNUSABLE_REASONS, ...ROW_FIELDS.filter((f) => f !== 'sync_session_status')].sort());
  });
});

describe('body checks', () => {
  async function renderBodies() {
    const mesh = new ChurnMesh({ ...DEFAULT_CHURN, peers: 50 });
    const source = new SoakSource(mesh);
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false });
    await exporter.start();
    source.deliver(mesh.next());
    const prometheus = (await exporter.backend.render('prometheus')).body;
    const openmetrics = (await exporter.backend.render('openmetrics')).body;
    await exporter.close();
    return { prometheus, openmetrics };
  }

  it('accept a whole body in both formats', async () => {
    const bodies = await renderBodies();
    for (const format of ['prometheus', 'openmetrics'] as const) {
      const body = bodies[format];
      expect(deepCheck(body, format)).toEqual([]);
      expect(quickCheck(body, format, lastFamily(body)!)).toBeUndefined();
    }
  });

  it('reject a body cut short between lines, inside a line or before # EOF', async () => {
    const { prometheus, openmetrics } = await renderBodies();
    // Cut right after the first peer's first status line: every line is whole, the peers are not.
    const firstStatus = prometheus.indexOf('\nditto_sync_peer_status{') + 1;
    const cut = prometheus.slice(0, prometheus.indexOf('\n', firstStatus) + 1);
    expect(deepCheck(cut, 'prometheus').join('\n')).toMatch(/missing|status samples|aggregates say/);
    expect(quickCheck(cut, 'prometheus', lastFamily(prometheus)!)).toMatch(/last family/);
    expect(quickCheck(prometheus.slice(0, -5), 'prometheus', lastFamily(prometheus)!)).toMatch(/does not end/);
    const noEof = openmetrics.slice(0, -'# EOF\n'.length);
    expect(quickCheck(noEof, 'openmetrics', lastFamily(openmetrics)!)).toMatch(/does not end/);
    expect(deepCheck(noEof, 'openmetrics')).toContain('OpenMetrics body without # EOF');
  });

  it('reject NaN, negative values and duplicate series in the exporter families', async () => {
    const { prometheus } = await renderBodies();
    expect(deepCheck(prometheus.replace(/^ditto_sync_connected_peers .*$/m, 'ditto_sync_connected_peers NaN'), 'prometheus').join()).toMatch(/bad value NaN/);
    expect(deepCheck(prometheus.replace(/^ditto_sync_cloud_servers .*$/m, 'ditto_sync_cloud_servers -1'), 'prometheus').join()).toMatch(/bad value -1/);
    const upLine = /^ditto_sync_up .*$/m.exec(prometheus)![0];
    expect(deepCheck(prometheus.replace(`\n${upLine}\n`, `\n${upLine}\n${upLine}\n`), 'prometheus').join()).toMatch(/duplicate series/);
  });
});

describe('resource probe', () => {
  it('sees a timer left behind', () => {
    const before = activeResources();
    const timer = setTimeout(() => {}, 60_000);
    try {
      expect(resourceGrowth(before, activeResources())).toContainEqual(expect.stringMatching(/^Timeout \d+→\d+$/));
    } finally {
      clearTimeout(timer);
    }
    expect(resourceGrowth(before, activeResources())).toEqual([]);
  });
});

describe('load, short form of npm run load', () => {
  it('serves complete /metrics bodies at 1,000 peers to 16 connections for 3 s while ticks flow: no errors, no 5xx', async () => {
    const lines: string[] = [];
    const result = await runLoad({ ...FULL_LOAD, duration: 3, connections: 16, sampledBodies: 4 }, (line) => lines.push(line));
    expect(failed(result.checks), lines.join('\n')).toEqual([]);
    expect(result.requests).toBeGreaterThan(0);
    expect(result.errors).toBe(0);
    expect(result.status5xx).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(result.bodiesChecked).toBe(result.requests);
    expect(result.bodiesParsed).toBeGreaterThan(0);
    expect(result.ticksDuringLoad).toBeGreaterThan(0);
  });
});

describe('soak, short form of npm run soak', () => {
  it('keeps heap after GC and active handles flat over 16,000 churning ticks at 1,000 peers', async () => {
    const lines: string[] = [];
    const result = await runSoak(
      {
        ...FULL_SOAK,
        ticks: 16_000,
        warmupTicks: 6_000,
        deepCheckEvery: 50,
        stallEvery: 2_000,
        checkpointEvery: 10_000,
        // The full soak's bound. A clean short run grows about 3 % (the one-time ~0.5 MB V8 step
        // every run shows); a leak of ~150 bytes per tick or ~75 bytes per vanished peer crosses it.
        heapTolerance: 0.1,
        maxTrackedCommits: 2_000,
        churn: { ...FULL_SOAK.churn, vanishPerTick: 2, badRowEvery: 13, outageEvery: 4_000, outageTicks: 1_000 },
      },
      (line) => lines.push(line),
    );
    expect(failed(result.checks), lines.join('\n')).toEqual([]);
    expect(result.ticks).toBe(16_000);
    expect(result.heapGrowth).toBeLessThanOrEqual(0.1);
    expect(result.totals.vanished).toBeGreaterThan(20_000);
    expect(result.totals.appeared).toBeGreaterThan(20_000);
    expect(result.totals.badRows).toBeGreaterThan(1_000);
    expect(result.totals.refreshes).toBe(8);
    // 1,000-tick outages leave 3,000 commits against a bound of 2,000: the bound was exercised.
    expect(result.totals.dropped).toBeGreaterThan(0);
    // Sized by work (16,000 ticks on a synthetic clock), not by time: about 20 s on an idle 2-core
    // machine, so a busy one only makes it slower. The timeout allows for a machine ten times slower.
  }, 240_000);
});
