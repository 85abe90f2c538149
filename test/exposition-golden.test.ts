import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncExporter } from '../src/exporter.js';
import { sampleMap } from './helpers/exposition.js';
import { replayed } from './helpers/replay-exporter.js';
import { haveBinary, run } from './helpers/tools.js';

const GOLDEN = {
  prometheus: new URL('./fixtures/golden/scenario.prom', import.meta.url).pathname,
  openmetrics: new URL('./fixtures/golden/scenario.om.txt', import.meta.url).pathname,
} as const;
const update = process.env['UPDATE_GOLDEN'] === '1';

describe('golden exposition of the replay scenario', () => {
  let exporter: SyncExporter;
  beforeAll(async () => {
    exporter = await replayed();
  });
  afterAll(() => exporter.close());

  for (const format of ['prometheus', 'openmetrics'] as const) {
    it(`matches ${format} byte for byte`, async () => {
      const { body } = await exporter.backend.render(format);
      if (update) writeFileSync(GOLDEN[format], body);
      expect(body).toBe(readFileSync(GOLDEN[format], 'utf8'));
    });
  }

  it('ends OpenMetrics with # EOF and names counter families without _total', async () => {
    const { body, contentType } = await exporter.backend.render('openmetrics');
    expect(contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(body.endsWith('# EOF\n')).toBe(true);
    expect(body).toContain('# TYPE ditto_sync_observer_ticks counter\n');
    expect(body).toContain('\nditto_sync_observer_ticks_total 2\n');
  });

  it('bridges the same samples into a prom-client registry, in both registry formats', async () => {
    const fast = sampleMap((await exporter.backend.render('prometheus')).body);
    const viaRegistry = sampleMap(await exporter.registry.metrics());
    expect([...viaRegistry.keys()].sort()).toEqual([...fast.keys()].sort());
    for (const [k, s] of fast) expect(viaRegistry.get(k)?.value, k).toBe(s.value);

    const om = new Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>();
    om.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const second = await replayed(undefined, { registry: om as unknown as Registry });
    try {
      const omSamples = sampleMap((await om.metrics()).replace(/# EOF\n$/, ''));
      expect([...omSamples.keys()].sort()).toEqual([...fast.keys()].sort());
      // A second render must not have renamed anything (prom-client renames counters in place).
      expect(sampleMap(await om.metrics()).size).toBe(fast.size);
    } finally {
      await second.close();
    }
  });
});

describe.runIf(haveBinary('promtool'))('promtool check metrics', () => {
  it('finds nothing to complain about, with process metrics included', async () => {
    const exporter = await replayed(undefined, { collectDefaultMetrics: true });
    try {
      const { body } = await exporter.backend.render('prometheus');
      const dir = mkdtempSync(join(tmpdir(), 'promtool-'));
      writeFileSync(join(dir, 'metrics.prom'), body);
      const result = run('promtool', ['check', 'metrics'], body);
      expect(result.stderr + result.stdout).toBe('');
      expect(result.status).toBe(0);
    } finally {
      await exporter.close();
    }
  });
});
