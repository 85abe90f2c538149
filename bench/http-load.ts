import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { runChild } from './child.js';
import type { BenchBackend } from './exporters.js';
import { LiveExporter } from './live.js';

export interface HttpResult {
  readonly peers: number;
  readonly connections: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly latencyP50: number;
  readonly latencyP99: number;
  readonly latencyMax: number;
  readonly requests: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly bytesPerSecond: number;
  /** The exporter process' event-loop delay under this load, milliseconds. */
  readonly delayP99: number;
  readonly delayMax: number;
}

interface AutocannonJson {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; max: number };
  throughput: { average: number };
  errors: number;
  non2xx: number;
}

/** GET /metrics as fast as `connections` clients can, autocannon running in its own process. */
export async function measureHttp(backend: BenchBackend, peers: number, connections: number, seconds: number): Promise<HttpResult> {
  const autocannon = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  // A cap at least as wide as the load, as npm run load sets it: this measures throughput, not the cap's 503s.
  const live = await LiveExporter.start(backend, peers, { maxConcurrentScrapes: Math.max(16, connections) });
  try {
    live.startTicking();
    await (await fetch(live.url)).text();
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const out = await runChild(process.execPath, [autocannon, '--json', '--no-progress', '-c', String(connections), '-d', String(seconds), live.url]);
    histogram.disable();
    const r = JSON.parse(out) as AutocannonJson;
    return {
      peers,
      connections,
      seconds,
      requestsPerSecond: r.requests.average,
      latencyP50: r.latency.p50,
      latencyP99: r.latency.p99,
      latencyMax: r.latency.max,
      requests: r.requests.total,
      errors: r.errors,
      non2xx: r.non2xx,
      bytesPerSecond: r.throughput.average,
      delayP99: histogram.percentile(99) / 1e6,
      delayMax: histogram.max / 1e6,
    };
  } finally {
    await live.stop();
  }
}
