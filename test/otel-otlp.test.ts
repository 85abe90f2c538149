import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveOtlpEndpoint, startOtlpPush, type OtlpPush } from '../src/backends/otlp-push.js';
import { formatLe } from '../src/exposition/format.js';
import { captureLogger, makeExporter, parseSamples, row, SCENARIO, serve, seriesKey, seriesMap, T0, TestSource, type Served } from './otel-support.js';

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: OtlpRequest;
}

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string };
}
interface OtlpPoint {
  attributes: OtlpAttribute[];
  asDouble?: number;
  asInt?: number | string;
  bucketCounts?: (number | string)[];
  explicitBounds?: number[];
  count?: number | string;
  sum?: number;
}
interface OtlpMetric {
  name: string;
  unit: string;
  gauge?: { dataPoints: OtlpPoint[] };
  sum?: { dataPoints: OtlpPoint[]; isMonotonic: boolean; aggregationTemporality: number };
  histogram?: { dataPoints: OtlpPoint[]; aggregationTemporality: number };
}
interface OtlpRequest {
  resourceMetrics: { resource: { attributes: OtlpAttribute[] }; scopeMetrics: { scope: { name: string }; metrics: OtlpMetric[] }[] }[];
}

/** A local OTLP/HTTP receiver: records every request, answers `status`. */
async function receiver(status = 200): Promise<{ url: string; requests: Received[]; server: Server }> {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      requests.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(text) as OtlpRequest });
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

const attrs = (list: OtlpAttribute[]) => Object.fromEntries(list.map((a) => [a.key, a.value.stringValue ?? '']));

/** OTLP metrics → the same `name{labels}` → value map a Prometheus scrape gives. */
function otlpSeries(request: OtlpRequest): Map<string, number> {
  const out = new Map<string, number>();
  const put = (name: string, labels: Record<string, string>, v: number) => {
    const k = seriesKey(name, labels);
    if (out.has(k)) throw new Error(`series pushed twice: ${k}`);
    out.set(k, v);
  };
  for (const rm of request.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        for (const p of m.gauge?.dataPoints ?? m.sum?.dataPoints ?? []) put(m.name, attrs(p.attributes), Number(p.asDouble ?? p.asInt));
        for (const p of m.histogram?.dataPoints ?? []) {
          const labels = attrs(p.attributes);
          let cumulative = 0;
          const bounds = [...p.explicitBounds!, Infinity];
          bounds.forEach((bound, i) => {
            cumulative += Number(p.bucketCounts![i]);
            put(`${m.name}_bucket`, { ...labels, le: formatLe(bound) }, cumulative);
          });
          put(`${m.name}_sum`, labels, p.sum!);
          put(`${m.name}_count`, labels, Number(p.count));
        }
      }
    }
  }
  return out;
}

