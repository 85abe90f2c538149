/**
 * The otel backend serializes in slices (src/backends/otel-serialize.ts): the body must be byte for
 * byte OpenTelemetry's single `PrometheusSerializer.serialize()` call, and a big body must hand the
 * event loop back while it is written. No timings: the bench measures how long the blocks are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValueType } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { createOtelBackend, type OtelBackend } from '../src/backends/otel.js';
import { SyncExporter } from '../src/exporter.js';
import type { RawTick } from '../src/model.js';
import { row, T0, TestSource } from './otel-support.js';

const STATUSES = ['Connected', 'Not Connected', 'Disabled'];

/**
 * Two ticks of an n-peer mesh: every tenth peer a cloud row, the rest devices of each status, some
 * never synced. Three tracked commits are acked by the cloud rows, so the ack histogram has counts.
 */
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

interface Case {
  readonly peers: number;
  readonly targetInfo: boolean;
  readonly scopeLabels: boolean;
  /** The host app's own instruments on backend.meterProvider: a second scope, a many-point histogram. */
  readonly appInstruments: boolean;
}

const CASES: readonly Case[] = [0, 1, 50, 5000].flatMap((peers) => [
  { peers, targetInfo: false, scopeLabels: false, appInstruments: false },
  { peers, targetInfo: true, scopeLabels: true, appInstruments: true },
]);

const name = (c: Case) => `${c.peers} peers, target_info ${c.targetInfo ? 'on' : 'off'}${c.appInstruments ? ', scope labels and app instruments' : ''}`;

interface Built {
  readonly exporter: SyncExporter;
  readonly backend: OtelBackend;
  readonly source: TestSource;
}

function build(c: Case): Built {
  const source = new TestSource();
  let backend: OtelBackend | undefined;
  const exporter = new SyncExporter(source, {
    backend: 'otel',
    collectDefaultMetrics: false,
    maxPeers: Math.max(1000, c.peers),
    backendFactory: (_name, view, state) =>
      (backend = createOtelBackend(view, state, { serviceInstanceId: 'peer-under-test', targetInfo: c.targetInfo, scopeLabels: c.scopeLabels })),
  });
  for (const tick of meshTicks(c.peers)) expect(exporter.state.ingest(tick)).toBe(true);
  source.clock = T0 + 10;
  if (c.appInstruments) addAppInstruments(backend!);
  return { exporter, backend: backend!, source };
}

function addAppInstruments(backend: OtelBackend): void {
  const meter = backend.meterProvider.getMeter('host-app', '1.2.3');
  const latency = meter.createHistogram('host_request_duration', { unit: 's', description: 'Request time\nper route' });
  const inFlight = meter.createUpDownCounter('host_in_flight');
  const jobs = meter.createCounter('host_jobs');
  for (let route = 0; route < 40; route++) {
    for (let k = 0; k <= route % 5; k++) latency.record(0.001 * (route + 1) * (k + 1), { route: `/r/${route}`, method: route % 2 ? 'GET' : 'POST' });
    inFlight.add(route % 3, { route: `/r/${route}` });
    jobs.add(route, { queue: `q"${route}"` });
  }
}

const collect = async (backend: OtelBackend): Promise<ResourceMetrics> => {
  const result = await backend.reader.collect();
  expect(result.errors).toEqual([]);
  return result.resourceMetrics;
};

const count = (text: string, needle: string) => text.split(needle).length - 1;

describe.each(CASES)('sliced otel serialization: $peers peers, target_info $targetInfo, app instruments $appInstruments', (c) => {
  let built: Built;
  let resourceMetrics: ResourceMetrics;
  let expected: string;

  beforeAll(async () => {
    built = build(c);
    resourceMetrics = await collect(built.backend);
    expected = built.backend.serializer.whole.serialize(resourceMetrics);
  });
  afterAll(() => built?.exporter.close());

  it(`${name(c)}: the reference body is the mesh it should be, from the backend's settings`, () => {
    expect(new PrometheusSerializer('', false, undefined, !c.targetInfo, !c.scopeLabels).serialize(resourceMetrics)).toBe(expected);
    expect(count(expected, '\nditto_sync_peer_status{')).toBe(4 * c.peers);
    expect(count(expected, '# TYPE target_info gauge\n')).toBe(c.targetInfo ? 1 : 0);
    expect(expected.includes('otel_scope_name="ditto-sync-exporter"')).toBe(c.scopeLabels);
    if (c.peers > 0) expect(expected).toMatch(/^ditto_sync_commit_cloud_ack_seconds_count\S* 3$/m);
    if (c.appInstruments) expect(count(expected, '\nhost_request_duration_bucket{')).toBeGreaterThan(40 * 10);
  });

  it(`${name(c)}: render() serves exactly serializer.serialize(collect())`, async () => {
    const { body } = await built.backend.render('prometheus');
    expect(body).toBe(expected);
  });

  it(`${name(c)}: with the default budget, the same bytes`, async () => {
    expect(await built.backend.serializer.serialize(resourceMetrics)).toBe(expected);
  });

  it(`${name(c)}: cut into pieces of at most 7 lines with a yield after each, the same bytes`, async () => {
    const sliced = await built.backend.serializer.serialize(resourceMetrics, { linesPerPiece: 7, sliceMs: 0 });
    expect(sliced).toBe(expected);
  });

  it(`${name(c)}: one piece per data point, the same bytes`, async () => {
    expect(await built.backend.serializer.serialize(resourceMetrics, { linesPerPiece: 1, sliceMs: 0 })).toBe(expected);
  });
});

