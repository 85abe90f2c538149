/**
 * The load run: the standalone server (createApp + createRouter + listen on loopback) over a
 * SyncExporter fed a churning mesh every 500 ms, with GET /metrics hammered by autocannon in this
 * process. Every response is checked for completeness; a sample is fully parsed after the run.
 * Used by scripts/load.ts and, in a short form, by the tests.
 */
import type { Server } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ExpositionFormat } from '../../src/exposition/format.js';
import { SyncExporter } from '../../src/exporter.js';
import { boundPort, closeServer, createApp, createRouter, listen } from '../../src/server.js';
import { autocannon, type CannonRequest } from './autocannon.js';
import { ChurnMesh, DEFAULT_CHURN } from './churn-mesh.js';
import { deepCheck, lastFamily, quickCheck } from './exposition-check.js';
import { LoadSource } from './load-source.js';
import { forceGc } from './process-probe.js';

export interface LoadOptions {
  readonly peers: number;
  readonly connections: number;
  /** Seconds of load. */
  readonly duration: number;
  /** Milliseconds between observer ticks. */
  readonly tickMs: number;
  /** Bodies of each format kept (at random over the run) for a full parse afterwards. */
  readonly sampledBodies: number;
  readonly seed: number;
}

export const FULL_LOAD: LoadOptions = Object.freeze({ peers: 1000, connections: 64, duration: 30, tickMs: 500, sampledBodies: 16, seed: 7 });

/** What Prometheus 2.x/3.x sends: OpenMetrics preferred, text as fallback. */
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const CONTENT_TYPE_PREFIX: Record<ExpositionFormat, string> = { prometheus: 'text/plain; version=0.0.4', openmetrics: 'application/openmetrics-text; version=1.0.0' };

export interface LoadCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface LoadResult {
  readonly peers: number;
  readonly connections: number;
  readonly seconds: number;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly latencyP50: number;
  readonly latencyP99: number;
  readonly latencyMax: number;
  /** Latency of each connection's first response (includes waiting to be accepted), ms. */
  readonly firstResponseMax: number;
  /** Latency of every later response (connections already open), ms. */
  readonly steadyLatencyP50: number;
  readonly steadyLatencyP99: number;
  readonly steadyLatencyMax: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly status5xx: number;
  readonly bytes: number;
  readonly bytesPerSecond: number;
  /** Mean bytes per response, headers included. */
  readonly meanResponseBytes: number;
  readonly bodiesChecked: number;
  readonly bodiesParsed: number;
  readonly ticksDuringLoad: number;
  readonly maxTickGapMs: number;
  readonly eventLoopDelayP99: number;
  readonly eventLoopDelayMax: number;
  readonly checks: readonly LoadCheck[];
  readonly ok: boolean;
}

/** Keeps `size` items chosen uniformly at random from a stream (reservoir sampling). */
class Reservoir<T> {
  readonly items: T[] = [];
  private seen = 0;
  constructor(private readonly size: number) {}
  offer(item: T): void {
    this.seen++;
    if (this.items.length < this.size) this.items.push(item);
    else {
      const slot = Math.floor(Math.random() * this.seen);
      if (slot < this.size) this.items[slot] = item;
    }
  }
}

