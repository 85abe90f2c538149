/**
 * The fleet dashboard and rules against a real Prometheus scraping fleet exporters that read
 * emulators of the Ditto Server HTTP API (written from Ditto's specification; not the real server),
 * with fleets derived from captured SDK documents (see the emulator).
 *
 * Two fleets, each a job of its own (a fleet is a job: the fleet-wide rules add its shards up):
 * - healthy (job ditto-sync, two shards): every panel, variable and recorded share, and every
 *   committed fleet rule loaded healthy;
 * - unhealthy (one exporter): a device with a stuck commit, a device with a nearly full disk, and,
 *   half a minute in, half the fleet gone silent for a day; then its key is revoked.
 * The committed alerts need hours of history (DittoFleetDevicesSilent compares with 6 hours ago), so
 * whether they hold is judged with the same rules built with windows of seconds (SHORT_FLEET_WINDOWS):
 * each one must hold for the unhealthy fleet, and none for the healthy one at any second once every
 * window could.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, JOB, type StackConfig } from '../scripts/stack/config.js';
import { rulesYaml } from '../scripts/stack/generate.js';
import { FLEET_ALERT_NAMES, FLEET_RECORDS, fleetAlertRules, fleetRecordingRules } from '../scripts/stack/rules/fleet.js';
import { startCli, type RunningCli } from './helpers/cli.js';
import { DittoServerEmulator, deriveFleet, deviceId, type DerivedDevice } from './helpers/ditto-server-emulator.js';
import { haveBinary } from './helpers/tools.js';
import { panelQueries, variableSelectors } from './stack/dashboard-queries.js';
import { loadDashboards, loadRuleFiles, repoPath } from './stack/files.js';
import { api, query, queryRange, startPrometheus, tempDir, unansweredQueries, waitFor, type Started } from './stack/processes.js';
import { SHORT_FLEET_WINDOWS, SHORT_WINDOWS } from './stack/short-windows.js';

const prometheusInstalled = haveBinary('prometheus');

const UNHEALTHY_JOB = `${JOB}-unhealthy`;
/** The short rules select both fleets' jobs; the committed ones only JOB. */
const SHORT: StackConfig = { ...SHORT_WINDOWS, selector: `job=~"${JOB}|${UNHEALTHY_JOB}"` };
const w = SHORT.gaugeWindow;
const f = SHORT_FLEET_WINDOWS;

/** Seconds of scraping after which every short fleet alert could hold: the silent-devices comparison reaches `since` back, a window wide. */
const SETTLE_SECONDS = f.silent.since + w + 5;

const fleetFiles = ({ file }: { file: string }) => /fleet/.test(file);

interface LoadedGroup {
  file: string;
  rules: { name: string; health: string; lastError?: string }[];
}

