/**
 * Merging Ditto's engine metrics into /metrics, against a stand-in HTTP server on 127.0.0.1 that
 * serves a body captured from SDK 5.1.0's engine exporter (or a broken one). The real engine is
 * exercised in engine-cli.test.ts and engine-attach.test.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createOtelBackend } from '../src/backends/otel.js';
import { ViewMetricProducer } from '../src/backends/otel-producer.js';
import { startOtlpPush } from '../src/backends/otlp-push.js';
import type { BackendName } from '../src/backends/backend.js';
import { F } from '../src/catalogue/index.js';
import { SyncExporter, type ExporterOptions } from '../src/exporter.js';
import { parseEngineUrl } from '../src/sources/engine-endpoint.js';
import { captureLogger, row, serve, TestSource, T0 } from './otel-support.js';
import { parseSamples, valueOf } from './helpers/exposition.js';
import { haveBinary, run } from './helpers/tools.js';
import { waitFor } from './helpers/net.js';

const CAPTURE = readFileSync(new URL('./fixtures/ditto-engine-5.1.0.prom', import.meta.url), 'utf8');
const ENGINE_FAMILIES = [...CAPTURE.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
const PERMITS = valueOf(CAPTURE, 'ditto_backend_sqlite3_txn_permits', { mode: 'write', outcome: 'immediate' })!;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface StandIn {
  readonly url: string;
  requests: number;
  handler: Handler;
  close(): Promise<void>;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An HTTP server standing in for Ditto's engine exporter; `handler` can be swapped mid-test. */
