import type { GetResult } from './get.js';
import { NOTICE_MS } from './blocks.js';
import type { CostResult } from './costs.js';
import type { EventLoopResult } from './event-loop.js';
import type { FleetResult } from './fleet.js';
import type { HeapResult } from './heap.js';
import type { HttpResult } from './http-load.js';

export interface BenchResults {
  readonly meta: Record<string, unknown>;
  readonly missingBackends: string[];
  readonly costs: CostResult[];
  readonly heap: Record<string, HeapResult[]>;
  readonly eventLoop: Record<string, EventLoopResult[]>;
  readonly http: Record<string, HttpResult>;
  /** GET /metrics over HTTP against the floor served by node:http, side by side. */
  readonly get: GetResult[];
  readonly fleet: FleetResult[];
  targets?: Target[];
}

export interface Target {
  readonly name: string;
  readonly limit: string;
  readonly value: string;
  readonly met: boolean;
}

const ms = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : v < 1 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(0));
const pair = (a: number | undefined, b: number | undefined) => (a === undefined ? '-' : `${ms(a)} / ${ms(b)}`);
const ratio = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : `${v.toFixed(3)}x`);
const bytes = (v: number | undefined) => (v === undefined ? '-' : v >= 1e6 ? `${(v / 1e6).toFixed(2)} MB` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} kB` : `${Math.round(v)} B`);
const peersLabel = (n: number) => n.toLocaleString('en-US');

/** Below this much retained in all, GC and JIT noise swamps the figure. */
const HEAP_NOISE_BYTES = 256 * 1024;
const heapPerPeer = (h: HeapResult | undefined) => (h === undefined ? '-' : Math.abs(h.retainedBytes) < HEAP_NOISE_BYTES ? 'noise' : bytes(h.bytesPerPeer));

/** One table: a row per figure, a column per peer count. */
export function formatTable(r: BenchResults): string {
  const counts = [...new Set([...r.costs.map((c) => c.peers), ...Object.values(r.heap).flat().map((h) => h.peers), ...Object.values(r.eventLoop).flat().map((e) => e.peers), ...Object.values(r.http).map((h) => h.peers), ...r.get.map((g) => g.peers)])].sort((a, b) => a - b);
  const cost = (n: number) => r.costs.find((c) => c.peers === n);
  const backends = [...new Set(r.costs.flatMap((c) => Object.keys(c.backends)))];
  const rows: [string, (n: number) => string][] = [];
  for (const b of backends) {
    rows.push([`tick ms, p50 / p99 (${b})`, (n) => pair(cost(n)?.backends[b]?.tick.median, cost(n)?.backends[b]?.tick.p99)]);
    rows.push([`scrape ms, p50 / p99 (${b})`, (n) => pair(cost(n)?.backends[b]?.scrape.median, cost(n)?.backends[b]?.scrape.p99)]);
    if (b === 'prom-client') rows.push(['  of which ditto_sync_* families', (n) => pair(cost(n)?.ownFamilies.median, cost(n)?.ownFamilies.p99)]);
  }
  rows.push(['floor ms, p50 / p99 (plain prom-client)', (n) => pair(cost(n)?.floor.median, cost(n)?.floor.p99)]);
  for (const b of backends) rows.push([`tick+scrape / floor (${b})`, (n) => ratio(cost(n)?.backends[b]?.ratioToFloor)]);
  for (const b of backends) rows.push([`body (${b})`, (n) => bytes(cost(n)?.backends[b]?.bodyBytes)]);
  rows.push(['per-peer samples = floor (prom-client)', (n) => { const c = cost(n)?.backends['prom-client']?.check; return c ? (c.ok ? `yes (${c.samples})` : 'NO') : '-'; }]);
  for (const b of backends.filter((x) => x !== 'prom-client')) rows.push([`per-peer samples = floor (${b})`, (n) => { const c = cost(n)?.backends[b]?.check; return c ? (c.ok ? `yes (${c.samples})` : 'NO') : '-'; }]);
  for (const [b, list] of Object.entries(r.heap)) rows.push([`heap retained per peer (${b})`, (n) => heapPerPeer(list.find((h) => h.peers === n))]);
  rows.push(['SyncState.view() ms, p50 / p99', (n) => pair(cost(n)?.view.median, cost(n)?.view.p99)]);
  rows.push(['registry.metrics() via bridge ms, p50 / p99', (n) => pair(cost(n)?.bridge.median, cost(n)?.bridge.p99)]);
  for (const [b, list] of Object.entries(r.eventLoop)) {
    const el = (n: number) => list.find((e) => e.peers === n);
    rows.push([`event-loop delay ms, p99 / max (${b})`, (n) => pair(el(n)?.delayP99, el(n)?.delayMax)]);
    // The recorder notices blocks from NOTICE_MS: 0 means none that long.
    const block = (v: number) => (v === 0 ? `< ${NOTICE_MS}` : ms(v));
    rows.push([`  longest block ms: in a scrape / tick / neither (${b})`, (n) => { const e = el(n); return e ? `${block(e.longestBlockInScrape)} / ${block(e.longestBlockInTick)} / ${block(e.longestBlockElsewhere)}` : '-'; }]);
    rows.push([`  live tick ms, p50 / max (${b})`, (n) => pair(el(n)?.tick.median, el(n)?.tick.max)]);
    rows.push([`  scrape latency ms, p50 / max (${b})`, (n) => pair(el(n)?.scrapeLatency.median, el(n)?.scrapeLatency.max)]);
    rows.push([`  complete bodies (${b})`, (n) => { const e = el(n); return e ? `${e.scrapes - e.incomplete.length}/${e.scrapes}` : '-'; }]);
  }
  const get = (n: number) => r.get.find((g) => g.peers === n);
  rows.push(['GET /metrics over HTTP ms, p50: exporter / floor', (n) => pair(get(n)?.identity.exporter.median, get(n)?.identity.floor.median)]);
  rows.push(['  GET / floor (process metrics on, identity)', (n) => ratio(get(n)?.identity.ratio)]);
  rows.push(['  with gzip ms, p50: exporter / floor (identity)', (n) => pair(get(n)?.gzip.exporter.median, get(n)?.gzip.floor.median)]);
  rows.push(['  with gzip / floor', (n) => ratio(get(n)?.gzip.ratio)]);
  for (const [b, h] of Object.entries(r.http)) {
    rows.push([`HTTP req/s, ${h.connections} conns (${b})`, (n) => (n === h.peers ? h.requestsPerSecond.toFixed(0) : '-')]);
    rows.push([`HTTP latency ms, p50 / p99 (${b})`, (n) => (n === h.peers ? pair(h.latencyP50, h.latencyP99) : '-')]);
    rows.push([`HTTP errors / non-2xx (${b})`, (n) => (n === h.peers ? `${h.errors} / ${h.non2xx}` : '-')]);
  }
  const header = ['peers', ...counts.map(peersLabel)];
  // Rows of phases that did not run are left out.
  const body = rows.map(([label, f]) => [label, ...counts.map(f)]).filter((row) => row.slice(1).some((cell) => cell !== '-'));
  // Only the fleet phase ran: no peer table at all.
  if (body.length === 0) return '';
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}

/** The issue's targets, judged from this run. */
export function judgeTargets(r: BenchResults): Target[] {
  const targets: Target[] = [];
  const ours = (n: number) => r.costs.find((c) => c.peers === n)?.backends['prom-client'];
  for (const [n, limit] of [[1000, 0.25], [100, 0.5]] as const) {
    const c = ours(n);
    if (c) targets.push({ name: `tick+scrape at ${peersLabel(n)} peers, vs floor`, limit: `<= ${limit}x`, value: ratio(c.ratioToFloor), met: c.ratioToFloor <= limit });
  }
  const get = r.get.find((g) => g.peers === 1000);
  if (get) targets.push({ name: 'GET /metrics over HTTP at 1,000 peers, default settings, vs the floor served by node:http', limit: '<= 0.2x', value: ratio(get.identity.ratio), met: get.identity.ratio <= 0.2 });
  // Every backend whose event loop was measured is held to the same limits (named when not the default).
  for (const [backend, list] of Object.entries(r.eventLoop)) {
    const loop = list.find((e) => e.peers === 10000);
    if (!loop) continue;
    const which = backend === 'prom-client' ? '' : ` (${backend})`;
    targets.push({
      name: `longest event-loop block during a scrape at 10,000 peers${which}`,
      limit: '<= 50 ms',
      value: `${ms(loop.longestBlockInScrape)} ms (any block: ${ms(loop.delayMax)} ms)`,
      met: loop.longestBlockInScrape <= 50,
    });
    targets.push({ name: `complete, correct bodies at 10,000 peers${which}`, limit: 'all', value: `${loop.scrapes - loop.incomplete.length}/${loop.scrapes}`, met: loop.incomplete.length === 0 && loop.scrapes > 0 });
  }
  for (const f of r.fleet.filter((x) => x.devices >= 100_000)) {
    targets.push({ name: `longest event-loop block during a fleet refresh, ${peersLabel(f.devices)} devices (${f.mode})`, limit: '<= 50 ms', value: `${ms(f.longestBlockInRefresh)} ms`, met: f.longestBlockInRefresh <= 50 });
  }
  const heap = r.heap['prom-client']?.find((h) => h.peers === 10000);
  if (heap) targets.push({ name: 'heap retained per peer at 10,000', limit: '<= 3 KB', value: bytes(heap.bytesPerPeer), met: heap.bytesPerPeer <= 3072 });
  const checks = r.costs.map((c) => c.backends['prom-client']?.check).filter((c) => c !== undefined);
  if (checks.length) targets.push({ name: 'per-peer lines identical to prom-client\'s', limit: 'every size', value: checks.every((c) => c.ok) ? 'identical' : checks.find((c) => !c.ok)!.problem ?? 'differs', met: checks.every((c) => c.ok) });
  return targets;
}

/** The fleet phase: one column per mode. */
export function formatFleetTable(r: BenchResults): string {
  const cols = r.fleet;
  const block = (v: number) => (v === 0 ? `< ${NOTICE_MS}` : ms(v));
  const rows: [string, (f: FleetResult) => string][] = [
    ['devices read (pages of 500)', (f) => `${peersLabel(f.devices)} (${f.pages})`],
    ['first refresh ms (label sets built)', (f) => ms(f.firstRefreshMs)],
    ['later refresh ms, p50 / max', (f) => pair(f.refresh.median, f.refresh.max)],
    ['scrape ms, p50 / max', (f) => pair(f.scrape.median, f.scrape.max)],
    ['body', (f) => bytes(f.bodyBytes)],
    ['heap retained per device', (f) => bytes(f.bytesPerDevice)],
    ['longest block ms: in a refresh / in a scrape', (f) => `${block(f.longestBlockInRefresh)} / ${block(f.longestBlockInScrape)}`],
  ];
  const header = ['fleet (--source fleet, emulated Ditto Server)', ...cols.map((f) => (f.mode === 'full' ? 'a series per device' : 'aggregates only'))];
  const body = rows.map(([label, get]) => [label, ...cols.map(get)]);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}

export function formatTargets(targets: readonly Target[]): string {
  return targets.map((t) => `${t.met ? 'MET ' : 'MISS'}  ${t.name}: ${t.value} (target ${t.limit})`).join('\n');
}
