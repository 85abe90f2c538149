import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeExporter, parseSamples, row, serve, seriesMap, T0, TestSource, type Served } from './otel-support.js';

const BEFORE = {
  readAt: T0,
  commits: [{ id: 10n, at: T0 - 1 }],
  rows: [
    row('cloud-1', { cloud: true, synced: 10, lastUpdate: T0 - 1 }),
    row('device-stays', { synced: 9, lastUpdate: T0 - 2 }),
    row('device-goes', { status: 'Not Connected', synced: 5, lastUpdate: T0 - 3 }),
  ],
};
// device-goes has left; the cloud session is gone too; device-stays lost its last-update time.
const AFTER = { readAt: T0 + 5, rows: [row('device-stays', { synced: 10 })] };

const peerIds = (body: string) => new Set(parseSamples(body).flatMap((s) => (s.labels['peer_id'] ? [s.labels['peer_id']] : [])));

describe.each(['prom-client', 'otel'] as const)('%s backend: vanished peers vanish at the next scrape', (backend) => {
  let served: Served;
  let source: TestSource;
  let before: string;
  let after: string;

  beforeAll(async () => {
    source = new TestSource();
    const exporter = makeExporter(backend, { source });
    served = await serve(exporter);
    exporter.state.ingest(BEFORE);
    source.clock = T0 + 1;
    before = (await served.scrape()).body;
    exporter.state.ingest(AFTER);
    source.clock = T0 + 6;
    after = (await served.scrape()).body;
  });
  afterAll(async () => served?.close());

  it('reports the peer while it is there', () => {
    expect(peerIds(before)).toEqual(new Set(['cloud-1', 'device-stays', 'device-goes']));
    expect(seriesMap(parseSamples(before)).get('ditto_sync_cloud_commit_lag{}')).toBe(0);
  });

  it('drops every series of the peer that left, and of the cloud row', () => {
    expect(peerIds(after)).toEqual(new Set(['device-stays']));
    expect(after).not.toMatch(/device-goes|cloud-1/);
  });

  it('drops a series whose value became unknown, and aggregates that need a cloud row', () => {
    const series = seriesMap(parseSamples(after));
    expect(series.has('ditto_sync_peer_last_update_timestamp_seconds{peer_id="device-stays",peer_type="device"}')).toBe(false);
    expect(series.has('ditto_sync_peer_seconds_since_last_update{peer_id="device-stays",peer_type="device"}')).toBe(false);
    expect(series.get('ditto_sync_peer_synced_commit_id{peer_id="device-stays",peer_type="device"}')).toBe(10);
    expect(series.has('ditto_sync_cloud_commit_lag{}')).toBe(false);
    expect(series.has('ditto_sync_cloud_seconds_since_last_update{}')).toBe(false);
    expect(series.get('ditto_sync_cloud_servers{}')).toBe(0);
  });
});

/**
 * Why the otel backend builds its points in a MetricProducer rather than observable instruments:
 * in the released SDK an attribute set observed once keeps being exported under cumulative
 * temporality (open-telemetry/opentelemetry-js#4096). If this test fails after an upgrade, the
 * upstream bug is fixed and docs/opentelemetry.md should say so.
 */
describe('upstream: @opentelemetry/sdk-metrics observable instruments (opentelemetry-js#4096)', () => {
  class PullReader extends MetricReader {
    protected async onForceFlush(): Promise<void> {}
    protected async onShutdown(): Promise<void> {}
  }

  it('keep exporting an attribute set the callback no longer reports', async () => {
    const reader = new PullReader();
    const provider = new MeterProvider({ readers: [reader] });
    const gauge = provider.getMeter('trap').createObservableGauge('ditto_sync_peer_commit_lag');
    let peers = ['device-stays', 'device-goes'];
    gauge.addCallback((result) => {
      for (const peer_id of peers) result.observe(1, { peer_id });
    });
    const observedPeers = async () => {
      const { resourceMetrics } = await reader.collect();
      return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.flatMap((m) => m.dataPoints.map((p) => p.attributes['peer_id'])));
    };
    expect(await observedPeers()).toEqual(['device-stays', 'device-goes']);
    peers = ['device-stays'];
    expect(await observedPeers()).toEqual(['device-stays', 'device-goes']);
    await provider.shutdown();
  });
});
