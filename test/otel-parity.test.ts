import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAMILIES, sampleNames } from '../src/catalogue/index.js';
import { OTEL_SCOPE } from '../src/backends/otel-producer.js';
import { makeExporter, metadataLines, parseSamples, SCENARIO, serve, seriesMap, T0, type Served, TestSource, BIG_COMMIT } from './otel-support.js';

const SCRAPE_AT = T0 + 40;
/** The one series where the backends must differ: the info family names the backend. */
const sameBackend = (body: string) => body.replace('backend="prom-client"', 'backend="otel"');

async function scenarioServer(backend: 'prom-client' | 'otel', otel?: { targetInfo?: boolean; scopeLabels?: boolean }): Promise<Served> {
  const source = new TestSource();
  const exporter = makeExporter(backend, { source, otel: { serviceInstanceId: 'peer-under-test', ...otel } });
  for (const tick of SCENARIO) exporter.state.ingest(tick);
  source.clock = SCRAPE_AT;
  return serve(exporter);
}

const havePromtool = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).status === 0;
if (!havePromtool) {
  if (process.env['CI']) throw new Error('promtool is missing in CI: install Debian package prometheus');
  console.warn('SKIPPED: promtool (Debian package prometheus) is not installed; the promtool check of the OTel output did not run');
}

describe('prom-client and otel backends serve the same ditto_sync_* series', () => {
  let prom: Served;
  let otel: Served;
  let otelWithAdditions: Served;
  let promBody: string;
  let otelBody: string;
  let additionsBody: string;

  beforeAll(async () => {
    [prom, otel, otelWithAdditions] = await Promise.all([
      scenarioServer('prom-client'),
      scenarioServer('otel'),
      scenarioServer('otel', { targetInfo: true, scopeLabels: true }),
    ]);
    const [a, b, c] = await Promise.all([prom.scrape(), otel.scrape(), otelWithAdditions.scrape()]);
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    expect(b.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    promBody = a.body;
    otelBody = b.body;
    additionsBody = c.body;
  });
  afterAll(async () => {
    await Promise.all([prom?.close(), otel?.close(), otelWithAdditions?.close()]);
  });

  it('has the same series, labels and values (float64, as Prometheus stores them), the info family naming its backend', () => {
    const expected = seriesMap(parseSamples(sameBackend(promBody)));
    const actual = seriesMap(parseSamples(otelBody));
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));
  });

  it('covers the scenario: several peers, cloud rows, an acked histogram and a commit id beyond 2^53', () => {
    const series = seriesMap(parseSamples(otelBody));
    const peers = new Set(parseSamples(otelBody).flatMap((s) => (s.labels['peer_id'] ? [s.labels['peer_id']] : [])));
    expect([...peers].sort()).toEqual(['cloud-1', 'cloud-2', 'device-a', 'device-b', 'device-c']);
    expect(series.get('ditto_sync_commit_cloud_ack_seconds_count{}')).toBe(5);
    expect(series.get('ditto_sync_commit_cloud_ack_seconds_bucket{le="10"}')).toBe(4);
    expect(series.get('ditto_sync_commit_cloud_ack_seconds_bucket{le="+Inf"}')).toBe(5);
    expect(series.get('ditto_sync_commit_cloud_ack_seconds_sum{}')).toBe(10 + 10 + 8 + 26 + 10);
    expect(series.get('ditto_sync_local_commit_id{}')).toBe(Number(BIG_COMMIT));
    expect(series.get('ditto_sync_observer_errors_total{}')).toBe(1);
    expect(series.get('ditto_sync_tracked_commits_total{}')).toBe(5);
    // The latest snapshot has no duplicate row; the first one had: a gauge, not a count of ticks.
    expect(series.get('ditto_sync_rows_unusable{reason="duplicate_id"}')).toBe(0);
  });

  it('has the same HELP and TYPE for every family', () => {
    expect(metadataLines(otelBody)).toEqual(metadataLines(promBody));
  });

  it('adds nothing by default: no target_info, no scope labels, no other family, no other comment', () => {
    const names = new Set(parseSamples(otelBody).map((s) => s.name));
    const allowed = new Set(FAMILIES.flatMap(sampleNames));
    expect([...names].filter((n) => !allowed.has(n))).toEqual([]);
    expect(otelBody).not.toMatch(/otel_scope_/);
    expect(otelBody.split('\n').filter((l) => l.startsWith('#') && !/^# (HELP|TYPE) /.test(l))).toEqual([]);
  });

  it('with targetInfo and scopeLabels, adds exactly target_info and the two scope labels', () => {
    const samples = parseSamples(additionsBody);
    const targetInfo = samples.filter((s) => s.name === 'target_info');
    expect(targetInfo).toHaveLength(1);
    expect(targetInfo[0]!.labels).toMatchObject({ service_name: 'ditto-sync-exporter', service_instance_id: 'peer-under-test' });
    const ditto = samples.filter((s) => s.name !== 'target_info');
    for (const s of ditto) expect(s.labels).toMatchObject({ otel_scope_name: OTEL_SCOPE.name, otel_scope_version: OTEL_SCOPE.version });
    const stripped = ditto.map((s) => {
      const { otel_scope_name: _n, otel_scope_version: _v, ...labels } = s.labels;
      return { ...s, labels };
    });
    expect(Object.fromEntries(seriesMap(stripped))).toEqual(Object.fromEntries(seriesMap(parseSamples(sameBackend(promBody)))));
  });

  it.skipIf(!havePromtool)('passes promtool check metrics', () => {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: otelBody, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
