/**
 * The shipped dashboards and rules against the real exporter and a real Prometheus: two CLIs run
 * simulated meshes, one healthy and one whose cloud goes away 3 s after start; Prometheus scrapes both
 * every second with the committed rules loaded, and every dashboard query and rule expression goes
 * through the Prometheus HTTP API. The committed alerts need minutes of history, so whether they hold
 * is judged with the same rules built with windows of seconds (SHORT_WINDOWS).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB } from '../scripts/stack/config.js';
import { ALERT_NAMES, alertRules } from '../scripts/stack/rules/index.js';
import { startCli, type RunningCli } from './helpers/cli.js';
import { haveBinary } from './helpers/tools.js';
import { panelQueries, variableSelectors } from './stack/dashboard-queries.js';
import { loadDashboards as allDashboards, loadRuleFiles as allRuleFiles, repoPath } from './stack/files.js';
import { api, query, queryRange, startPrometheus, unansweredQueries, waitFor, type Started } from './stack/processes.js';
import { SHORT_WINDOWS } from './stack/short-windows.js';

const prometheusInstalled = haveBinary('prometheus');

// The fleet dashboard and rules need a fleet exporter: test/fleet-stack.test.ts checks them live.
const notFleet = ({ file }: { file: string }) => !/fleet/.test(file);
const loadDashboards = () => allDashboards().filter(notFleet);
const loadRuleFiles = () => allRuleFiles().filter(notFleet);

interface RuleState {
  name: string;
  type: 'alerting' | 'recording';
  query: string;
  health: string;
  lastError?: string;
  lastEvaluation: string;
}

/** The alerts expected to hold for the mesh whose cloud went away; none may hold for the healthy one. */
const OUTAGE_ALERTS = ['DittoCloudSyncGapGrowing', 'DittoNoCloudServerConnected'];

/**
 * Seconds of scraping after which every SHORT_WINDOWS alert could hold: its longest chain of windows
 * and thresholds (the gap alert's lag branch reads three gauge windows back), plus a margin. Judged
 * any earlier, "nothing holds for the healthy mesh" could not fail.
 */
const c = SHORT_WINDOWS;
const SETTLE_SECONDS =
  Math.max(3 * c.gaugeWindow, c.peerStale.silence + c.gaugeWindow, c.peerStale.lagWindow, c.cloudGap.cloudRowsWindow, c.observerStalled.snapshotAge + c.gaugeWindow) + 5;

