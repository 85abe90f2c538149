/**
 * The fleet dashboard and rules: promtool tests that fail when a threshold moves, and every fleet
 * panel query, variable and rule against a real Prometheus scraping two fleet exporter shards that
 * read an emulator of the Ditto Server HTTP API (written from Ditto's specification; not the real
 * server). The emulated fleet is derived from captured SDK documents (see the emulator).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, JOB } from '../scripts/stack/config.js';
import { DEFAULT_FLEET_CONFIG, type FleetStackConfig } from '../scripts/stack/fleet-config.js';
import { rulesYaml } from '../scripts/stack/generate.js';
import { FLEET_RECORDS, fleetAlertRules, fleetRecordingRules } from '../scripts/stack/rules/fleet.js';
import { startCli, type RunningCli } from './helpers/cli.js';
import { DittoServerEmulator, deriveFleet } from './helpers/ditto-server-emulator.js';
import { haveBinary, run } from './helpers/tools.js';
import { panelQueries, variableSelectors } from './stack/dashboard-queries.js';
import { loadDashboards, loadRuleFiles, repoPath } from './stack/files.js';
import { api, query, startPrometheus, waitFor, type Started } from './stack/processes.js';

const promtool = haveBinary('promtool');
const prometheusInstalled = haveBinary('prometheus');
const fleetTests = readdirSync(repoPath('prometheus/tests')).filter((f) => f.startsWith('ditto-fleet-') && f.endsWith('.test.yml')).map((f) => repoPath('prometheus/tests', f));

describe.skipIf(!promtool)('fleet promtool tests are sharp', () => {
  const d = DEFAULT_FLEET_CONFIG;
  it.each([
    ['a longer inventory age', { ...d, sourceDown: { ...d.sourceDown, inventoryAge: 700 } }],
    ['a higher sync gap threshold', { ...d, syncGap: { ...d.syncGap, unackedAge: 1000 } }],
    ['a larger rise for silent devices', { ...d, silent: { ...d.silent, rise: 0.2 } }],
    ['a lower free-disk share', { ...d, disk: { ...d.disk, availRatio: 0.02 } }],
    ['a later for: on the disk alert', { ...d, disk: { ...d.disk, for: 1200 } }],
  ] as [string, FleetStackConfig][])('fail when the fleet rules are built with %s', (_what, config) => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-rules-'));
    try {
      mkdirSync(join(dir, 'rules'));
      mkdirSync(join(dir, 'tests'));
      writeFileSync(join(dir, 'rules/ditto-fleet-alerts.yml'), rulesYaml(fleetAlertRules(DEFAULT_CONFIG, config)));
      writeFileSync(join(dir, 'rules/ditto-fleet-recording.yml'), rulesYaml(fleetRecordingRules(DEFAULT_CONFIG)));
      for (const f of fleetTests) copyFileSync(f, join(dir, 'tests', basename(f)));
      const r = run('promtool', ['test', 'rules', ...fleetTests.map((f) => join(dir, 'tests', basename(f)))]);
      expect(r.status, r.stdout).not.toBe(0);
      expect(r.stdout + r.stderr).toContain('FAILED');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const fleetFiles = ({ file }: { file: string }) => /fleet/.test(file);

describe.skipIf(!prometheusInstalled)('the fleet dashboard and rules against a live Prometheus scraping two fleet shards', () => {
  let emu: DittoServerEmulator | undefined;
  const exporters: RunningCli[] = [];
  let prometheus: Started | undefined;
  const rules = loadRuleFiles().filter(fleetFiles).flatMap(({ doc }) => doc.groups.flatMap((g) => g.rules));
  const dashboards = loadDashboards().filter(fleetFiles);

  beforeAll(async () => {
    const now = Date.now() / 1000;
    emu = await new DittoServerEmulator({ keys: ['k'] }).start();
    // A healthy fleet: every device reported a minute ago with room on its disk; one has a commit
    // the cloud has not had for a minute (below every threshold), so the worst-gap table has a row.
    emu.setDocuments(
      deriveFleet(60, (i) => ({
        lastSeen: now - 60 - (i % 5 === 0 ? 7200 : 0),
        platform: i % 3 ? 'Android' : 'iOS',
        connections: { AccessPoint: null, Bluetooth: i % 2, P2PWiFi: null, WebSocket: 1 },
        beacon: { v: 1, at: now - 60, exporter_version: 'app-1.0', peers: 2, connected_peers: 2, cloud_servers: 1, cloud_servers_connected: 1, cloud_last_update_at: now - 61, local_commit_id: '9', cloud_synced_commit_id: i === 7 ? '8' : '9', unacked_commits: i === 7 ? 1 : 0, oldest_unacked_commit_at: i === 7 ? now - 120 : null, rows_unusable: 0 },
      })),
    );
    for (const shard of [0, 1]) {
      exporters.push(await startCli(['--source', 'fleet', '--fleet-url', emu.url, '--fleet-interval', '1', '--shard', String(shard), '--total-shards', '2', '--log-level', 'warn'], { env: { DITTO_EXPORTER_FLEET_API_KEY: 'k' } }));
    }
    prometheus = await startPrometheus({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: loadRuleFiles().filter(fleetFiles).map(({ file }) => repoPath(file)),
      scrape_configs: [{ job_name: JOB, static_configs: [{ targets: exporters.map((e) => `127.0.0.1:${e.port}`) }] }],
    });
    const p = prometheus.base;
    await waitFor(async () => {
      const r = await query(p, `count_over_time(ditto_fleet_up{job="${JOB}"}[1m]) >= 5 and rate(ditto_fleet_inventory_reads_total[1m]) > 0`);
      return r.data.result.length === 2 ? true : undefined;
    }, 30_000);
    await waitFor(async () => {
      const groups = (await api<{ groups: { rules: { health: string }[] }[] }>(p, '/api/v1/rules')).groups;
      return groups.length > 0 && groups.every((g) => g.rules.every((r) => r.health !== 'unknown')) ? true : undefined;
    }, 10_000);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    for (const e of exporters) await e.stop();
    await emu?.stop();
  });

  it('answers every fleet dashboard panel query with data', async () => {
    const queries = panelQueries(dashboards);
    expect(queries.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const q of queries) {
      const r = await query(prometheus!.base, q.expr);
      if (r.status !== 'success') problems.push(`${q.where}: ${r.error}\n  ${q.expr}`);
      else if (r.data.result.length === 0) problems.push(`${q.where}: no data\n  ${q.expr}`);
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('fills every fleet dashboard variable', async () => {
    for (const v of variableSelectors(dashboards)) {
      const values = await api<string[]>(prometheus!.base, `/api/v1/label/${v.label}/values?${new URLSearchParams({ 'match[]': v.expr })}`);
      expect(values.length, `${v.where}: ${v.expr}`).toBeGreaterThan(0);
    }
  });

  it('records fleet-wide shares from the two shards: they add up to the whole fleet', async () => {
    const devices = await query(prometheus!.base, FLEET_RECORDS.devices);
    expect(devices.data.result.map((s) => s.value[1])).toEqual(['60']);
    const notSeen = await query(prometheus!.base, `${FLEET_RECORDS.notSeenRatio}{older_than="1h"}`);
    expect(Number(notSeen.data.result[0]!.value[1])).toBeCloseTo(12 / 60, 5);
    for (const record of Object.values(FLEET_RECORDS)) {
      const r = await query(prometheus!.base, record);
      expect(r.data.result.length, record).toBeGreaterThan(0);
    }
  });

  it('loads every fleet rule healthy and raises no fleet alert condition on a healthy fleet', async () => {
    const loaded = (await api<{ groups: { rules: { name: string; health: string; lastError?: string }[] }[] }>(prometheus!.base, '/api/v1/rules')).groups.flatMap((g) => g.rules);
    expect(loaded).toHaveLength(rules.length);
    for (const r of loaded) expect({ rule: r.name, health: r.health, error: r.lastError ?? '' }).toEqual({ rule: r.name, health: 'ok', error: '' });
    for (const rule of rules.filter((r) => r.alert)) {
      const r = await query(prometheus!.base, rule.expr);
      expect(r.status, rule.alert).toBe('success');
      expect(r.data.result, `${rule.alert} matches a healthy fleet`).toEqual([]);
    }
  });

  it('shows a key revoked mid-run as DittoFleetSourceDown\'s condition', async () => {
    emu!.revoke('k');
    await waitFor(async () => ((await query(prometheus!.base, `max_over_time(ditto_fleet_up{job="${JOB}"}[3s]) == 0`)).data.result.length === 2 ? true : undefined), 20_000);
  });
});