describe('OTLP push', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  const track = <T extends OtlpPush | Served>(x: T): T => {
    cleanup.push(() => ('shutdown' in x ? x.shutdown() : x.close()));
    return x;
  };
  const closing = (server: Server) => cleanup.push(() => new Promise((r) => server.close(r)));

  it('pushes JSON to /v1/metrics with the resource, headers and the same series as /metrics', async () => {
    const rx = await receiver();
    closing(rx.server);
    const source = new TestSource();
    const exporter = makeExporter('prom-client', { source });
    const served = track(await serve(exporter));
    for (const tick of SCENARIO) exporter.state.ingest(tick);
    source.clock = T0 + 40;

    const push = track(startOtlpPush({ target: exporter, endpoint: rx.url, intervalMs: 60_000, headers: { authorization: 'Bearer test' }, serviceInstanceId: 'local-peer-1' }));
    expect(push.endpoint).toBe(`${rx.url}/v1/metrics`);
    await push.flush();

    expect(rx.requests).toHaveLength(1);
    const [request] = rx.requests;
    expect(request!.path).toBe('/v1/metrics');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['authorization']).toBe('Bearer test');
    const resource = attrs(request!.body.resourceMetrics[0]!.resource.attributes);
    expect(resource).toMatchObject({ 'service.name': 'ditto-sync-exporter', 'service.instance.id': 'local-peer-1' });

    const pulled = seriesMap(parseSamples((await served.scrape()).body));
    expect(Object.fromEntries(otlpSeries(request!.body))).toEqual(Object.fromEntries(pulled));

    const metrics = request!.body.resourceMetrics[0]!.scopeMetrics.flatMap((s) => s.metrics);
    const byName = new Map(metrics.map((m) => [m.name, m]));
    expect(byName.get('ditto_sync_observer_ticks_total')!.sum).toMatchObject({ isMonotonic: true, aggregationTemporality: 2 });
    expect(byName.get('ditto_sync_commit_cloud_ack_seconds')!.unit).toBe('s');
    expect(byName.get('ditto_sync_commit_cloud_ack_seconds')!.histogram!.dataPoints[0]!.count).toBe(5);
    expect(push.stats).toEqual({ exports: 1, failures: 0 });
  });

  it('drops a vanished peer from the next push, and shutdown pushes once more', async () => {
    const rx = await receiver();
    closing(rx.server);
    const source = new TestSource();
    const exporter = makeExporter('otel', { source });
    track(await serve(exporter));
    exporter.state.ingest({ readAt: T0, rows: [row('device-stays', { synced: 1 }), row('device-goes', { synced: 2 })] });
    const push = startOtlpPush({ target: exporter, endpoint: `${rx.url}/custom/path`, intervalMs: 60_000 });
    cleanup.push(() => push.shutdown());
    await push.flush();
    exporter.state.ingest({ readAt: T0 + 1, rows: [row('device-stays', { synced: 3 })] });
    await push.shutdown();
    await push.shutdown();

    expect(rx.requests.map((r) => r.path)).toEqual(['/custom/path', '/custom/path']);
    const [first, last] = rx.requests.map((r) => otlpSeries(r.body));
    const synced = (m: Map<string, number>, peer: string) => m.get(seriesKey('ditto_sync_peer_synced_commit_id', { peer_id: peer, peer_type: 'device' }));
    expect([synced(first!, 'device-stays'), synced(first!, 'device-goes')]).toEqual([1, 2]);
    expect([synced(last!, 'device-stays'), synced(last!, 'device-goes')]).toEqual([3, undefined]);
    expect([...last!.keys()].filter((k) => k.includes('device-goes'))).toEqual([]);
  });

  it('pushes on its own timer to the endpoint from OTEL_EXPORTER_OTLP_ENDPOINT, with the host name as instance id', async () => {
    const rx = await receiver();
    closing(rx.server);
    const exporter = makeExporter('prom-client');
    exporter.state.ingest({ readAt: T0, rows: [] });
    const push = track(startOtlpPush({ target: exporter, intervalMs: 100, env: { OTEL_EXPORTER_OTLP_ENDPOINT: `${rx.url}/otlp` } }));
    cleanup.push(() => exporter.close());
    const deadline = Date.now() + 15_000;
    while (rx.requests.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(rx.requests.length).toBeGreaterThanOrEqual(2);
    expect(rx.requests[0]!.path).toBe('/otlp/v1/metrics');
    expect(push.endpoint).toBe(`${rx.url}/otlp/v1/metrics`);
    expect(attrs(rx.requests[0]!.body.resourceMetrics[0]!.resource.attributes)['service.instance.id']).toBe(hostname());
  });

  it('counts and logs a rejected push', async () => {
    const rx = await receiver(400);
    closing(rx.server);
    const logger = captureLogger();
    const exporter = makeExporter('prom-client');
    cleanup.push(() => exporter.close());
    const push = track(startOtlpPush({ target: exporter, endpoint: rx.url, intervalMs: 60_000, logger }));
    await push.flush();
    expect(rx.requests).toHaveLength(1);
    expect(push.stats).toEqual({ exports: 0, failures: 1 });
    expect(logger.warnings).toHaveLength(1);
    expect(String(logger.warnings[0]![1])).toMatch(/OTLP metrics push failed/);
  });

  it('counts a failing collection in ditto_sync_observer_errors_total and pushes nothing for it', async () => {
    const rx = await receiver();
    closing(rx.server);
    const source = new TestSource();
    const logger = captureLogger();
    const exporter = makeExporter('prom-client', { source, logger });
    cleanup.push(() => exporter.close());
    const push = track(startOtlpPush({ target: exporter, endpoint: rx.url, intervalMs: 60_000 }));
    source.failClock = true;
    await push.flush();
    expect(rx.requests).toHaveLength(0);
    expect(logger.errors.map((e) => String(e[1]))).toEqual(['error while collecting metrics for OTLP push']);
    source.failClock = false;
    await push.flush();
    expect(otlpSeries(rx.requests[0]!.body).get('ditto_sync_observer_errors_total{}')).toBe(1);
  });

  it('rejects a push without any endpoint, and bad intervals', () => {
    const exporter = makeExporter('prom-client');
    expect(() => startOtlpPush({ target: exporter, intervalMs: 1000, env: {} })).toThrow(/no OTLP endpoint/);
    expect(() => startOtlpPush({ target: exporter, endpoint: 'http://127.0.0.1:1', intervalMs: 0, env: {} })).toThrow(/interval/);
    expect(() => startOtlpPush({ target: exporter, endpoint: 'http://127.0.0.1:1', intervalMs: 1000, timeoutMs: 5000, env: {} })).toThrow(/timeout/);
  });
});

describe('resolveOtlpEndpoint', () => {
  const M = 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT';
  const G = 'OTEL_EXPORTER_OTLP_ENDPOINT';
  it.each([
    ['flag without a path gets /v1/metrics', 'http://collector:4318', {}, 'http://collector:4318/v1/metrics'],
    ['flag with / gets /v1/metrics', 'https://collector:4318/', {}, 'https://collector:4318/v1/metrics'],
    ['flag with a path is used as is', 'http://collector:4318/otlp/v1/metrics', { [M]: 'http://other:1/x' }, 'http://collector:4318/otlp/v1/metrics'],
    ['signal variable is used as is', undefined, { [M]: 'http://c:4318/custom', [G]: 'http://g:4318' }, 'http://c:4318/custom'],
    ['general variable gets /v1/metrics', undefined, { [G]: 'http://g:4318/base/' }, 'http://g:4318/base/v1/metrics'],
    ['blank flag falls back to the environment', ' ', { [G]: 'http://g:4318' }, 'http://g:4318/v1/metrics'],
    ['nothing configured', undefined, {}, undefined],
  ] as const)('%s', (_name, flag, env, expected) => {
    expect(resolveOtlpEndpoint(flag, env)).toBe(expected);
  });

  it('names the setting that holds a bad URL', () => {
    expect(() => resolveOtlpEndpoint('collector:4318', {})).toThrow(/--otlp-endpoint: OTLP\/HTTP needs an http\(s\) URL/);
    expect(() => resolveOtlpEndpoint('not a url', {})).toThrow(/--otlp-endpoint: not a URL/);
    expect(() => resolveOtlpEndpoint(undefined, { [G]: 'grpc://x' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });
});