describe('sliced otel serialization hands the event loop back', () => {
  let built: Built;
  let resourceMetrics: ResourceMetrics;
  beforeAll(async () => {
    built = build({ peers: 5000, targetInfo: false, scopeLabels: false, appInstruments: false });
    resourceMetrics = await collect(built.backend);
  });
  afterAll(() => built?.exporter.close());

  /** Whether a setImmediate callback queued just before `run` started ran before `run` resolved. */
  async function immediateRanDuring(run: () => Promise<unknown>): Promise<boolean> {
    let ran = false;
    setImmediate(() => (ran = true));
    await run();
    return ran;
  }

  /** How many turns of the event loop passed while `run` was running. */
  async function turnsDuring(run: () => Promise<unknown>): Promise<number> {
    let turns = 0;
    let running = true;
    const turn = () => {
      if (!running) return;
      turns++;
      setImmediate(turn);
    };
    setImmediate(turn);
    await run();
    running = false;
    return turns;
  }

  it('at 5,000 peers: a callback queued before the serializer runs before it finishes', async () => {
    expect(await immediateRanDuring(() => built.backend.serializer.serialize(resourceMetrics))).toBe(true);
  });

  it('at 5,000 peers with a zero budget: the loop turns after every piece of ~256 lines, not just once', async () => {
    const lines = (await built.backend.serializer.serialize(resourceMetrics)).split('\n').length;
    expect(await turnsDuring(() => built.backend.serializer.serialize(resourceMetrics, { sliceMs: 0 }))).toBeGreaterThanOrEqual(Math.floor(lines / 256 / 2));
  });

  it('and not when the budget is never used up (the check above can fail)', async () => {
    expect(await immediateRanDuring(() => built.backend.serializer.serialize(resourceMetrics, { sliceMs: Infinity }))).toBe(false);
  });

  it('at 5,000 peers: render() as a whole yields too', async () => {
    expect(await immediateRanDuring(() => built.backend.render('prometheus'))).toBe(true);
  });
});

describe('sliced otel serialization of metrics the serializer leaves out', () => {
  /** A gauge with `points` data points; the serializer writes nothing for the names '' and '_'. */
  const gauge = (name: string, points: number): MetricData => ({
    descriptor: { name, description: `${name} help`, unit: '', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: Array.from({ length: points }, (_, i) => ({ startTime: [T0, 0], endTime: [T0, 0], attributes: { i: String(i) }, value: i })),
  });
  const scope = { name: 'hand-made' };

  it.each([false, true])('match the single call, alone and among others (target_info %s)', async (targetInfo) => {
    const { backend, exporter } = build({ peers: 0, targetInfo, scopeLabels: false, appInstruments: false });
    try {
      const { resource } = await collect(backend);
      const bodies: ResourceMetrics[] = [
        { resource, scopeMetrics: [{ scope, metrics: [gauge('', 20)] }] },
        { resource, scopeMetrics: [{ scope, metrics: [gauge('_', 20), gauge('', 3)] }] },
        { resource, scopeMetrics: [{ scope, metrics: [gauge('_', 20), gauge('kept_a', 20), gauge('', 5), gauge('kept_b', 1)] }] },
      ];
      for (const rm of bodies) {
        const expected = backend.serializer.whole.serialize(rm);
        for (const linesPerPiece of [1, 7, 256]) expect(await backend.serializer.serialize(rm, { linesPerPiece, sliceMs: 0 })).toBe(expected);
      }
      expect(backend.serializer.whole.serialize(bodies[0]!)).toMatch(/# no registered metrics$/);
      expect(backend.serializer.whole.serialize(bodies[2]!)).toContain('kept_a{i="19"} 19\n');
    } finally {
      await exporter.close();
    }
  });
});

describe('sliced otel serialization of a collection with no metrics', () => {
  it.each([false, true])('writes what the single call writes (target_info %s, then the placeholder)', async (targetInfo) => {
    const { backend, exporter } = build({ peers: 0, targetInfo, scopeLabels: false, appInstruments: false });
    try {
      const resourceMetrics = await collect(backend);
      for (const empty of [{ ...resourceMetrics, scopeMetrics: [] }, { ...resourceMetrics, scopeMetrics: [{ ...resourceMetrics.scopeMetrics[0]!, metrics: [] }] }]) {
        const expected = backend.serializer.whole.serialize(empty);
        expect(expected).toMatch(/# no registered metrics$/);
        expect(await backend.serializer.serialize(empty, { linesPerPiece: 1, sliceMs: 0 })).toBe(expected);
      }
    } finally {
      await exporter.close();
    }
  });
});