export async function runLoad(options: LoadOptions, log: (line: string) => void = console.log): Promise<LoadResult> {
  validate(options);
  // Only a minute of ticks: bad rows come more often than in the soak so some arrive under load.
  const mesh = new ChurnMesh({ ...DEFAULT_CHURN, peers: options.peers, seed: options.seed, badRowEvery: 7 });
  const source = new LoadSource(mesh, options.tickMs);
  const exporter = new SyncExporter(source);
  let server: Server | undefined;
  try {
    await exporter.start();
    // The load run measures throughput, not the cap: every one of its connections may scrape at once.
    server = await listen(createApp(createRouter(exporter, undefined, { maxConcurrentScrapes: options.connections })), {
      host: '127.0.0.1',
      port: 0,
      maxConnections: Math.max(512, options.connections * 2),
      stats: exporter.http,
    });
    const url = `http://127.0.0.1:${boundPort(server)}`;
    log(`load: ${options.peers} peers, ${options.connections} connections, ${options.duration} s, a tick every ${options.tickMs} ms, ${url}/metrics`);

    // Reference bodies after a GC, so the GC histogram (the last process family) has samples.
    forceGc()();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const failures: string[] = [];
    const expectedLast = {} as Record<ExpositionFormat, string>;
    for (const format of ['prometheus', 'openmetrics'] as const) {
      const body = await (await fetch(`${url}/metrics`, { headers: format === 'openmetrics' ? { accept: PROMETHEUS_ACCEPT } : {} })).text();
      for (const p of deepCheck(body, format)) failures.push(`reference ${format} body: ${p}`);
      expectedLast[format] = lastFamily(body) ?? '(none)';
    }

    let checked = 0;
    const samples: Record<ExpositionFormat, Reservoir<string>> = {
      prometheus: new Reservoir(options.sampledBodies),
      openmetrics: new Reservoir(options.sampledBodies),
    };
    const fail = (text: string) => {
      if (failures.length < 20) failures.push(text);
    };
    const request = (format: ExpositionFormat): CannonRequest => ({
      method: 'GET',
      path: '/metrics',
      headers: format === 'openmetrics' ? { accept: PROMETHEUS_ACCEPT } : { accept: 'text/plain' },
      onResponse: (status, body, _context, headers) => {
        checked++;
        if (status !== 200) return; // counted by autocannon
        const type = headerValue(headers, 'content-type');
        if (!type.startsWith(CONTENT_TYPE_PREFIX[format])) fail(`${format}: content-type ${type}`);
        const problem = quickCheck(body, format, expectedLast[format]);
        if (problem) fail(`${format}: ${problem}`);
        samples[format].offer(body);
      },
    });

    const ticksBefore = source.delivered;
    source.resetGaps();
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = performance.now();
    const run = autocannon({
      url: `${url}/metrics`,
      connections: options.connections,
      duration: options.duration,
      timeout: 10,
      requests: [request('prometheus'), request('openmetrics')],
    });
    // Each connection's first response also waits for the server to accept the connection; a busy
    // Node loop accepts one pending connection per turn, so those are reported apart.
    const responsesByClient = new Map<object, number>();
    const firstLatencies: number[] = [];
    const laterLatencies: number[] = [];
    run.on('response', (client, _status, _bytes, ms) => {
      const n = responsesByClient.get(client) ?? 0;
      responsesByClient.set(client, n + 1);
      (n === 0 ? firstLatencies : laterLatencies).push(ms);
    });
    const r = await run;
    const seconds = (performance.now() - started) / 1000;
    delay.disable();
    const ticksDuringLoad = source.delivered - ticksBefore;
    const maxTickGapMs = source.maxGapMs;

    let parsed = 0;
    for (const format of ['prometheus', 'openmetrics'] as const) {
      for (const body of samples[format].items) {
        parsed++;
        for (const p of deepCheck(body, format)) fail(`sampled ${format} body: ${p}`);
      }
    }
    const health = await fetch(`${url}/healthz`);
    const view = exporter.view();

    const expectedTicks = (options.duration * 1000) / options.tickMs;
    const checks: LoadCheck[] = [
      {
        name: 'no errors or timeouts',
        ok: r.errors === 0 && r.timeouts === 0 && r.resets === 0,
        detail: `errors ${r.errors}, timeouts ${r.timeouts}, resets ${r.resets}`,
      },
      { name: 'no 5xx and no other non-2xx', ok: r['5xx'] === 0 && r.non2xx === 0, detail: `5xx ${r['5xx']}, non-2xx ${r.non2xx}, 2xx ${r['2xx']}` },
      {
        name: 'every body complete, a sample fully parsed',
        ok: failures.length === 0 && checked > 0 && checked === r['2xx'] + r.non2xx && parsed > 0,
        detail: failures.length ? failures.slice(0, 5).join('; ') : `${checked} bodies checked, ${parsed} parsed`,
      },
      {
        name: 'ticks kept flowing under load',
        ok: ticksDuringLoad >= Math.max(1, Math.floor(expectedTicks / 2)) && view.sync!.errors === 0 && view.sync!.ticks === mesh.totals.ticks,
        detail: `${ticksDuringLoad} ticks in ${seconds.toFixed(1)} s (${Math.round(expectedTicks)} scheduled), longest gap ${Math.round(maxTickGapMs)} ms, errors ${view.sync!.errors}`,
      },
      { name: 'server still healthy afterwards', ok: health.status === 200, detail: `/healthz ${health.status}` },
    ];
    const ok = checks.every((c) => c.ok);
    const result: LoadResult = {
      peers: options.peers,
      connections: options.connections,
      seconds,
      requests: r.requests.total,
      requestsPerSecond: r.requests.average,
      latencyP50: r.latency.p50,
      latencyP99: r.latency.p99,
      latencyMax: r.latency.max,
      firstResponseMax: firstLatencies.reduce((a, b) => Math.max(a, b), 0),
      steadyLatencyP50: percentile(laterLatencies, 50),
      steadyLatencyP99: percentile(laterLatencies, 99),
      steadyLatencyMax: laterLatencies.reduce((a, b) => Math.max(a, b), 0),
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      status5xx: r['5xx'],
      bytes: r.throughput.total,
      bytesPerSecond: r.throughput.average,
      meanResponseBytes: r.requests.total > 0 ? r.throughput.total / r.requests.total : 0,
      bodiesChecked: checked,
      bodiesParsed: parsed,
      ticksDuringLoad,
      maxTickGapMs,
      eventLoopDelayP99: delay.percentile(99) / 1e6,
      eventLoopDelayMax: delay.max / 1e6,
      checks,
      ok,
    };
    log(
      `requests ${result.requests} (${result.requestsPerSecond.toFixed(1)}/s), latency p50 ${result.latencyP50} ms, p99 ${result.latencyP99} ms, max ${result.latencyMax} ms`,
    );
    log(
      `  first response per connection: max ${Math.round(result.firstResponseMax)} ms; open connections: ` +
        `p50 ${Math.round(result.steadyLatencyP50)} ms, p99 ${Math.round(result.steadyLatencyP99)} ms, max ${Math.round(result.steadyLatencyMax)} ms`,
    );
    log(
      `errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx}, 5xx ${result.status5xx}, ` +
        `bytes ${(result.bytes / 1e6).toFixed(1)} MB (${(result.bytesPerSecond / 1e6).toFixed(1)} MB/s, ${Math.round(result.meanResponseBytes / 1024)} KiB per response)`,
    );
    log(`event-loop delay p99 ${result.eventLoopDelayP99.toFixed(1)} ms, max ${result.eventLoopDelayMax.toFixed(1)} ms (server and autocannon share this loop)`);
    for (const c of checks) log(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
    log(`verdict: ${ok ? 'PASS' : 'FAIL'}`);
    return result;
  } finally {
    if (server) await closeServer(server);
    await exporter.close();
  }
}

/** Nearest-rank percentile; 0 for no values. */
function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** autocannon hands headers over with their names as the server wrote them. */
function headerValue(headers: Record<string, string>, name: string): string {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return String(value);
  return '';
}

function validate(o: LoadOptions): void {
  for (const key of ['peers', 'connections', 'duration', 'tickMs', 'sampledBodies'] as const) {
    if (!Number.isInteger(o[key]) || o[key] <= 0) throw new RangeError(`load ${key} must be a positive integer, got ${o[key]}`);
  }
  if (o.peers < 10) throw new RangeError(`load peers must be at least 10, got ${o.peers}`);
}