describe.skipIf(!prometheusInstalled)('dashboards and rules against a live Prometheus scraping the simulated exporter', () => {
  let healthy: RunningCli | undefined;
  let outage: RunningCli | undefined;
  let prometheus: Started | undefined;
  /** Unix seconds just before the first scrape could happen. */
  let scrapingSince = 0;
  const rules = loadRuleFiles().flatMap(({ doc }) => doc.groups.flatMap((g) => g.rules));
  const instance = (cli: RunningCli | undefined) => `127.0.0.1:${cli!.port}`;

  beforeAll(async () => {
    // Defaults: every contract family has data. The healthy mesh has no outage at all; the other
    // loses its cloud 3 s after start for longer than the test runs.
    healthy = await startCli(['--source', 'simulate', '--simulate-outage-duration', '0', '--log-level', 'warn']);
    outage = await startCli(['--source', 'simulate', '--simulate-outage-after', '3', '--simulate-outage-duration', '3600', '--log-level', 'warn']);
    scrapingSince = Math.floor(Date.now() / 1000);
    prometheus = await startPrometheus({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: loadRuleFiles().map(({ file }) => repoPath(file)),
      scrape_configs: [{ job_name: JOB, static_configs: [{ targets: [instance(healthy), instance(outage)] }] }],
    });
    const p = prometheus.base;
    // Enough scrapes for rate() over the histogram, and every rule group evaluated since.
    await waitFor(async () => {
      const r = await query(p, `count_over_time(ditto_sync_up{job="${JOB}", instance="${instance(healthy)}"}[1m]) >= 5 and rate(ditto_sync_commit_cloud_ack_seconds_count[1m]) > 0`);
      return r.data.result.length > 0 ? true : undefined;
    }, 60_000);
    await waitFor(async () => {
      const groups = (await api<{ groups: { lastEvaluation: string; rules: RuleState[] }[] }>(p, '/api/v1/rules')).groups;
      return groups.length > 0 && groups.every((g) => g.rules.every((r) => r.health !== 'unknown')) ? true : undefined;
    }, 30_000);
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await healthy?.stop();
    await outage?.stop();
  });

  it('scrapes both exporters successfully', async () => {
    const up = await query(prometheus!.base, `up{job="${JOB}"}`);
    expect(up.data.result.map((s) => [s.metric['instance'], s.value[1]]).sort()).toEqual([[instance(healthy), '1'], [instance(outage), '1']].sort());
  });

  it('answers every dashboard panel query with data', async () => {
    const queries = panelQueries(loadDashboards());
    expect(queries.length).toBeGreaterThan(20);
    const problems = await unansweredQueries(prometheus!.base, queries);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('names the per-peer panels by device name, and shows every transport and storage component (simulated presence and storage)', async () => {
    const queries = panelQueries(loadDashboards());
    const byTitle = (uid: string, title: string) => queries.find((q) => q.where.startsWith(`${uid} / ${title} /`))!.expr;
    const lag = await query(prometheus!.base, byTitle('ditto-sync-peers', 'Synced commit id per peer'));
    const names = lag.data.result.map((s) => [s.metric['peer_type'], s.metric['device_name'] ?? '']);
    expect(names.some(([type, name]) => type === 'device' && name !== '')).toBe(true);
    expect(names.filter(([type]) => type === 'cloud').every(([, name]) => name === '')).toBe(true);
    const transports = await query(prometheus!.base, byTitle('ditto-sync-device', 'Connections by transport'));
    // Two exporters: each transport and component once per instance.
    expect([...new Set(transports.data.result.map((s) => s.metric['transport']))].sort()).toEqual(['access_point', 'bluetooth', 'multicast', 'other', 'p2p_wifi', 'web_socket']);
    const storage = await query(prometheus!.base, byTitle('ditto-sync-device', 'Ditto storage by component'));
    expect([...new Set(storage.data.result.map((s) => s.metric['component']))].sort()).toEqual(['attachments', 'auth', 'replication', 'store', 'total']);
  });

  it('fills every dashboard variable with values', async () => {
    const problems: string[] = [];
    for (const v of variableSelectors(loadDashboards())) {
      const values = await api<string[]>(prometheus!.base, `/api/v1/label/${v.label}/values?${new URLSearchParams({ 'match[]': v.expr })}`);
      if (values.length === 0) problems.push(`${v.where}: no ${v.label} values for ${v.expr}`);
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('evaluates every rule expression without error', async () => {
    const problems: string[] = [];
    for (const rule of rules) {
      const r = await query(prometheus!.base, rule.expr);
      if (r.status !== 'success') problems.push(`${rule.alert ?? rule.record}: ${r.error}`);
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('loads every rule and reports each one healthy after evaluating it', async () => {
    const loaded = (await api<{ groups: { rules: RuleState[] }[] }>(prometheus!.base, '/api/v1/rules')).groups.flatMap((g) => g.rules);
    expect(loaded).toHaveLength(rules.length);
    for (const r of loaded) expect({ rule: r.name, health: r.health, error: r.lastError ?? '' }).toEqual({ rule: r.name, health: 'ok', error: '' });
  });

  it('records every recording rule from the simulated mesh', async () => {
    const problems: string[] = [];
    for (const record of new Set(rules.flatMap((r) => (r.record ? [r.record] : [])))) {
      const r = await query(prometheus!.base, record);
      if (r.data.result.length === 0) problems.push(`${record}: no series`);
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('holds the cloud alerts, built with short windows, for the mesh without its cloud, and no alert for the healthy mesh', async () => {
    const p = prometheus!.base;
    const exprs = alertRules(SHORT_WINDOWS).groups.flatMap((g) => g.rules.map((r) => [r.alert, r.expr] as const));
    expect(exprs.map(([name]) => name).sort()).toEqual([...ALERT_NAMES].sort());
    const holdingFor = async (expr: string, at: number) => {
      const r = await query(p, expr, at);
      if (r.status !== 'success') throw new Error(`${expr}: ${r.error}`);
      return r.data.result.map((s) => s.metric['instance'] ?? '(no instance)').sort();
    };
    // First the proof that these expressions can hold against this exporter's real series (labels,
    // joins on ditto_sync_up): the outage mesh trips the cloud alerts, within a bounded wait.
    const at = await waitFor(async () => {
      const now = Date.now() / 1000;
      if (now < scrapingSince + SETTLE_SECONDS) return undefined;
      for (const name of OUTAGE_ALERTS) if (!(await holdingFor(exprs.find(([n]) => n === name)![1], now)).includes(instance(outage))) return undefined;
      return now;
    }, 90_000, 1_000);
    // Then one instant for every alert: exactly the outage alerts, for the outage mesh only.
    const holding: Record<string, string[]> = {};
    for (const [name, expr] of exprs) holding[name] = await holdingFor(expr, at);
    const expected = Object.fromEntries(exprs.map(([name]) => [name, OUTAGE_ALERTS.includes(name) ? [instance(outage)] : []]));
    expect(holding).toEqual(expected);
    // And at every second since scraping began, nothing held for the healthy mesh.
    const problems: string[] = [];
    for (const [name, expr] of exprs) {
      for (const series of await queryRange(p, expr, scrapingSince, Math.ceil(at), 1)) {
        if (series.metric['instance'] === instance(healthy)) problems.push(`${name} held for the healthy mesh at ${series.values.map(([t]) => t).join(', ')}`);
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  }, 150_000);
});