describe.skipIf(!prometheusInstalled)('the fleet dashboard and rules against a live Prometheus scraping a healthy and an unhealthy fleet', () => {
  let healthyEmu: DittoServerEmulator | undefined;
  let unhealthyEmu: DittoServerEmulator | undefined;
  const healthy: RunningCli[] = [];
  let unhealthy: RunningCli | undefined;
  let prometheus: Started | undefined;
  let rulesDir: string | undefined;
  let scrapingSince = 0;
  let startedAt = 0;
  const committedRules = loadRuleFiles().filter(fleetFiles);
  const rules = committedRules.flatMap(({ doc }) => doc.groups.flatMap((g) => g.rules));
  const dashboards = loadDashboards().filter(fleetFiles);
  const instance = (cli: RunningCli) => `127.0.0.1:${cli.port}`;

  /** The unhealthy fleet: 20 devices reporting a minute ago; device 0 holds a commit the cloud has lacked for an hour, device 1 has under 2 % of its disk free. */
  const STUCK = deviceId(0);
  const FULL = deviceId(1);
  const unhealthyFleet = (silentShare: number) =>
    deriveFleet(20, (i): DerivedDevice => ({
      lastSeen: startedAt - 60 - (i >= 20 - silentShare * 20 ? 2 * 86_400 : 0),
      beacon: {
        v: 1, at: startedAt - 60, exporter_version: 'app-1.0', peers: 1, connected_peers: 0, cloud_servers: 1, cloud_servers_connected: 0, cloud_last_update_at: startedAt - 3700,
        local_commit_id: '40', cloud_synced_commit_id: i === 0 ? '37' : '40', unacked_commits: i === 0 ? 3 : 0, oldest_unacked_commit_at: i === 0 ? startedAt - 3660 : null, rows_unusable: 0,
      },
      ...(i === 1 ? { availBytes: 5_000_000_000 } : {}),
    }));

  beforeAll(async () => {
    startedAt = Date.now() / 1000;
    const now = startedAt;
    healthyEmu = await new DittoServerEmulator({ keys: ['k'] }).start();
    // A healthy fleet: every device reported a minute ago with room on its disk; one has a commit
    // the cloud has not had for a minute (below every threshold), so the worst-gap table has a row.
    healthyEmu.setDocuments(
      deriveFleet(60, (i) => ({
        lastSeen: now - 60 - (i % 5 === 0 ? 7200 : 0),
        platform: i % 3 ? 'Android' : 'iOS',
        connections: { AccessPoint: null, Bluetooth: i % 2, P2PWiFi: null, WebSocket: 1 },
        beacon: { v: 1, at: now - 60, exporter_version: 'app-1.0', peers: 2, connected_peers: 2, cloud_servers: 1, cloud_servers_connected: 1, cloud_last_update_at: now - 61, local_commit_id: '9', cloud_synced_commit_id: i === 7 ? '8' : '9', unacked_commits: i === 7 ? 1 : 0, oldest_unacked_commit_at: i === 7 ? now - 120 : null, rows_unusable: 0 },
      })),
    );
    // One device of twenty silent for a day (5 %), until the test silences half the fleet.
    unhealthyEmu = await new DittoServerEmulator({ keys: ['u'] }).start();
    unhealthyEmu.setDocuments(unhealthyFleet(0.05));
    const fleetArgs = (url: string) => ['--source', 'fleet', '--fleet-url', url, '--fleet-interval', '1', '--log-level', 'warn'];
    for (const shard of [0, 1]) {
      healthy.push(await startCli([...fleetArgs(healthyEmu.url), '--shard', String(shard), '--total-shards', '2'], { env: { DITTO_EXPORTER_FLEET_API_KEY: 'k' } }));
    }
    // --log-level error: the revoked key below is logged as an error, expectedly.
    unhealthy = await startCli([...fleetArgs(unhealthyEmu.url).slice(0, -2), '--log-level', 'error'], { env: { DITTO_EXPORTER_FLEET_API_KEY: 'u' } });
    // The recorded fleet shares the short rules read, for the unhealthy job (the committed file records JOB's).
    rulesDir = tempDir('fleet-rules');
    const unhealthyRecording = join(rulesDir, 'unhealthy-recording.yml');
    writeFileSync(unhealthyRecording, rulesYaml(fleetRecordingRules({ ...DEFAULT_CONFIG, selector: `job="${UNHEALTHY_JOB}"` })));
    scrapingSince = Math.floor(Date.now() / 1000);
    prometheus = await startPrometheus({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [...committedRules.map(({ file }) => repoPath(file)), unhealthyRecording],
      scrape_configs: [
        { job_name: JOB, static_configs: [{ targets: healthy.map(instance) }] },
        { job_name: UNHEALTHY_JOB, static_configs: [{ targets: [instance(unhealthy)] }] },
      ],
    });
    const p = prometheus.base;
    await waitFor(async () => {
      const r = await query(p, `count_over_time(ditto_fleet_up[1m]) >= 5 and rate(ditto_fleet_inventory_reads_total[1m]) > 0`);
      return r.data.result.length === 3 ? true : undefined;
    }, 30_000);
    await waitFor(async () => {
      const groups = (await api<{ groups: LoadedGroup[] }>(p, '/api/v1/rules')).groups;
      return groups.length > 0 && groups.every((g) => g.rules.every((r) => r.health !== 'unknown')) ? true : undefined;
    }, 10_000);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    for (const e of healthy) await e.stop();
    await unhealthy?.stop();
    await healthyEmu?.stop();
    await unhealthyEmu?.stop();
  });

  it('answers every fleet dashboard panel query with data', async () => {
    const queries = panelQueries(dashboards);
    expect(queries.length).toBeGreaterThan(10);
    const problems = await unansweredQueries(prometheus!.base, queries);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('fills every fleet dashboard variable', async () => {
    for (const v of variableSelectors(dashboards)) {
      const values = await api<string[]>(prometheus!.base, `/api/v1/label/${v.label}/values?${new URLSearchParams({ 'match[]': v.expr })}`);
      expect(values.length, `${v.where}: ${v.expr}`).toBeGreaterThan(0);
    }
  });

  it('records fleet-wide shares from the two shards: they add up to the whole fleet', async () => {
    const devices = await query(prometheus!.base, `${FLEET_RECORDS.devices}{job="${JOB}"}`);
    expect(devices.data.result.map((s) => s.value[1])).toEqual(['60']);
    const notSeen = await query(prometheus!.base, `${FLEET_RECORDS.notSeenRatio}{job="${JOB}", older_than="1h"}`);
    expect(Number(notSeen.data.result[0]!.value[1])).toBeCloseTo(12 / 60, 5);
    for (const record of Object.values(FLEET_RECORDS)) {
      const r = await query(prometheus!.base, `${record}{job="${JOB}"}`);
      expect(r.data.result.length, record).toBeGreaterThan(0);
    }
  });

  it('loads every committed fleet rule and reports each one healthy', async () => {
    const committed = new Set(committedRules.map(({ file }) => repoPath(file)));
    const loaded = (await api<{ groups: LoadedGroup[] }>(prometheus!.base, '/api/v1/rules')).groups.filter((g) => committed.has(g.file)).flatMap((g) => g.rules);
    expect(loaded).toHaveLength(rules.length);
    for (const r of loaded) expect({ rule: r.name, health: r.health, error: r.lastError ?? '' }).toEqual({ rule: r.name, health: 'ok', error: '' });
  });

  it('holds each fleet alert, built with short windows, for the unhealthy fleet when it should, and none for the healthy fleet', async () => {
    const p = prometheus!.base;
    const exprs = fleetAlertRules(SHORT, f).groups.flatMap((g) => g.rules.map((r) => [r.alert, r.expr] as const));
    expect(exprs.map(([name]) => name)).toEqual([...FLEET_ALERT_NAMES]);
    /** Who an alert expression holds for at `at`: job, instance and device where the alert has them. */
    const holdingFor = async (expr: string, at: number) => {
      const r = await query(p, expr, at);
      if (r.status !== 'success') throw new Error(`${expr}: ${r.error}`);
      return r.data.result.map((s) => [s.metric['job'], s.metric['instance'], s.metric['device_id']].filter(Boolean).join(' ')).sort();
    };
    const holdingAt = async (at: number) => Object.fromEntries(await Promise.all(exprs.map(async ([name, expr]) => [name, await holdingFor(expr, at)] as const)));
    const silentExpr = exprs.find(([name]) => name === 'DittoFleetDevicesSilent')![1];
    const sourceDownExpr = exprs.find(([name]) => name === 'DittoFleetSourceDown')![1];
    const u = instance(unhealthy!);

    // 1. Half the unhealthy fleet goes silent for a day, once the comparison window (since ago) has
    //    a full window of the 5 % before it. The rise holds from a window after the change until
    //    the change itself is `since` old: find an instant inside that (bounded wait).
    await waitFor(() => (Date.now() / 1000 >= scrapingSince + f.silent.since + w + 2 ? true : undefined), 90_000, 250);
    unhealthyEmu!.setDocuments(unhealthyFleet(0.5));
    const first = await waitFor(async () => {
      const at = Date.now() / 1000 - 1;
      return (await holdingFor(silentExpr, at)).includes(UNHEALTHY_JOB) ? at : undefined;
    }, 30_000, 1_000);
    expect(await holdingAt(first)).toEqual({
      DittoFleetSourceDown: [],
      DittoFleetDeviceSyncGapGrowing: [`${UNHEALTHY_JOB} ${u} ${STUCK}`],
      DittoFleetDevicesSilent: [UNHEALTHY_JOB],
      DittoFleetDeviceDiskAlmostFull: [`${UNHEALTHY_JOB} ${u} ${FULL}`],
    });

    // 2. Its key is revoked: every read fails. The exporter keeps serving the last inventory, so the
    //    per-device conditions still hold (which is why Alertmanager holds them back while
    //    DittoFleetSourceDown fires), and the silent-devices gate closes.
    unhealthyEmu!.revoke('u');
    const second = await waitFor(async () => {
      const at = Date.now() / 1000 - 1;
      return (await holdingFor(sourceDownExpr, at)).includes(`${UNHEALTHY_JOB} ${u}`) ? at : undefined;
    }, 30_000, 1_000);
    expect(await holdingAt(second)).toEqual({
      DittoFleetSourceDown: [`${UNHEALTHY_JOB} ${u}`],
      DittoFleetDeviceSyncGapGrowing: [`${UNHEALTHY_JOB} ${u} ${STUCK}`],
      DittoFleetDevicesSilent: [],
      DittoFleetDeviceDiskAlmostFull: [`${UNHEALTHY_JOB} ${u} ${FULL}`],
    });

    // 3. At every second from when every window could hold until now, nothing held for the healthy
    //    fleet; and its silent-devices comparison had data (a rise of 0), so it was silent because
    //    nothing rose, not because 30 s ago was empty.
    const from = scrapingSince + SETTLE_SECONDS;
    expect(second).toBeGreaterThan(from);
    const problems: string[] = [];
    for (const [name, expr] of exprs) {
      for (const series of await queryRange(p, expr, from, Math.floor(second), 1)) {
        if (series.metric['job'] === JOB) problems.push(`${name} held for the healthy fleet (${JSON.stringify(series.metric)}) at ${series.values.map(([t]) => t).join(', ')}`);
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
    // The parenthesised rise, `(min now - max since ago)`, the part of the rule before its threshold.
    const rise = silentExpr.slice(0, silentExpr.indexOf(`) > ${f.silent.rise}`) + 1);
    const ofJob = (await queryRange(p, rise, from, Math.floor(second), 1)).filter((s) => s.metric['job'] === JOB);
    expect(ofJob.length, `the rise for ${JOB}: ${rise}`).toBe(1);
    expect(ofJob[0]!.values.length).toBeGreaterThan((Math.floor(second) - from) / 2);
    for (const [, v] of ofJob[0]!.values) expect(Number(v)).toBe(0);
  }, 150_000);
});
