import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { OtelBackend } from '../src/backends/otel.js';
import { captureLogger, makeExporter, parseSamples, row, serve, seriesMap, T0, TestSource, type Served } from './otel-support.js';

const GOOD_TICK = { readAt: T0, rows: [row('cloud-1', { cloud: true, synced: 3, lastUpdate: T0 })] };

const value = (body: string, name: string) => seriesMap(parseSamples(body), () => true).get(`${name}{}`);

describe('otel backend health', () => {
  const open: Served[] = [];
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  async function start() {
    const source = new TestSource();
    const logger = captureLogger();
    const exporter = makeExporter('otel', { source, logger });
    exporter.state.ingest(GOOD_TICK);
    const served = await serve(exporter);
    open.push(served);
    return { source, logger, exporter, served, backend: exporter.backend as OtelBackend };
  }

  it('answers 500 when collection fails, logs it, and counts it in ditto_sync_observer_errors_total', async () => {
    const { source, logger, served, backend } = await start();
    const ok = await served.scrape();
    expect(ok.status).toBe(200);
    expect(value(ok.body, 'ditto_sync_observer_errors_total')).toBe(0);

    source.failClock = true;
    const failed = await served.scrape();
    expect(failed.status).toBe(500);
    expect(failed.body).toBe('metrics collection failed\n');
    expect(backend.collectionFailures).toBe(1);
    expect(logger.errors).toHaveLength(1);
    expect(String(logger.errors[0]![1])).toMatch(/collecting OpenTelemetry metrics/);

    source.failClock = false;
    const recovered = await served.scrape();
    expect(recovered.status).toBe(200);
    expect(value(recovered.body, 'ditto_sync_observer_errors_total')).toBe(1);
    expect(value(recovered.body, 'ditto_sync_up')).toBe(1);
  });

  it('fails the scrape when an instrument the application added to the MeterProvider throws', async () => {
    const { served, backend } = await start();
    const gauge = backend.meterProvider.getMeter('app').createObservableGauge('app_queue_depth');
    let broken = true;
    gauge.addCallback((result) => {
      if (broken) throw new Error('queue unreachable');
      result.observe(4);
    });
    expect((await served.scrape()).status).toBe(500);
    broken = false;
    const ok = await served.scrape();
    expect(ok.status).toBe(200);
    expect(value(ok.body, 'app_queue_depth')).toBe(4);
    expect(value(ok.body, 'ditto_sync_observer_errors_total')).toBe(1);
  });

  it("OpenTelemetry's own request handler answers 200 on the same failure (why /metrics does not use it)", async () => {
    const { source, backend } = await start();
    const server = createServer((req, res) => backend.reader.getMetricsRequestHandler(req, res));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    source.failClock = true;
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^# failed to export metrics/);
  });

  it('ditto_sync_up tells the truth when the source fails or closes', async () => {
    const { source, exporter, served } = await start();
    expect(value((await served.scrape()).body, 'ditto_sync_up')).toBe(1);
    exporter.state.markDown();
    expect(value((await served.scrape()).body, 'ditto_sync_up')).toBe(0);
    exporter.state.ingest(GOOD_TICK);
    expect(value((await served.scrape()).body, 'ditto_sync_up')).toBe(1);
    source.open = false;
    const closed = await served.scrape();
    expect(closed.status).toBe(200);
    expect(value(closed.body, 'ditto_sync_up')).toBe(0);
  });

  it('serves Prometheus text even when OpenMetrics is asked for, with the matching content type', async () => {
    const { served } = await start();
    const res = await fetch(`${served.url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await res.text()).not.toMatch(/# EOF/);
  });
});
