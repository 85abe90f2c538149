/**
 * The otel backend writes its own scope from OpenTelemetry's collected typed data (otel-text.ts)
 * and the application's instruments with OpenTelemetry's own PrometheusSerializer. Nothing is
 * parsed back or patched. No timings: the bench measures how long the blocks are.
 */
import { ValueType } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { AggregationTemporality, DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectionError } from '../src/backends/backend.js';
import { createOtelBackend, type OtelBackend } from '../src/backends/otel.js';
import { OTEL_SCOPE } from '../src/backends/otel-producer.js';
import { otelMetricsText } from '../src/backends/otel-text.js';
import { SyncExporter } from '../src/exporter.js';
import type { RawTick } from '../src/model.js';
import { row, T0, TestSource } from './otel-support.js';

const STATUSES = ['Connected', 'Not Connected', 'Disabled'];

/** Two ticks of an n-peer mesh: every tenth peer a cloud row; three tracked commits acked by the cloud. */
function meshTicks(n: number): RawTick[] {
  const rows = (cloudSynced: number, at: number) =>
    Array.from({ length: n }, (_, i) => {
      const id = `peer-${String(i).padStart(5, '0')}-${'x'.repeat(28)}`;
      if (i % 10 === 0) return row(id, { cloud: true, synced: cloudSynced, lastUpdate: at - 1 });
      if (i % 7 === 3) return row(id, { status: STATUSES[i % 3] });
      return row(id, { status: STATUSES[i % 3], synced: 90 + (i % 20), lastUpdate: at - (i % 30) });
    });
  return [
    { readAt: T0, commits: [{ id: 100n, at: T0 - 8 }, { id: 110n, at: T0 - 4 }, { id: 120n, at: T0 - 1 }], rows: rows(105, T0) },
    { readAt: T0 + 5, rows: rows(125, T0 + 5) },
  ];
}

interface Built {
  readonly otel: SyncExporter;
  readonly plain: SyncExporter;
  readonly backend: OtelBackend;
}

async function build(peers: number, options: { targetInfo?: boolean; appInstruments?: boolean } = {}): Promise<Built> {
  const make = (backendName: 'otel' | 'prom-client') => {
    const source = new TestSource();
    let backend: OtelBackend | undefined;
    const exporter = new SyncExporter(source, {
      backend: backendName,
      collectDefaultMetrics: false,
      maxPeers: Math.max(1000, peers),
      backendFactory: (_name, view, state) => (backend = createOtelBackend(view, state, { serviceInstanceId: 'peer-under-test', targetInfo: options.targetInfo })),
    });
    for (const tick of meshTicks(peers)) expect(exporter.state.ingest(tick)).toBe(true);
    source.clock = T0 + 10;
    return { exporter, backend };
  };
  const otel = make('otel');
  const plain = make('prom-client');
  if (options.appInstruments) addAppInstruments(otel.backend!);
  return { otel: otel.exporter, plain: plain.exporter, backend: otel.backend! };
}

function addAppInstruments(backend: OtelBackend): void {
  const meter = backend.meterProvider.getMeter('host-app', '1.2.3');
  const latency = meter.createHistogram('host_request_duration', { unit: 's', description: 'Request time\nper route' });
  const jobs = meter.createCounter('host_jobs');
  for (let route = 0; route < 40; route++) {
    for (let k = 0; k <= route % 5; k++) latency.record(0.001 * (route + 1) * (k + 1), { route: `/r/${route}` });
    jobs.add(route, { queue: `q"${route}"` });
  }
}

const count = (text: string, needle: string) => text.split(needle).length - 1;
/** The one line where the two backends must differ: the info family names the backend. */
const sameBackend = (body: string) => body.replace('backend="prom-client"', 'backend="otel"');

