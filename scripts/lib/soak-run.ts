/**
 * The soak: a SyncExporter fed a churning 1,000-peer mesh tick after tick on a synthetic clock,
 * scraped every few ticks, with heap (after forced GC) and active handles compared between the end
 * of the warm-up and the end of the run. Used by scripts/soak.ts and, in a short form, by the tests.
 */
import type { ExpositionFormat } from '../../src/exposition/format.js';
import { SyncExporter } from '../../src/exporter.js';

import { ChurnMesh, DEFAULT_CHURN, type ChurnOptions } from './churn-mesh.js';
import { deepCheck, lastFamily, quickCheck } from './exposition-check.js';
import { activeResources, formatResources, heapAfterGc, mb, resourceGrowth } from './process-probe.js';
import { SoakSource } from './soak-source.js';

export interface SoakOptions {
  /** Observer ticks delivered, warm-up included. */
  readonly ticks: number;
  /** Ticks before the baseline heap and handle counts are taken. */
  readonly warmupTicks: number;
  /** A scrape (full /metrics body) every this many ticks: 30 ticks = Prometheus' 15 s default. */
  readonly scrapeEvery: number;
  /** Every this many scrapes, the body is fully parsed rather than only checked for completeness. */
  readonly deepCheckEvery: number;
  /** The observer falls silent long enough for a scrape to re-read the source, every this many ticks. */
  readonly stallEvery: number;
  /** Heap after GC and a progress line every this many ticks. */
  readonly checkpointEvery: number;
  /** Allowed heap growth from the warm-up baseline to the end, as a fraction (0.15 = 15 %). */
  readonly heapTolerance: number;
  /**
   * Allowed heap trend over the second half, bytes per 100,000 ticks: the leak check proper.
   * Applied when that half has at least three checkpoints (the full soak has six).
   */
  readonly heapTrendLimit: number;
  readonly maxTrackedCommits: number;
  readonly churn: ChurnOptions;
}

export const FULL_SOAK: SoakOptions = Object.freeze({
  ticks: 1_000_000,
  warmupTicks: 50_000,
  scrapeEvery: 30,
  deepCheckEvery: 100,
  stallEvery: 50_000,
  checkpointEvery: 100_000,
  // Heap after GC settles about 0.7 MB (7 %) above the warm-up figure once, 50,000-100,000 ticks
  // after the warm-up whatever its length, and is flat afterwards (docs/load-soak.md, "The heap
  // figure"): the end-to-baseline bound is that step plus 8 points, and the trend bound is the
  // finer leak check.
  heapTolerance: 0.15,
  heapTrendLimit: 50 * 1024,
  maxTrackedCommits: 10_000,
  // 4,000-tick cloud outages leave 12,000 commits unacked: the tracking bound is soaked too.
  churn: { ...DEFAULT_CHURN, outageEvery: 20_000, outageTicks: 4_000 },
});

export interface SoakCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface SoakResult {
  readonly peers: number;
  readonly ticks: number;
  readonly seconds: number;
  readonly ticksPerSecond: number;
  readonly scrapes: number;
  readonly deepChecks: number;
  readonly heapWarm: number;
  readonly heapEnd: number;
  readonly heapGrowth: number;
  readonly heapCheckpoints: readonly { ticks: number; heap: number }[];
  /**
   * Least-squares slope of heap after GC over the second half of the run (and not before 150,000
   * ticks after the warm-up), bytes per 100,000 ticks; null with fewer than three checkpoints there.
   */
  readonly heapSlopePer100kTicks: number | null;
  readonly resourcesStart: Readonly<Record<string, number>>;
  readonly resourcesEnd: Readonly<Record<string, number>>;
  readonly totals: { appeared: number; vanished: number; flips: number; commits: number; badRows: number; refreshes: number; dropped: number };
  readonly checks: readonly SoakCheck[];
  readonly ok: boolean;
}

/** Scrapes land between ticks. */
const SCRAPE_OFFSET_SECONDS = 0.25;
/** Silent ticks in a stall: 7 s, longer than the exporter's default 5 s max snapshot age. */
const STALL_TICKS = 14;

