/**
 * Keeps `npm run bench` runnable: its fixture and one tick + scrape at 100 peers, checked for
 * content. No timings here; performance is measured by the bench itself.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { benchExporter, type BenchExporter } from '../bench/exporters.js';
import { cloudServerCount, createMesh, PEER_ID_LENGTH, renderTick } from '../bench/fixtures.js';
import { PromClientFloor } from '../bench/floor.js';
import { compareLines } from '../bench/verify.js';
import { sampleMap } from './helpers/exposition.js';

const PEERS = 100;

describe('bench fixtures', () => {
  it('build a mesh of cloud servers and devices as the SDK returns them, the same every time', () => {
    const tick = renderTick(createMesh(PEERS), 0);
    expect(tick.rows).toHaveLength(PEERS);
    expect(tick.rows.filter((r) => r.is_ditto_server)).toHaveLength(cloudServerCount(PEERS));
    expect(new Set(tick.rows.map((r) => r.documents.sync_session_status))).toEqual(new Set(['Connected', 'Not Connected', 'Disabled']));
    expect(new Set(tick.rows.map((r) => r._id)).size).toBe(PEERS);
    for (const r of tick.rows) expect(r._id).toMatch(new RegExp(`^[A-Za-z0-9]{${PEER_ID_LENGTH}}$`));
    expect(renderTick(createMesh(PEERS), 0)).toEqual(tick);
  });
});

describe('one bench tick and scrape at 100 peers', () => {
  let bench: BenchExporter | undefined;
  afterAll(() => bench?.exporter.close());

  it('gives a body that parses, with every peer, matching a plain prom-client registry line for line', async () => {
    bench = await benchExporter({ name: 'prom-client' }, PEERS);
    const tick = renderTick(createMesh(PEERS), 0);
    bench.source.deliver(tick);
    const { body } = await bench.exporter.backend.render('prometheus');

    const samples = sampleMap(body);
    const statuses = [...samples.values()].filter((s) => s.name === 'ditto_sync_peer_status');
    expect(statuses).toHaveLength(4 * PEERS);
    expect(new Set(statuses.map((s) => s.labels['peer_id'])).size).toBe(PEERS);
    expect(samples.get('ditto_sync_observer_ticks_total{}')?.value).toBe(1);
    expect(samples.get('ditto_sync_observer_errors_total{}')?.value).toBe(0);

    const floor = await new PromClientFloor().scrape(tick.rows, tick.localCommitId, bench.source.now());
    expect(compareLines(body, floor)).toEqual({ ok: true, samples: expect.any(Number) });
  });
});

describe('the bench fleet row', () => {
  it('reads a fleet from the emulator child in both modes and reports each figure', async () => {
    const { measureFleet } = await import('../bench/fleet.js');
    const { formatFleetTable } = await import('../bench/report.js');
    // No --expose-gc under vitest: the heap figures of this run mean nothing and are not checked.
    const noGc = async () => {};
    const full = await measureFleet(600, 'full', 2, 1, noGc);
    const aggregates = await measureFleet(600, 'aggregates', 2, 1, noGc);
    // 500 + 100, then the empty page that ends the read.
    expect(full).toMatchObject({ devices: 600, mode: 'full', pages: 3 });
    expect(aggregates).toMatchObject({ devices: 600, mode: 'aggregates' });
    // A series per device against only the aggregates: the bodies say which mode ran.
    expect(full.bodyBytes).toBeGreaterThan(600 * 500);
    expect(aggregates.bodyBytes).toBeLessThan(20_000);
    const table = formatFleetTable({ fleet: [full, aggregates] } as never);
    expect(table).toMatch(/a series per device \| +aggregates only/);
    expect(table).toMatch(/heap retained per device/);
  }, 60_000);
});
