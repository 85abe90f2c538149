import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type StackConfig } from '../scripts/stack/config.js';
import { DEFAULT_FLEET_CONFIG, type FleetStackConfig } from '../scripts/stack/fleet-config.js';
import { repoPath } from './stack/files.js';
import { failsWith, mutate, mutateAlert, promtoolTestWith, ruleTexts } from './stack/rule-mutations.js';
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

describe.skipIf(!promtool)('promtool tests are sharp: each change to a rule fails the case meant to catch it', () => {
  const d = DEFAULT_CONFIG;
  it.each([
    ['a later for:', { cloudGap: { ...d.cloudGap, for: 360 } }, 'DittoCloudSyncGapGrowing fires when a tracked commit keeps waiting for the cloud'],
    ['a higher gap threshold', { cloudGap: { ...d.cloudGap, unackedAge: 360 } }, 'DittoCloudSyncGapGrowing fires when a tracked commit keeps waiting for the cloud'],
    ['a shorter peer silence', { peerStale: { ...d.peerStale, silence: 300 } }, 'DittoPeerSyncStale fires for a Connected peer'],
    ['a later unusable-rows for:', { rowsUnusable: { for: 660 } }, 'DittoSyncRowsUnusable fires per unusable field'],
    ['a later no-cloud for:', { noCloudServer: { for: 360 } }, 'DittoNoCloudServerConnected fires when cloud rows exist but none is Connected'],
    ['a later stalled-observer for:', { observerStalled: { ...d.observerStalled, for: 360 } }, 'DittoSyncObserverStalled fires when the source is down before its first snapshot'],
    ['a later exporter-down for:', { exporterDown: { for: 360 } }, 'DittoSyncExporterDown fires when scrapes keep failing'],
    ['a lower free-space threshold', { deviceDisk: { ...d.deviceDisk, freePercent: 7 } }, 'DittoDeviceDiskFillingUp fires when less than 10 % is free'],
    ['the disk prediction on roomy disks too', { deviceDisk: { ...d.deviceDisk, predictBelowPercent: 100 } }, 'DittoDeviceDiskFillingUp stays silent on a roomy disk'],
    ['a longer disk horizon', { deviceDisk: { ...d.deviceDisk, horizon: 3 * 86_400 } }, 'DittoDeviceDiskFillingUp stays silent on a fairly full disk that fills more slowly'],
    ['a later disk for:', { deviceDisk: { ...d.deviceDisk, for: 2400 } }, 'DittoDeviceDiskFillingUp fires when less than 10 % is free'],
    ['a later storage for:', { deviceStorage: { for: 900 } }, 'DittoDeviceStorageUnreadable fires when every read of system:system_info fails'],
  ] as [string, Partial<StackConfig>, string][])('fail when the rules are built with %s', (_what, change, caseName) => {
    failsWith(promtoolTestWith(ruleTexts({ ...d, ...change })), caseName);
  });

  const f = DEFAULT_FLEET_CONFIG;
  it.each([
    ['a longer inventory age', { sourceDown: { ...f.sourceDown, inventoryAge: 700 } }, 'DittoFleetSourceDown fires when the inventory stops being renewed'],
    ['a later for: on the source alert', { sourceDown: { ...f.sourceDown, for: 360 } }, 'DittoFleetSourceDown fires when every inventory read fails'],
    ['a higher sync gap threshold', { syncGap: { ...f.syncGap, unackedAge: 1000 } }, 'DittoFleetDeviceSyncGapGrowing fires when a device keeps reporting'],
    ['a lower sync gap threshold', { syncGap: { ...f.syncGap, unackedAge: 250 } }, 'DittoFleetDeviceSyncGapGrowing stays silent while the cloud keeps up'],
    ['a longer reporting bound', { syncGap: { ...f.syncGap, reportingWithin: 3600 } }, 'DittoFleetDeviceSyncGapGrowing stays silent once the device stops reporting'],
    ['a later for: on the sync gap alert', { syncGap: { ...f.syncGap, for: 660 } }, 'DittoFleetDeviceSyncGapGrowing fires when a device keeps reporting'],
    ['a larger rise for silent devices', { silent: { ...f.silent, rise: 0.2 } }, 'DittoFleetDevicesSilent fires when the share of devices not seen for a day jumps'],
    ['a smaller rise for silent devices', { silent: { ...f.silent, rise: 0.02 } }, 'DittoFleetDevicesSilent stays silent while devices drift away slowly'],
    ['a smaller smallest fleet', { silent: { ...f.silent, minDevices: 5 } }, 'DittoFleetDevicesSilent stays silent on a fleet too small'],
    ['a lower free-disk share', { disk: { ...f.disk, availRatio: 0.02 } }, 'DittoFleetDeviceDiskAlmostFull fires when a device that keeps reporting has 3 %'],
    ['a higher free-disk share', { disk: { ...f.disk, availRatio: 0.12 } }, 'DittoFleetDeviceDiskAlmostFull stays silent with 10 % free'],
    ['a longer seen-within bound on the disk alert', { disk: { ...f.disk, seenWithin: 200_000 } }, 'DittoFleetDeviceDiskAlmostFull stays silent for a device not seen for over a day'],
    ['a later for: on the disk alert', { disk: { ...f.disk, for: 1200 } }, 'DittoFleetDeviceDiskAlmostFull fires when a device that keeps reporting has 3 %'],
  ] as [string, Partial<FleetStackConfig>, string][])('fail when the fleet rules are built with %s', (_what, change, caseName) => {
    failsWith(promtoolTestWith(ruleTexts(DEFAULT_CONFIG, { ...f, ...change })), caseName);
  });

  const texts = ruleTexts();
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
    failsWith(promtoolTestWith({ ...texts, alerts: mutate(texts.alerts, from, to) }), caseName);
  });

  // One part of one rule taken out (or loosened); the key says which rule file.
  it.each([
    ['DittoCloudSyncGapGrowing on one old unacked commit in the window', 'alerts', 'DittoCloudSyncGapGrowing', 'min_over_time(ditto_sync_cloud_oldest_unacked_commit_age_seconds', 'max_over_time(ditto_sync_cloud_oldest_unacked_commit_age_seconds', 'DittoCloudSyncGapGrowing stays silent through a 12-minute cloud outage'],
    [
      'DittoNoCloudServerConnected without cloud rows to arm it',
      'alerts', 'DittoNoCloudServerConnected', 'max_over_time(ditto_sync_cloud_servers{job="ditto-sync"}[5m]) > 0', 'max_over_time(ditto_sync_cloud_servers{job="ditto-sync"}[5m]) >= 0',
      'DittoNoCloudServerConnected stays silent without cloud rows',
    ],
    ['DittoNoCloudServerConnected on one disconnected scrape', 'alerts', 'DittoNoCloudServerConnected', 'max_over_time(ditto_sync_cloud_servers_connected', 'min_over_time(ditto_sync_cloud_servers_connected', 'DittoNoCloudServerConnected stays silent through a 3-minute disconnect'],
    ['DittoPeerSyncStale without a lag above 0', 'alerts', 'DittoPeerSyncStale', 'min_over_time(ditto_sync_peer_commit_lag{job="ditto-sync"}[10m]) > 0', 'min_over_time(ditto_sync_peer_commit_lag{job="ditto-sync"}[10m]) >= 0', 'DittoPeerSyncStale stays silent on a quiet mesh'],
    ['DittoPeerSyncStale on a synced commit id that moves', 'alerts', 'DittoPeerSyncStale', 'changes(ditto_sync_peer_synced_commit_id{job="ditto-sync"}[10m]) == 0', 'changes(ditto_sync_peer_synced_commit_id{job="ditto-sync"}[10m]) >= 0', 'DittoPeerSyncStale stays silent for a busy peer that keeps receiving'],
    [
      'DittoPeerSyncStale for peers that are not Connected',
      'alerts', 'DittoPeerSyncStale', 'min_over_time(ditto_sync_peer_status{job="ditto-sync", status="connected"}[10m]) == 1', 'min_over_time(ditto_sync_peer_status{job="ditto-sync", status="connected"}[10m]) >= 0',
      'DittoPeerSyncStale stays silent for a peer that is not Connected',
    ],
    ['DittoSyncRowsUnusable on one bad snapshot in the window', 'alerts', 'DittoSyncRowsUnusable', 'min_over_time(ditto_sync_fields_unusable', 'max_over_time(ditto_sync_fields_unusable', 'DittoSyncRowsUnusable stays silent through a 12-minute shape surprise'],
    ['DittoSyncObserverStalled on one failed read in the window', 'alerts', 'DittoSyncObserverStalled', 'max_over_time(ditto_sync_up', 'min_over_time(ditto_sync_up', 'DittoSyncObserverStalled stays silent through a short failed read'],
    ['DittoSyncExporterDown on one lost scrape in the window', 'alerts', 'DittoSyncExporterDown', 'max_over_time(up{job="ditto-sync"}[5m]) == 0', 'min_over_time(up{job="ditto-sync"}[5m]) == 0', 'DittoSyncExporterDown stays silent through one lost scrape'],
    [
      'DittoDeviceDiskFillingUp without its storage gate (it would judge the last figures of a source that went down)',
      'alerts', 'DittoDeviceDiskFillingUp', 'last_over_time(ditto_device_storage_up{job="ditto-sync"}[5m]) == 1', 'last_over_time(ditto_device_storage_up{job="ditto-sync"}[5m]) >= 0',
      'DittoDeviceDiskFillingUp stays silent once the storage figures are left out',
    ],
    [
      'DittoDeviceDiskFillingUp without its prediction (free share alone)',
      'alerts', 'DittoDeviceDiskFillingUp', 'predict_linear(ditto_device_filesystem_avail_bytes{job="ditto-sync"}[6h], 86400) < 0', 'predict_linear(ditto_device_filesystem_avail_bytes{job="ditto-sync"}[6h], 86400) < Inf',
      'DittoDeviceDiskFillingUp stays silent while space is being freed again',
    ],
    ['DittoDeviceStorageUnreadable without its ditto_sync_up gate', 'alerts', 'DittoDeviceStorageUnreadable', up, 'last_over_time(ditto_sync_up{job="ditto-sync"}[5m]) >= 0', 'DittoDeviceStorageUnreadable stays silent while the source is down'],
    [
      'DittoDeviceStorageUnreadable on any failed read of the window',
      'alerts', 'DittoDeviceStorageUnreadable', 'max_over_time(ditto_device_storage_up', 'min_over_time(ditto_device_storage_up',
      'DittoDeviceStorageUnreadable stays silent through eight minutes of failed reads',
    ],
    [
      'DittoDeviceStorageUnreadable on any read that lacks a figure',
      'alerts', 'DittoDeviceStorageUnreadable', 'min_over_time(ditto_device_storage_values_unusable', 'max_over_time(ditto_device_storage_values_unusable',
      'DittoDeviceStorageUnreadable stays silent through eight minutes of failed reads',
    ],
    ['DittoFleetSourceDown on any failed read of the window', 'fleetAlerts', 'DittoFleetSourceDown', 'max_over_time(ditto_fleet_up', 'min_over_time(ditto_fleet_up', 'DittoFleetSourceDown stays silent through two failed reads and one slow read'],
    [
      'DittoFleetSourceDown on one slow read',
      'fleetAlerts', 'DittoFleetSourceDown', 'min_over_time(ditto_fleet_inventory_age_seconds', 'max_over_time(ditto_fleet_inventory_age_seconds',
      'DittoFleetSourceDown stays silent through two failed reads and one slow read',
    ],
    [
      'DittoFleetSourceDown giving 0 for $value where the inventory age is known (ditto_fleet_up first)',
      'fleetAlerts', 'DittoFleetSourceDown',
      'min_over_time(ditto_fleet_inventory_age_seconds{job="ditto-sync"}[5m]) > 600',
      'max_over_time(ditto_fleet_up{job="ditto-sync"}[5m]) == 0 or min_over_time(ditto_fleet_inventory_age_seconds{job="ditto-sync"}[5m]) > 600',
      'DittoFleetSourceDown fires when every inventory read fails, and then gives the inventory\'s age',
    ],
    [
      'DittoFleetDeviceSyncGapGrowing without the device\'s own count of waiting commits (the last oldest-unacked time lingers in the window)',
      'fleetAlerts', 'DittoFleetDeviceSyncGapGrowing', 'last_over_time(ditto_fleet_device_cloud_unacked_commits{job="ditto-sync"}[5m]) == 0', 'last_over_time(ditto_fleet_device_cloud_unacked_commits{job="ditto-sync"}[5m]) < 0',
      'DittoFleetDeviceSyncGapGrowing resolves at the first report after the cloud received everything',
    ],
    [
      'DittoFleetDeviceSyncGapGrowing judging the earliest report of the window against the latest oldest-unacked time',
      'fleetAlerts', 'DittoFleetDeviceSyncGapGrowing', 'last_over_time(ditto_fleet_device_health_report_timestamp_seconds', 'min_over_time(ditto_fleet_device_health_report_timestamp_seconds',
      'DittoFleetDeviceSyncGapGrowing fires for a backlog that moves',
    ],
    [
      'DittoFleetDevicesSilent without its ditto_fleet_up gate',
      'fleetAlerts', 'DittoFleetDevicesSilent', 'min by (job) (min_over_time(ditto_fleet_up{job="ditto-sync"}[5m])) == 1', 'min by (job) (min_over_time(ditto_fleet_up{job="ditto-sync"}[5m])) >= 0',
      'DittoFleetDevicesSilent stays silent while a fleet exporter cannot read the inventory',
    ],
  ] as [string, keyof typeof texts, string, string, string, string][])('fail with %s', (_what, file, alert, from, to, caseName) => {
    failsWith(promtoolTestWith({ ...texts, [file]: mutateAlert(texts[file], alert, from, to) }), caseName);
  });

  it('fail when Disabled sessions count in the worst commit lag', () => {
    const unfiltered = mutate(texts.recording, ' unless on (job, instance, peer_id, peer_type) (ditto_sync_peer_status{job="ditto-sync", status="disabled"} == 1)', '');
    failsWith(promtoolTestWith({ ...texts, recording: unfiltered }), 'expr: "instance_peer_type:ditto_sync_peer_commit_lag:max"');
  });
});
