import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { MISNAMED_DEFAULT_METRICS, type SyncExporter } from '../src/exporter.js';
import { parseSamples, sampleMap } from './helpers/exposition.js';
import { replayed } from './helpers/replay-exporter.js';

// An application's registry, as it would set it up: default labels, its process metrics, its own
// counter. The exporter's families must carry the default labels the same way everywhere, and the
// exporter must take nothing out of a registry it did not make.

let exporter: SyncExporter | undefined;
afterEach(async () => {
  await exporter?.close();
  exporter = undefined;
});

function appRegistry(): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app: 'shop' });
  collectDefaultMetrics({ register: registry });
  new Counter({ name: 'shop_orders_total', help: 'Orders.', registers: [registry] }).inc(3);
  return registry;
}

const ditto = (text: string) => new Map([...sampleMap(text)].filter(([k]) => k.startsWith('ditto_')));

describe("a registry's default labels", () => {
  it.each(['prometheus', 'openmetrics'] as const)('reach every sample of /metrics (%s): the exporter families, process metrics and the app’s own', async (format) => {
    const registry = appRegistry();
    exporter = await replayed(undefined, { registry });
    const samples = parseSamples((await exporter.scrape(format)).body);
    const names = new Set(samples.map((s) => s.name));
    // The families that matter are all there (so "every sample" covers them).
    for (const name of ['ditto_sync_up', 'ditto_sync_peer_status', 'ditto_sync_commit_cloud_ack_seconds_bucket', 'process_cpu_user_seconds_total', 'shop_orders_total']) expect(names).toContain(name);
    expect(samples.filter((s) => s.labels['app'] !== 'shop').map((s) => s.name)).toEqual([]);
  });

  it('give the exporter families the same series in registry.metrics() as on /metrics', async () => {
    const registry = appRegistry();
    exporter = await replayed(undefined, { registry });
    const served = ditto((await exporter.scrape('prometheus')).body);
    const own = ditto(await registry.metrics());
    expect(served.size).toBeGreaterThan(20);
    expect([...own.keys()].sort()).toEqual([...served.keys()].sort());
    for (const [k, s] of served) expect(own.get(k)!.value, k).toBe(s.value);
    expect(served.get('ditto_sync_up{app="shop"}')?.value).toBe(1);
  });
});

describe('a registry the exporter did not create', () => {
  it('keeps every metric the application put in it, prom-client’s misnamed process gauges included, also after close()', async () => {
    const registry = appRegistry();
    const before = registry.getMetricsAsArray().map((m) => m.name);
    for (const name of MISNAMED_DEFAULT_METRICS) expect(before).toContain(name);
    exporter = await replayed(undefined, { registry });
    const served = new Set(parseSamples((await exporter.scrape('prometheus')).body).map((s) => s.name));
    for (const name of [...MISNAMED_DEFAULT_METRICS, 'shop_orders_total', 'ditto_sync_up']) expect(served).toContain(name);
    await exporter.close();
    exporter = undefined;
    expect(registry.getMetricsAsArray().map((m) => m.name)).toEqual(before);
  });

  it('keeps the misnamed gauges when asked to add the process metrics to it', async () => {
    const registry = new Registry();
    exporter = await replayed(undefined, { registry, collectDefaultMetrics: true });
    const names = registry.getMetricsAsArray().map((m) => m.name);
    expect(names).toContain('process_cpu_user_seconds_total');
    for (const name of MISNAMED_DEFAULT_METRICS) expect(names).toContain(name);
  });

  it('while a registry the exporter made itself leaves those gauges out (promtool rejects a gauge named _total)', async () => {
    exporter = await replayed(undefined, { collectDefaultMetrics: true });
    const served = new Set(parseSamples((await exporter.scrape('prometheus')).body).map((s) => s.name));
    expect(served).toContain('process_cpu_user_seconds_total');
    for (const name of MISNAMED_DEFAULT_METRICS) expect(served).not.toContain(name);
  });
});