describe.each([0, 1, 50, 5000])('the otel backend at %i peers', (peers) => {
  let built: Built;
  beforeAll(async () => {
    built = await build(peers);
  });
  afterAll(async () => {
    await built.otel.close();
    await built.plain.close();
  });

  it('writes the exporter families through OpenTelemetry byte for byte as the prom-client backend writes them', async () => {
    const otel = (await built.backend.render('prometheus')).body;
    const plain = (await built.plain.backend.render('prometheus')).body;
    expect(otel).toBe(sameBackend(plain));
    expect(count(otel, '\nditto_sync_peer_status{')).toBe(4 * peers);
    if (peers > 0) expect(otel).toMatch(/^ditto_sync_commit_cloud_ack_seconds_count 3$/m);
  });
});

describe("the application's own instruments", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build(20, { targetInfo: true, appInstruments: true });
  });
  afterAll(async () => {
    await built.otel.close();
    await built.plain.close();
  });

  it("follow the exporter's families exactly as OpenTelemetry's own serializer writes them", async () => {
    const body = (await built.backend.render('prometheus')).body;
    const own = sameBackend((await built.plain.backend.render('prometheus')).body);
    expect(body.startsWith(own)).toBe(true);
    const result = await built.backend.reader.collect();
    const theirs = result.resourceMetrics.scopeMetrics.filter((s) => s.scope.name !== OTEL_SCOPE.name);
    expect(theirs.map((s) => s.scope.name)).toEqual(['host-app']);
    const expected = new PrometheusSerializer(undefined, false, undefined, false, true).serialize({ resource: result.resourceMetrics.resource, scopeMetrics: theirs });
    expect(body.slice(own.length)).toBe(expected);
    expect(body).toContain('# TYPE target_info gauge\n');
    expect(count(body, '\nhost_request_duration_bucket{')).toBeGreaterThan(40 * 10);
    expect(body).toContain('host_jobs_total{queue="q\\"39\\""} 39\n');
  });
});

describe('the otel text writer', () => {
  const gauge = (name: string, points: number): MetricData => ({
    descriptor: { name, description: `${name} help`, unit: '', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: Array.from({ length: points }, (_, i) => ({ startTime: [T0, 0], endTime: [T0, 0], attributes: { i: String(i), n: i }, value: i })),
  });

  it('writes non-string attributes as JSON, as OpenTelemetry does, and leaves out metrics without points', async () => {
    expect(await otelMetricsText([gauge('a', 2), gauge('empty', 0)])).toBe('# HELP a a help\n# TYPE a gauge\na{i="0",n="0"} 0\na{i="1",n="1"} 1\n');
  });

  it('refuses a data point type it does not write, instead of writing it wrongly', async () => {
    const odd = { ...gauge('odd', 1), dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM } as unknown as MetricData;
    await expect(otelMetricsText([odd])).rejects.toThrow(/does not write/);
  });

  it('hands the event loop back during a big body, and not when the budget is never used up (so the check can fail)', async () => {
    const big = [gauge('big', 50_000)];
    const ranDuring = async (run: () => Promise<unknown>) => {
      let ran = false;
      setImmediate(() => (ran = true));
      await run();
      return ran;
    };
    expect(await ranDuring(() => otelMetricsText(big, { sliceMs: 0 }))).toBe(true);
    expect(await ranDuring(() => otelMetricsText(big, { sliceMs: Infinity }))).toBe(false);
  });

  it('stops when the render is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('client went away'));
    await expect(otelMetricsText([gauge('big', 1000)], { sliceMs: 0, signal: controller.signal })).rejects.toThrow('client went away');
  });
});

describe('a failure on the otel path', () => {
  it('is a counted CollectionError (the server answers 500), never an uncounted one', async () => {
    const built = await build(3);
    try {
      const meter = built.backend.meterProvider.getMeter('host-app');
      meter.createObservableGauge('broken').addCallback(() => {
        throw new Error('app callback failed');
      });
      const before = built.otel.view().sync!.errors;
      const failure = await built.otel.scrape('prometheus').catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(CollectionError);
      expect(built.otel.view().sync!.errors).toBe(before + 1);
    } finally {
      await built.otel.close();
      await built.plain.close();
    }
  });
});