async function standIn(handler: Handler = (_req, res) => res.end(CAPTURE)): Promise<StandIn> {
  const state = { requests: 0, handler };
  const server: Server = createServer((req, res) => {
    state.requests++;
    state.handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const s: StandIn = {
    url: `http://127.0.0.1:${port}/metrics`,
    get requests() {
      return state.requests;
    },
    set requests(n) {
      state.requests = n;
    },
    get handler() {
      return state.handler;
    },
    set handler(h) {
      state.handler = h;
    },
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
  cleanups.push(() => s.close());
  return s;
}

/** A port nothing listens on (bound, then released). */
async function deadUrl(): Promise<string> {
  const s = await standIn();
  await s.close();
  return s.url;
}

async function exporterFor(url: string, options: ExporterOptions & { backend?: BackendName } = {}): Promise<SyncExporter> {
  const source = new TestSource();
  const exporter = new SyncExporter(source, {
    collectDefaultMetrics: false,
    backendFactory: (_n, view, state) => createOtelBackend(view, state),
    ...options,
    engineMetrics: { url, ...options.engineMetrics },
  });
  await exporter.start();
  exporter.state.ingest({ readAt: T0, rows: [row('cloud', { cloud: true, synced: 3, lastUpdate: T0 - 1 })] });
  cleanups.push(() => exporter.close());
  return exporter;
}

const body = async (exporter: SyncExporter, format: 'prometheus' | 'openmetrics' = 'prometheus') => (await exporter.scrape(format)).body;

describe('engine metrics merged into /metrics', () => {
  it.each(['prom-client', 'otel'] as const)('serves every engine family beside ours (%s backend), with ditto_engine_up 1', async (backend) => {
    const engine = await standIn();
    const text = await body(await exporterFor(engine.url, { backend }));
    expect(valueOf(text, 'ditto_engine_up')).toBe(1);
    expect(valueOf(text, 'ditto_sync_up')).toBe(1);
    for (const name of ENGINE_FAMILIES) expect(text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    expect(PERMITS).toBeGreaterThan(0);
    expect(valueOf(text, 'ditto_backend_sqlite3_txn_permits', { mode: 'write', outcome: 'immediate' })).toBe(PERMITS);
    const commits = valueOf(CAPTURE, 'ditto_store_transaction_commit_secs_count')!;
    expect(valueOf(text, 'ditto_store_transaction_commit_secs_count')).toBe(commits);
    expect(valueOf(text, 'ditto_store_transaction_commit_secs_bucket', { le: '+Inf' })).toBe(commits);
    expect(valueOf(text, 'ditto_engine_samples_unusable', { reason: 'syntax' })).toBe(0);
    expect(valueOf(text, 'ditto_engine_families_dropped', { reason: 'collision' })).toBe(0);
    expect(valueOf(text, 'ditto_engine_scrape_duration_seconds')).toBeGreaterThan(0);
    // Every engine sample as the engine served it (same names, labels and values).
    const engineSamples = (t: string) =>
      parseSamples(t)
        .filter((s) => ENGINE_FAMILIES.some((f) => s.name === f || s.name.startsWith(`${f}_`)))
        .map((s) => `${s.name} ${JSON.stringify(Object.entries(s.labels).sort())} ${s.value}`)
        .sort();
    expect(engineSamples(text)).toEqual(engineSamples(CAPTURE));
  });

  it('in OpenMetrics, writes the engine counters with _total samples under the name without it', async () => {
    const engine = await standIn();
    const text = await body(await exporterFor(engine.url), 'openmetrics');
    expect(text).toContain('# TYPE ditto_backend_sqlite3_txn_permits counter\n');
    expect(text).toContain(`\nditto_backend_sqlite3_txn_permits_total{mode="write",outcome="immediate"} ${PERMITS}\n`);
    expect(text).toMatch(/^ditto_backend_sqlite3_fsync_total\{db="main"\} \d+$/m);
    expect(text).not.toMatch(/^ditto_backend_sqlite3_txn_permits\{/m);
    expect(text.endsWith('# EOF\n')).toBe(true);
  });

  it('hands the engine families to the OpenTelemetry producer as typed data (counters as monotonic sums, histograms with their buckets)', async () => {
    const engine = await standIn();
    const exporter = await exporterFor(engine.url);
    await exporter.prepare();
    const collected = await new ViewMetricProducer(() => exporter.view()).collect();
    const metrics = collected.resourceMetrics.scopeMetrics[0]!.metrics;
    const permits = metrics.find((m) => m.descriptor.name === 'ditto_backend_sqlite3_txn_permits')!;
    expect(permits).toMatchObject({ dataPointType: 3 /* SUM */, isMonotonic: true });
    const commit = metrics.find((m) => m.descriptor.name === 'ditto_store_transaction_commit_secs')!;
    expect(commit.dataPointType).toBe(0 /* HISTOGRAM */);
    const point = commit.dataPoints[0]!.value as { buckets: { boundaries: number[]; counts: number[] }; count: number };
    expect(point.buckets.boundaries).toHaveLength(22);
    expect(point.buckets.counts.reduce((a, b) => a + b, 0)).toBe(point.count);
    expect(metrics.find((m) => m.descriptor.name === F.engineUp.name)!.dataPoints[0]!.value).toBe(1);
  });

  it('pushes them over OTLP too: a push prepares the view as a scrape does', async () => {
    const engine = await standIn();
    const received: string[] = [];
    const receiver = createServer((req, res) => {
      let text = '';
      req.on('data', (d) => (text += d));
      req.on('end', () => {
        received.push(text);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => receiver.close(r)));
    const exporter = await exporterFor(engine.url);
    const push = startOtlpPush({ target: exporter, endpoint: `http://127.0.0.1:${(receiver.address() as { port: number }).port}`, intervalMs: 60_000, env: {} });
    cleanups.push(() => push.shutdown());
    await push.flush();
    const payload = await waitFor(() => received.find((r) => r.includes('ditto_backend_sqlite3_txn_permits')));
    expect(payload).toContain('ditto_engine_up');
    expect(engine.requests).toBeGreaterThanOrEqual(1);
  });

  it('leaves the engine part out of registry.metrics(): only its health families are bridged', async () => {
    const engine = await standIn();
    const exporter = await exporterFor(engine.url);
    await exporter.prepare();
    const text = await exporter.registry.metrics();
    expect(text).toMatch(/^ditto_engine_up 1$/m);
    expect(text).not.toContain('ditto_backend_sqlite3');
  });

  it('has no ditto_engine_* family at all without engineMetrics', async () => {
    const exporter = new SyncExporter(new TestSource(), { collectDefaultMetrics: false });
    await exporter.start();
    cleanups.push(() => exporter.close());
    expect(await body(exporter)).not.toMatch(/ditto_engine_|ditto_backend_/);
  });

  it('shares one engine read between concurrent scrapes', async () => {
    const engine = await standIn((_req, res) => setTimeout(() => res.end(CAPTURE), 100));
    const exporter = await exporterFor(engine.url);
    const bodies = await Promise.all(Array.from({ length: 5 }, () => body(exporter)));
    expect(engine.requests).toBe(1);
    for (const b of bodies) expect(valueOf(b, 'ditto_engine_up')).toBe(1);
  });
});

describe('an engine failure never fails the scrape', () => {
  it('a dead endpoint: 200, ditto_engine_up 0, the failure counted, no engine family; back to 1 once it answers', async () => {
    const url = await deadUrl();
    const logger = captureLogger();
    const exporter = await exporterFor(url, { logger });
    const served = await serve(exporter);
    cleanups.push(() => served.close());
    for (let i = 0; i < 3; i++) {
      const res = await served.scrape();
      expect(res.status).toBe(200);
      expect(valueOf(res.body, 'ditto_engine_up')).toBe(0);
      expect(valueOf(res.body, 'ditto_sync_up')).toBe(1);
      expect(valueOf(res.body, 'ditto_engine_scrape_errors_total', { reason: 'unreachable' })).toBe(i + 1);
      expect(res.body).not.toContain('ditto_backend_sqlite3');
      // Nothing was read, so nothing is said about the body.
      expect(res.body).not.toContain('ditto_engine_samples_unusable');
    }
    // One warning for the run of failures, not one per scrape.
    expect(logger.warnings.filter((w) => String(w[1]).includes("cannot read Ditto's engine metrics"))).toHaveLength(1);
    // The endpoint comes up on the same port.
    const port = Number(new URL(url).port);
    const revived = createServer((_req, res) => res.end(CAPTURE));
    await new Promise<void>((r) => revived.listen(port, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => revived.close(r)));
    const res = await served.scrape();
    expect(valueOf(res.body, 'ditto_engine_up')).toBe(1);
    expect(valueOf(res.body, 'ditto_engine_scrape_errors_total', { reason: 'unreachable' })).toBe(3);
    expect(res.body).toContain('ditto_backend_sqlite3_txn_permits{');
  });

  it.each<[string, (req: IncomingMessage, res: ServerResponse) => void, string, ExporterOptions['engineMetrics']?]>([
    ['a hung endpoint', () => {}, 'timeout', { url: '', timeout: 0.2 }],
    ['a body that never ends', (_req, res) => res.write('ditto_a 1\n'), 'timeout', { url: '', timeout: 0.2 }],
    ['an HTTP 500', (_req, res) => res.writeHead(500).end('no'), 'status'],
    ['a redirect (never followed)', (_req, res) => res.writeHead(302, { location: 'http://10.0.0.1/' }).end(), 'status'],
    ['a body over the limit, declared', (_req, res) => res.end('#'.repeat(5000)), 'too_large', { url: '', maxBytes: 4096 }],
    ['a body over the limit, chunked', (_req, res) => {
      res.write('#'.repeat(3000));
      res.end('#'.repeat(3000));
    }, 'too_large', { url: '', maxBytes: 4096 }],
    ['a gzipped body', (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(CAPTURE)), 'encoding'],
    ['an empty body (what a second Ditto instance in one process serves)', (_req, res) => res.end(''), 'empty'],
    ['a body of nothing but garbage', (_req, res) => res.end('<html>\n<body>nope</body>\n'), 'empty'],
    ['a connection cut mid-body', (_req, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write('ditto_a 1\n');
      setTimeout(() => res.destroy(), 20);
    }, 'unreachable'],
  ])('%s: 200, ditto_engine_up 0, reason %s', async (_name, handler, reason, options) => {
    const engine = await standIn(handler);
    const exporter = await exporterFor(engine.url, { engineMetrics: { ...options, url: engine.url } });
    const text = await body(exporter);
    expect(valueOf(text, 'ditto_engine_up')).toBe(0);
    expect(valueOf(text, 'ditto_engine_scrape_errors_total', { reason })).toBe(1);
    expect(valueOf(text, 'ditto_sync_up')).toBe(1);
    expect(text).not.toMatch(/^ditto_a /m);
  });

  it('says what was wrong with a garbage body: its lines count as syntax', async () => {
    const engine = await standIn((_req, res) => res.end('<html>\n<body>nope</body>\n'));
    const text = await body(await exporterFor(engine.url));
    expect(valueOf(text, 'ditto_engine_samples_unusable', { reason: 'syntax' })).toBe(2);
  });

  it('never serves the previous body as current once a read fails', async () => {
    const engine = await standIn();
    const exporter = await exporterFor(engine.url);
    expect(valueOf(await body(exporter), 'ditto_engine_up')).toBe(1);
    engine.handler = (_req, res) => res.writeHead(503).end();
    const text = await body(exporter);
    expect(valueOf(text, 'ditto_engine_up')).toBe(0);
    expect(text).not.toContain('ditto_backend_sqlite3');
  });

  it('a hung engine does not hold the scrape beyond its timeout', async () => {
    const engine = await standIn(() => {});
    const exporter = await exporterFor(engine.url, { engineMetrics: { url: engine.url, timeout: 0.3 } });
    const started = Date.now();
    await body(exporter);
    // Generous: the point is that it ends (a hung read would hold it forever).
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('collisions', () => {
  it('drops an engine family named like ours, counts it, and logs it once however many scrapes see it', async () => {
    const engine = await standIn((_req, res) => res.end(`# TYPE ditto_sync_up gauge\nditto_sync_up 0\n# TYPE ditto_engine_up gauge\nditto_engine_up 7\n${CAPTURE}`));
    const logger = captureLogger();
    const exporter = await exporterFor(engine.url, { logger });
    for (let i = 0; i < 3; i++) {
      const text = await body(exporter);
      expect(valueOf(text, 'ditto_sync_up')).toBe(1);
      expect(valueOf(text, 'ditto_engine_up')).toBe(1);
      expect(valueOf(text, 'ditto_engine_families_dropped', { reason: 'collision' })).toBe(2);
      expect(text.match(/^# TYPE ditto_sync_up /gm)).toHaveLength(1);
      expect(text.match(/^# TYPE ditto_engine_up /gm)).toHaveLength(1);
    }
    const logged = logger.warnings.filter((w) => String(w[1]).includes('collides'));
    expect(logged.map((w) => (w[0] as { family: string }).family)).toEqual(['ditto_sync_up', 'ditto_engine_up']);
  });
});

describe('engine URLs', () => {
  it.each(['http://127.0.0.1:9464/metrics', 'http://127.8.9.10/', 'http://[::1]:9464/metrics', 'http://[0:0:0:0:0:0:0:1]:1/x'])('accepts the loopback URL %s', (url) => {
    expect(() => parseEngineUrl(url)).not.toThrow();
  });

  it.each([
    ['http://10.0.0.1:9000/metrics', /loopback/],
    ['http://0.0.0.0:9000/metrics', /loopback/],
    ['http://localhost:9000/metrics', /loopback/],
    ['http://[::2]:9000/metrics', /loopback/],
    ['http://[::ffff:127.0.0.1]:9000/', /loopback/],
    ['https://127.0.0.1:9000/metrics', /http:\/\//],
    ['http://user:pw@127.0.0.1:9000/metrics', /credentials/],
    ['127.0.0.1:9000', /http:\/\/|not a URL/],
  ])('refuses %s, and so does the exporter', (url, message) => {
    expect(() => parseEngineUrl(url)).toThrow(message);
    expect(() => new SyncExporter(new TestSource(), { collectDefaultMetrics: false, engineMetrics: { url } })).toThrow(message);
  });
});

describe.runIf(haveBinary('promtool'))('promtool check metrics', () => {
  const lint = (text: string) => {
    const r = run('promtool', ['check', 'metrics'], text);
    return { status: r.status, findings: (r.stdout + r.stderr).split('\n').filter(Boolean).sort() };
  };

  it("reports on a merged body exactly what it reports on Ditto's own endpoint, and nothing about our families", async () => {
    const raw = lint(CAPTURE);
    // Ditto 5.1.0 declares two counters without _total; that is all promtool finds in its body.
    expect(raw.findings).toEqual(['ditto_backend_sqlite3_txn_attempts counter metrics should have "_total" suffix', 'ditto_backend_sqlite3_txn_permits counter metrics should have "_total" suffix']);
    const engine = await standIn();
    for (const backend of ['prom-client', 'otel'] as const) {
      const merged = lint(await body(await exporterFor(engine.url, { backend })));
      expect(merged.findings, backend).toEqual(raw.findings);
    }
  });

  it('finds nothing at all in a merged body once the engine part is left out (a failed read)', async () => {
    const merged = lint(await body(await exporterFor(await deadUrl())));
    expect(merged).toEqual({ status: 0, findings: [] });
  });

  it('finds nothing in a body whose engine families are all lint-clean (the engine-side names are the only ones it flags)', async () => {
    const clean = CAPTURE.replace(/ditto_backend_sqlite3_txn_(attempts|permits)/g, 'ditto_backend_sqlite3_txn_$1_total');
    const engine = await standIn((_req, res) => res.end(clean));
    expect(lint(await body(await exporterFor(engine.url)))).toEqual({ status: 0, findings: [] });
  });
});