export async function runSoak(options: SoakOptions, log: (line: string) => void = console.log): Promise<SoakResult> {
  validate(options);
  const mesh = new ChurnMesh(options.churn);
  const source = new SoakSource(mesh);
  const exporter = new SyncExporter(source, { maxTrackedCommits: options.maxTrackedCommits });
  await exporter.start();

  log(
    `soak: ${options.churn.peers} peers, ${options.ticks.toLocaleString('en')} ticks (warm-up ${options.warmupTicks.toLocaleString('en')}), ` +
      `scrape every ${options.scrapeEvery} ticks, stall every ${options.stallEvery.toLocaleString('en')}, heap tolerance ${pct(options.heapTolerance)}`,
  );

  const expectedLast: Partial<Record<ExpositionFormat, string>> = {};
  const bodyFailures: string[] = [];
  let scrapes = 0;
  let deepChecks = 0;
  let stalls = 0;
  let delivered = 0;

  const scrape = async (): Promise<void> => {
    const format: ExpositionFormat = scrapes % 2 === 0 ? 'prometheus' : 'openmetrics';
    const { body } = await exporter.scrape(format);
    scrapes++;
    const last = expectedLast[format];
    const quick = last === undefined ? undefined : quickCheck(body, format, last);
    if (quick) bodyFailures.push(`scrape ${scrapes} (${format}): ${quick}`);
    if (scrapes % options.deepCheckEvery === 0) {
      deepChecks++;
      for (const p of deepCheck(body, format)) bodyFailures.push(`scrape ${scrapes} (${format}): ${p}`);
    }
  };

  // Each tick's snapshot must report exactly the bad row the mesh put in it, and nothing else.
  const miscounted: string[] = [];
  let badRowsSeen = 0;
  const checkProblems = (): void => {
    const snapshot = exporter.state.snapshot;
    const bad = mesh.badInLastTick;
    if (!snapshot) return;
    const reported = [...snapshot.rowsUnusable, ...snapshot.fieldsUnusable].filter(([, n]) => n > 0);
    const expected = bad ? [[bad.kind, 1]] : [];
    if (JSON.stringify(reported) !== JSON.stringify(expected)) {
      if (miscounted.length < 5) miscounted.push(`tick ${delivered}: reported ${JSON.stringify(reported)}, injected ${JSON.stringify(expected)}`);
    } else if (bad) badRowsSeen++;
  };

  const runTicks = async (until: number): Promise<void> => {
    while (delivered < until) {
      source.deliver(mesh.next());
      delivered++;
      checkProblems();
      if (delivered % options.stallEvery === 0) {
        mesh.pause(STALL_TICKS);
        source.clock = mesh.time;
        stalls++;
        await scrape();
        // That scrape found the snapshot stale and re-read the mesh: a tick of its own.
        checkProblems();
      } else if (delivered % options.scrapeEvery === 0) {
        source.clock += SCRAPE_OFFSET_SECONDS;
        await scrape();
      }
    }
  };

  const started = performance.now();
  await runTicks(options.warmupTicks);
  // Reference bodies after a full GC, so the GC histogram (the last process family) has samples.
  await heapAfterGc();
  for (const format of ['prometheus', 'openmetrics'] as const) expectedLast[format] = await referenceLastFamily(exporter, format, bodyFailures);
  const heapWarm = await heapAfterGc();
  const resourcesStart = activeResources();
  const warmSeconds = (performance.now() - started) / 1000;
  log(
    `warm-up: ${options.warmupTicks.toLocaleString('en')} ticks in ${warmSeconds.toFixed(1)} s (${rate(options.warmupTicks, warmSeconds)} ticks/s); ` +
      `heap after GC ${mb(heapWarm)}; resources ${formatResources(resourcesStart)}`,
  );

  const heapCheckpoints: { ticks: number; heap: number }[] = [{ ticks: delivered, heap: heapWarm }];
  const measuredStart = performance.now();
  while (delivered < options.ticks) {
    const next = Math.min(options.ticks, (Math.floor(delivered / options.checkpointEvery) + 1) * options.checkpointEvery);
    await runTicks(next);
    const heap = await heapAfterGc();
    heapCheckpoints.push({ ticks: delivered, heap });
    const seconds = (performance.now() - measuredStart) / 1000;
    const perSecond = (delivered - options.warmupTicks) / seconds;
    const view = exporter.view();
    log(
      `${delivered.toLocaleString('en').padStart(10)} ticks  ${Math.round(perSecond)} ticks/s  heap ${mb(heap)} (${signedPct(heap / heapWarm - 1)})  ` +
        `peers ${mesh.size}  unacked ${view.sync!.unackedCommits}  dropped ${view.sync!.trackedCommitsDropped}  scrapes ${scrapes}  ` +
        `ETA ${duration((options.ticks - delivered) / perSecond)}`,
    );
  }
  const seconds = (performance.now() - started) / 1000;

  const heapEnd = heapCheckpoints[heapCheckpoints.length - 1]!.heap;
  const resourcesEnd = activeResources();
  const view = exporter.view();
  const snapshot = exporter.state.snapshot;
  const growth = heapEnd / heapWarm - 1;
  const trendFrom = Math.max(options.ticks / 2, options.warmupTicks + SETTLE_TICKS);
  const slope = heapSlope(heapCheckpoints.filter((c) => c.ticks >= trendFrom));
  const grewResources = resourceGrowth(resourcesStart, resourcesEnd);
  const badRows = [...mesh.totals.badRows.values()].reduce((a, b) => a + b, 0);
  const sync = view.sync!;
  // A bad row that is still a peer (one unusable field) is in the final snapshot's peers.
  const finalBadPeer = mesh.badInLastTick?.peer ? 1 : 0;

  const checks: SoakCheck[] = [
    {
      name: 'heap after GC within tolerance of the warm-up baseline',
      ok: growth <= options.heapTolerance,
      detail: `${mb(heapWarm)} → ${mb(heapEnd)} (${signedPct(growth)}, limit +${pct(options.heapTolerance)})`,
    },
    ...(slope === null
      ? []
      : [
          {
            name: 'heap trend over the second half within its limit',
            ok: slope <= options.heapTrendLimit,
            detail: `${kb(slope)} per 100,000 ticks (limit ${kb(options.heapTrendLimit)})`,
          },
        ]),
    {
      name: 'no growing handles or timers',
      ok: grewResources.length === 0,
      detail: grewResources.length ? `grew: ${grewResources.join(', ')}` : `${formatResources(resourcesStart)} → ${formatResources(resourcesEnd)}`,
    },
    {
      name: 'every scrape body complete',
      ok: bodyFailures.length === 0 && scrapes > 0 && deepChecks > 0,
      detail: bodyFailures.length ? bodyFailures.slice(0, 5).join('; ') : `${scrapes} scrapes, ${deepChecks} fully parsed`,
    },
    {
      name: 'every tick applied and every bad row counted',
      ok: sync.ticks === mesh.totals.ticks && sync.errors === 0 && miscounted.length === 0 && badRowsSeen === badRows && sync.refreshes === stalls && source.refreshes === stalls,
      detail:
        `ticks ${sync.ticks}/${mesh.totals.ticks}, errors ${sync.errors}, refreshes ${sync.refreshes}/${stalls}, ` +
        `bad rows ${badRowsSeen}/${badRows} reported in their tick${miscounted.length ? `; ${miscounted.join('; ')}` : ''}`,
    },
    {
      name: 'final snapshot holds the live mesh',
      ok: snapshot !== undefined && snapshot.peers.length + snapshot.omitted === mesh.size + finalBadPeer && sync.unackedCommits <= options.maxTrackedCommits,
      detail: `${snapshot?.peers.length ?? 0} peers + ${snapshot?.omitted ?? 0} omitted, mesh ${mesh.size}${finalBadPeer ? ' + 1 bad-field row' : ''}, unacked ${sync.unackedCommits}`,
    },
  ];
  await exporter.close();

  const ok = checks.every((c) => c.ok);
  log(`soak: ${delivered.toLocaleString('en')} ticks in ${duration(seconds)} (${rate(delivered, seconds)} ticks/s overall)`);
  log(`heap after GC: ${heapCheckpoints.map((c) => mb(c.heap).replace(' MB', '')).join(' → ')} MB; second-half trend ${slope === null ? 'n/a (too few checkpoints)' : `${kb(slope)} per 100,000 ticks`}`);
  log(`churn: ${mesh.totals.appeared} peers appeared, ${mesh.totals.vanished} vanished, ${mesh.totals.flips} status flips, ${mesh.totals.commits} commits, ${badRows} bad rows, ${stalls} stalls`);
  for (const c of checks) log(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
  log(`verdict: ${ok ? 'PASS' : 'FAIL'}`);

  return {
    peers: options.churn.peers,
    ticks: delivered,
    seconds,
    ticksPerSecond: delivered / seconds,
    scrapes,
    deepChecks,
    heapWarm,
    heapEnd,
    heapGrowth: growth,
    heapCheckpoints,
    heapSlopePer100kTicks: slope,
    resourcesStart: Object.fromEntries(resourcesStart),
    resourcesEnd: Object.fromEntries(resourcesEnd),
    totals: {
      appeared: mesh.totals.appeared,
      vanished: mesh.totals.vanished,
      flips: mesh.totals.flips,
      commits: mesh.totals.commits,
      badRows,
      refreshes: stalls,
      dropped: sync.trackedCommitsDropped,
    },
    checks,
    ok,
  };
}

/**
 * The family a whole body ends with. Rendered in its own frame: a body held in a suspended
 * caller's frame would stay reachable and be counted in the heap figures.
 */
async function referenceLastFamily(exporter: SyncExporter, format: ExpositionFormat, failures: string[]): Promise<string | undefined> {
  const { body } = await exporter.backend.render(format);
  for (const p of deepCheck(body, format)) failures.push(`reference ${format} body: ${p}`);
  return lastFamily(body);
}

function validate(o: SoakOptions): void {
  for (const key of ['ticks', 'warmupTicks', 'scrapeEvery', 'deepCheckEvery', 'stallEvery', 'checkpointEvery', 'maxTrackedCommits'] as const) {
    if (!Number.isInteger(o[key]) || o[key] <= 0) throw new RangeError(`soak ${key} must be a positive integer, got ${o[key]}`);
  }
  if (o.warmupTicks >= o.ticks) throw new RangeError(`soak warm-up (${o.warmupTicks}) must be shorter than the run (${o.ticks})`);
  if (!(o.heapTolerance > 0)) throw new RangeError(`soak heap tolerance must be above 0, got ${o.heapTolerance}`);
  if (!(o.heapTrendLimit > 0)) throw new RangeError(`soak heap trend limit must be above 0, got ${o.heapTrendLimit}`);
}

/** The heap's one-time settling ends within this many ticks after the warm-up (measured: 50,000-100,000). */
const SETTLE_TICKS = 150_000;

/** Bytes per 100,000 ticks; null with fewer than three points. */
function heapSlope(points: readonly { ticks: number; heap: number }[]): number | null {
  if (points.length < 3) return null;
  const meanT = points.reduce((a, p) => a + p.ticks, 0) / points.length;
  const meanH = points.reduce((a, p) => a + p.heap, 0) / points.length;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.ticks - meanT) * (p.heap - meanH);
    den += (p.ticks - meanT) ** 2;
  }
  return den === 0 ? null : (num / den) * 100_000;
}

const kb = (bytes: number) => `${bytes >= 0 ? '+' : ''}${(bytes / 1024).toFixed(1)} KB`;
const pct = (f: number) => `${(f * 100).toFixed(0)} %`;
const signedPct = (f: number) => `${f >= 0 ? '+' : ''}${(f * 100).toFixed(1)} %`;
const rate = (n: number, seconds: number) => Math.round(n / seconds).toLocaleString('en');

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
