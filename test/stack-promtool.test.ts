import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type StackConfig } from '../scripts/stack/config.js';
import { rulesYaml } from '../scripts/stack/generate.js';
import { alertRules, fleetAlertRules, fleetRecordingRules, recordingRules } from '../scripts/stack/rules/index.js';
import { repoPath } from './stack/files.js';
import { haveBinary, run } from './helpers/tools.js';

// In CI a missing binary throws here and fails this file; locally it skips with a warning.
const promtool = haveBinary('promtool');
const amtool = haveBinary('amtool');

const ruleFiles = readdirSync(repoPath('prometheus/rules')).filter((f) => f.endsWith('.yml')).map((f) => repoPath('prometheus/rules', f));
const testFiles = readdirSync(repoPath('prometheus/tests')).filter((f) => f.endsWith('.test.yml')).map((f) => repoPath('prometheus/tests', f));

const ok = (r: { status: number; stdout: string; stderr: string }) => expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);

describe.skipIf(!promtool)('promtool', () => {
  it('check config: prometheus.yml and the rule files it loads', () => {
    const r = run('promtool', ['check', 'config', repoPath('prometheus/prometheus.yml')]);
    ok(r);
    expect(r.stdout).toMatch(new RegExp(`SUCCESS: ${ruleFiles.length} rule files found`));
  });

  it('check rules', () => ok(run('promtool', ['check', 'rules', ...ruleFiles])));

  it('test rules: every alert fires and stays silent where it should, recording rules compute the right values', () => {
    expect(testFiles.length).toBeGreaterThan(0);
    ok(run('promtool', ['test', 'rules', ...testFiles]));
  });
});

describe.skipIf(!amtool)('amtool', () => {
  it('check-config alertmanager.yml', () => {
    const r = run('amtool', ['check-config', repoPath('prometheus/alertmanager.yml')]);
    ok(r);
    expect(r.stdout).toContain('SUCCESS');
  });
});

/** Runs the committed promtool tests against rule files given as text, in a temporary copy of prometheus/. */
function promtoolTestWith(alerts: string, recording: string, config: StackConfig = DEFAULT_CONFIG): { status: number; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ditto-rules-'));
  try {
    mkdirSync(join(dir, 'rules'));
    mkdirSync(join(dir, 'tests'));
    writeFileSync(join(dir, 'rules/ditto-sync-alerts.yml'), alerts);
    writeFileSync(join(dir, 'rules/ditto-sync-recording.yml'), recording);
    // The fleet test files load these too; without them every run would fail, sharp or not.
    writeFileSync(join(dir, 'rules/ditto-fleet-alerts.yml'), rulesYaml(fleetAlertRules(config)));
    writeFileSync(join(dir, 'rules/ditto-fleet-recording.yml'), rulesYaml(fleetRecordingRules(config)));
    for (const f of testFiles) copyFileSync(f, join(dir, 'tests', basename(f)));
    return run('promtool', ['test', 'rules', ...testFiles.map((f) => join(dir, 'tests', basename(f)))]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `text` with `from` replaced by `to`; throws when `from` is not there, so a mutation cannot silently do nothing. */
function mutate(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`mutation target not found: ${from}`);
  return text.split(from).join(to);
}

const failsWith = (r: { status: number; stdout: string; stderr: string }, caseName: string) => {
  expect(r.status, r.stdout).not.toBe(0);
  expect(r.stdout + r.stderr).toContain('FAILED');
  expect(r.stdout + r.stderr, 'the case that should catch this change').toContain(caseName);
};

describe.skipIf(!promtool)('promtool tests are sharp', () => {
  it.each([
    ['a later for:', { cloudGap: { ...DEFAULT_CONFIG.cloudGap, for: 360 } }, 'DittoCloudSyncGapGrowing fires when a tracked commit keeps waiting for the cloud'],
    ['a higher gap threshold', { cloudGap: { ...DEFAULT_CONFIG.cloudGap, unackedAge: 360 } }, 'DittoCloudSyncGapGrowing fires when a tracked commit keeps waiting for the cloud'],
    ['a shorter peer silence', { peerStale: { ...DEFAULT_CONFIG.peerStale, silence: 300 } }, 'DittoPeerSyncStale fires for a Connected peer'],
    ['a later unusable-rows for:', { rowsUnusable: { for: 660 } }, 'DittoSyncRowsUnusable fires per unusable field'],
    ['a lower free-space threshold', { deviceDisk: { ...DEFAULT_CONFIG.deviceDisk, freePercent: 7 } }, 'DittoDeviceDiskFillingUp fires when less than 10 % is free'],
    ['the disk prediction on roomy disks too', { deviceDisk: { ...DEFAULT_CONFIG.deviceDisk, predictBelowPercent: 100 } }, 'DittoDeviceDiskFillingUp stays silent on a roomy disk'],
  ])('fail when the rules are built with %s', (_what, change, caseName) => {
    const config: StackConfig = { ...DEFAULT_CONFIG, ...change };
    failsWith(promtoolTestWith(rulesYaml(alertRules(config)), rulesYaml(recordingRules(config)), config), caseName);
  });

  const alerts = rulesYaml(alertRules(DEFAULT_CONFIG));
  const recording = rulesYaml(recordingRules(DEFAULT_CONFIG));
  const up = 'last_over_time(ditto_sync_up{job="ditto-sync"}[5m]) == 1';
  it.each([
    ['without the ditto_sync_up gate', up, 'last_over_time(ditto_sync_up{job="ditto-sync"}[5m]) >= 0', 'even if "connected" peers were served frozen'],
    ['without rows of unknown type arming the gap alert', 'peer_type="unknown"', 'peer_type="none"', 'every row has an unusable is_ditto_server'],
    ['without rows left out arming the gap alert', 'reason!="duplicate_id"', 'reason="none"', 'every row is left out while commits age'],
    ['with a repeated _id arming the gap alert', 'reason!="duplicate_id"', 'reason=~".+"', 'a repeated _id on a peer-to-peer-only device'],
    [
      'without the rising-lag branch of the gap alert',
      'min_over_time(ditto_sync_cloud_seconds_since_last_update{job="ditto-sync"}[5m]) > 300',
      'min_over_time(ditto_sync_cloud_seconds_since_last_update{job="ditto-sync"}[5m]) > Inf',
      'keeps firing through an app restart',
    ],
    ['with the cloud gate always open', 'max_over_time(ditto_sync_cloud_servers{job="ditto-sync"}[10m]) > 0', 'max_over_time(ditto_sync_cloud_servers{job="ditto-sync"}[10m]) >= 0', 'peer-to-peer-only device without cloud rows'],
    ['with a counter reset counted as drops', 'increase(ditto_sync_tracked_commits_dropped_total', 'changes(ditto_sync_tracked_commits_dropped_total', 'across an exporter restart'],
  ])('fail when the alert rules are %s', (_what, from, to, caseName) => {
    failsWith(promtoolTestWith(mutate(alerts, from, to), recording), caseName);
  });

  it('fail when Disabled sessions count in the worst commit lag', () => {
    const unfiltered = mutate(recording, ' unless on (job, instance, peer_id, peer_type) (ditto_sync_peer_status{job="ditto-sync", status="disabled"} == 1)', '');
    failsWith(promtoolTestWith(alerts, unfiltered), 'expr: "instance_peer_type:ditto_sync_peer_commit_lag:max"');
  });
});
