import { performance } from 'node:perf_hooks';
import { renderFamilies } from '../src/exposition/render.js';
import { benchExporter, type BenchBackend, type BenchExporter } from './exporters.js';
import { createMesh, renderTick, type FixtureTick } from './fixtures.js';
import { PromClientFloor } from './floor.js';
import { forceGc } from './gc.js';
import { Samples, type Summary } from './stats.js';
import { compareLines, compareSamples, type Comparison } from './verify.js';

export interface BackendCost {
  /** rows → state.ingest (validation, snapshot, commit acks). */
  readonly tick: Summary;
  /** state → complete /metrics body (our families + the registry's process metrics). */
  readonly scrape: Summary;
  /** tick + scrape, medians. */
  readonly totalMedian: number;
  readonly ratioToFloor: number;
  readonly bodyBytes: number;
  /** Per-peer samples against the floor's. */
  readonly check: Comparison;
}

export interface CostResult {
  readonly peers: number;
  readonly runs: number;
  readonly warmup: number;
  readonly floor: Summary;
  readonly floorBytes: number;
  readonly backends: Record<string, BackendCost>;
  /** Of the prom-client scrape, the ditto_sync_* families alone (the rest is prom-client's process metrics). */
  readonly ownFamilies: Summary;
  /** SyncState.view(), for information. */
  readonly view: Summary;
  /** registry.metrics() through the prom-client bridge, for information. */
  readonly bridge: Summary;
}

/** One thing being timed: `run` does a measured step on a fresh tick and records its samples. */
interface Contender {
  ticks: number;
  run(tick: FixtureTick, record: boolean): Promise<void>;
}

const elapsed = (start: number) => performance.now() - start;

/**
 * One peer count. Each contender (every backend, the floor, the informational ones) runs in blocks of runs,
 * taking turns until all have their share: machine noise spreads over all of them, and a collection
 * between blocks means each pays for its own garbage, not the one before it.
 */
export async function measureCosts(peers: number, backends: readonly BenchBackend[], runs: number, warmup: number): Promise<CostResult> {
  const mesh = createMesh(peers);
  const exporters = await Promise.all(backends.map((b) => benchExporter(b, peers)));
  const floor = new PromClientFloor();
  const tickSamples = backends.map(() => new Samples());
  const scrapeSamples = backends.map(() => new Samples());
  const floorSamples = new Samples();
  const viewSamples = new Samples();
  const ownSamples = new Samples();
  const bridgeSamples = new Samples();

  const contenders: Contender[] = exporters.map(({ exporter, source }, b) => ({
    ticks: 0,
    async run(tick, record) {
      let start = performance.now();
      source.deliver(tick);
      if (record) tickSamples[b]!.add(elapsed(start));
      start = performance.now();
      await exporter.backend.render('prometheus');
      if (record) scrapeSamples[b]!.add(elapsed(start));
    },
  }));
  contenders.push({
    ticks: 0,
    async run(tick, record) {
      const start = performance.now();
      await floor.scrape(tick.rows, tick.localCommitId, tick.readAt + 0.25);
      if (record) floorSamples.add(elapsed(start));
    },
  });
  // For information, each on an exporter of its own: the view, our families alone, and a user's
  // own registry.metrics() with the exporter's families bridged into it.
  const apart = await benchExporter({ name: 'prom-client' }, peers);
  contenders.push({
    ticks: 0,
    async run(tick, record) {
      apart.source.deliver(tick);
      let start = performance.now();
      const view = apart.exporter.view();
      if (record) viewSamples.add(elapsed(start));
      start = performance.now();
      await renderFamilies(view, 'prometheus');
      if (record) ownSamples.add(elapsed(start));
    },
  });
  const bridged = await benchExporter({ name: 'prom-client' }, peers);
  contenders.push({
    ticks: 0,
    async run(tick, record) {
      bridged.source.deliver(tick);
      const start = performance.now();
      await bridged.exporter.registry.metrics();
      if (record) bridgeSamples.add(elapsed(start));
    },
  });

  const block = Math.max(5, Math.ceil(runs / 10));
  const total = warmup + runs;
  while (contenders.some((c) => c.ticks < total)) {
    for (const c of contenders) {
      forceGc();
      for (let i = 0; i < block && c.ticks < total; i++) {
        // A fresh tick each run, rendered outside the timings: new row objects, time moving on.
        const tick = renderTick(mesh, c.ticks);
        await c.run(tick, c.ticks >= warmup);
        c.ticks++;
      }
    }
  }

  const floorSummary = floorSamples.summary();
  const last = renderTick(mesh, total + 1);
  const floorBody = await floor.scrape(last.rows, last.localCommitId, last.readAt + 0.25);
  const result: Record<string, BackendCost> = {};
  for (let b = 0; b < exporters.length; b++) {
    const body = await bodyAfter(exporters[b]!, last);
    const tick = tickSamples[b]!.summary();
    const scrape = scrapeSamples[b]!.summary();
    const totalMedian = tick.median + scrape.median;
    result[backends[b]!.name] = {
      tick,
      scrape,
      totalMedian,
      ratioToFloor: totalMedian / floorSummary.median,
      bodyBytes: Buffer.byteLength(body),
      // The direct writer must match prom-client's own text line for line; others by meaning.
      check: backends[b]!.name === 'prom-client' ? compareLines(body, floorBody) : compareSamples(body, floorBody),
    };
  }
  for (const { exporter } of [...exporters, apart, bridged]) await exporter.close();
  return {
    peers,
    runs,
    warmup,
    floor: floorSummary,
    floorBytes: Buffer.byteLength(floorBody),
    backends: result,
    ownFamilies: ownSamples.summary(),
    view: viewSamples.summary(),
    bridge: bridgeSamples.summary(),
  };
}

/** The body a scrape returns right after `tick`, for the correctness checks. */
async function bodyAfter({ exporter, source }: BenchExporter, tick: FixtureTick): Promise<string> {
  source.deliver(tick);
  // Every tick of the run must have been applied; ingest counts a failure instead of throwing.
  const errors = exporter.view().sync!.errors;
  if (errors !== 0) throw new Error(`the exporter failed ${errors} fixture ticks`);
  return (await exporter.backend.render('prometheus')).body;
}

