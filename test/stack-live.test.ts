/**
 * The shipped dashboards and rules against the real exporter and a real Prometheus: the CLI runs a
 * simulated mesh, Prometheus scrapes it every second with the committed rules loaded, and every
 * dashboard query and rule expression goes through the Prometheus HTTP API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB } from '../scripts/stack/config.js';
import { startCli, type RunningCli } from './helpers/cli.js';
import { haveBinary } from './helpers/tools.js';
import { panelQueries, variableSelectors } from './stack/dashboard-queries.js';
import { loadDashboards as allDashboards, loadRuleFiles as allRuleFiles, repoPath } from './stack/files.js';
import { api, query, startPrometheus, waitFor, type Started } from './stack/processes.js';

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

describe.skipIf(!prometheusInstalled)('dashboards and rules against a live Prometheus scraping the simulated exporter', () => {
  let exporter: RunningCli | undefined;
  let prometheus: Started | undefined;
  const rules = loadRuleFiles().flatMap(({ doc }) => doc.groups.flatMap((g) => g.rules));

  beforeAll(async () => {
    // Defaults: every contract family has data; the scripted outage (after 120 s) stays outside this test.
    exporter = await startCli(['--source', 'simulate', '--log-level', 'warn']);
    prometheus = await startPrometheus({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: loadRuleFiles().map(({ file }) => repoPath(file)),
      scrape_configs: [{ job_name: JOB, static_configs: [{ targets: [`127.0.0.1:${exporter.port}`] }] }],
    });
    const p = prometheus.base;
    // Enough scrapes for rate() over the histogram, and every rule group evaluated since.
    await waitFor(async () => {
      const r = await query(p, `count_over_time(ditto_sync_up{job="${JOB}"}[1m]) >= 5 and rate(ditto_sync_commit_cloud_ack_seconds_count[1m]) > 0`);
      return r.data.result.length > 0 ? true : undefined;
    }, 30_000);
    await waitFor(async () => {
      const groups = (await api<{ groups: { lastEvaluation: string; rules: RuleState[] }[] }>(p, '/api/v1/rules')).groups;
      return groups.length > 0 && groups.every((g) => g.rules.every((r) => r.health !== 'unknown')) ? true : undefined;
    }, 10_000);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await exporter?.stop();
  });

  it('scrapes the exporter successfully', async () => {
    const up = await query(prometheus!.base, `up{job="${JOB}"}`);
    expect(up.data.result.map((s) => s.value[1])).toEqual(['1']);
  });

  it('answers every dashboard panel query with data', async () => {
    const queries = panelQueries(loadDashboards());
    expect(queries.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const q of queries) {
      const r = await query(prometheus!.base, q.expr);
      if (r.status !== 'success') problems.push(`${q.where}: ${r.error}\n  ${q.expr}`);
      else if (r.data.result.length === 0) problems.push(`${q.where}: no data\n  ${q.expr}`);
    }
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
    expect(transports.data.result.map((s) => s.metric['transport']).sort()).toEqual(['access_point', 'bluetooth', 'multicast', 'other', 'p2p_wifi', 'web_socket']);
    const storage = await query(prometheus!.base, byTitle('ditto-sync-device', 'Ditto storage by component'));
    expect(storage.data.result.map((s) => s.metric['component']).sort()).toEqual(['attachments', 'auth', 'replication', 'store', 'total']);
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

  it('raises no alert condition on a healthy simulated mesh', async () => {
    for (const rule of rules.filter((r) => r.alert)) {
      const r = await query(prometheus!.base, rule.expr);
      expect(r.data.result, `${rule.alert} matches a healthy mesh`).toEqual([]);
    }
  });
});
