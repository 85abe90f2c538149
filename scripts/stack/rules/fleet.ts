/**
 * Alert and recording rules for the fleet families (--source fleet), built from the StackConfig
 * (job selector, gauge window, runbook) and the FleetStackConfig (thresholds). Committed as
 * prometheus/rules/ditto-fleet-*.yml. Why each threshold and window: docs/runbook.md.
 */
import { F } from '../../../src/catalogue/index.js';
import { duration, prose, type StackConfig } from '../config.js';
import { DEFAULT_FLEET_CONFIG, type FleetStackConfig } from '../fleet-config.js';
import { promql, series } from '../promql.js';
import type { AlertRule, RecordingRule, RuleFile } from './kit.js';

export const FLEET_ALERT_NAMES = ['DittoFleetSourceDown', 'DittoFleetDeviceSyncGapGrowing', 'DittoFleetDevicesSilent', 'DittoFleetDeviceDiskAlmostFull'] as const;
export type FleetAlertName = (typeof FLEET_ALERT_NAMES)[number];

/** Recorded names, shared by the alerts, the dashboard and the tests. */
export const FLEET_RECORDS = Object.freeze({
  devices: `job:${F.fleetDevices.name}:sum`,
  notSeenRatio: `job:${F.fleetDevicesNotSeen.name}:ratio`,
  sdkRatio: `job_sdk_platform_sdk_version:${F.fleetDevices.name}:ratio`,
  beaconRatio: `job_beacon:${F.fleetBeaconDevices.name}:ratio`,
});

export function fleetAlertRules(c: StackConfig, f: FleetStackConfig = DEFAULT_FLEET_CONFIG): RuleFile<AlertRule> {
  const m = (name: string, ...extra: string[]) => series(name, c.selector, ...extra);
  const w = duration(c.gaugeWindow);
  const runbook = (alert: FleetAlertName) => `${c.runbookUrl}#${alert.toLowerCase()}`;
  const report = F.fleetDeviceHealthReport.name;
  const ratio24h = m(FLEET_RECORDS.notSeenRatio, 'older_than="24h"');

  const rules: AlertRule[] = [
    {
      alert: 'DittoFleetSourceDown',
      // The age first: where both hold (a refused key leaves the inventory ageing), $value is the age.
      expr: promql`
        min_over_time(${m(F.fleetInventoryAge.name)}[${w}]) > ${f.sourceDown.inventoryAge}
        or
        max_over_time(${m(F.fleetUp.name)}[${w}]) == 0
      `,
      for: duration(f.sourceDown.for),
      labels: { severity: 'warning' },
      annotations: {
        summary: 'The fleet exporter {{ $labels.instance }} cannot read the device inventory from the Ditto Server.',
        description:
          `For ${prose(c.gaugeWindow + f.sourceDown.for)}, {{ $labels.instance }} (job {{ $labels.job }}) has had no successful read of __small_peer_info ` +
          `(ditto_fleet_up 0), or its last complete inventory is older than ${prose(f.sourceDown.inventoryAge)}. Its fleet metrics describe the fleet as it was then; ` +
          `the other fleet alerts may be wrong meanwhile. Inventory age: {{ $value | humanizeDuration }} (0s when only ditto_fleet_up tripped).`,
        runbook_url: runbook('DittoFleetSourceDown'),
      },
    },
    {
      alert: 'DittoFleetDeviceSyncGapGrowing',
      // The beacon's own clock: how old the oldest unacked commit was at the device's latest report
      // (both from one report; last_over_time bridges a lost scrape). A commit acked since leaves the
      // oldest-unacked series out, which the window would bridge too: the device's own count of 0
      // waiting commits ends the alert at once. An unusable count does not silence it.
      expr: promql`
        (
          last_over_time(${m(report)}[${w}])
          -
          last_over_time(${m(F.fleetDeviceOldestUnacked.name)}[${w}])
        ) > ${f.syncGap.unackedAge}
        and
        time() - max_over_time(${m(report)}[${w}]) < ${f.syncGap.reportingWithin}
        unless on (job, instance, device_id)
        last_over_time(${m(F.fleetDeviceCloudUnacked.name)}[${w}]) == 0
      `,
      for: duration(f.syncGap.for),
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Device {{ $labels.device_id }} keeps reporting writes the Ditto cloud does not have.',
        description:
          `Device {{ $labels.device_id }} (fleet exporter {{ $labels.instance }}) still publishes its sync health, and every report for ` +
          `${prose(f.syncGap.for)} has said that its oldest local commit the cloud has not received is older than ${prose(f.syncGap.unackedAge)}: ` +
          `{{ $value | humanizeDuration }} at its latest report. The device is alive but its writes are not reaching the cloud.`,
        runbook_url: runbook('DittoFleetDeviceSyncGapGrowing'),
      },
    },
    {
      alert: 'DittoFleetDevicesSilent',
      expr: promql`
        (
          min_over_time(${ratio24h}[${w}])
          -
          max_over_time(${ratio24h}[${w}] offset ${duration(f.silent.since)})
        ) > ${f.silent.rise}
        and on (job)
        min_over_time(${m(FLEET_RECORDS.devices)}[${w}]) >= ${f.silent.minDevices}
        and on (job)
        min by (job) (min_over_time(${m(F.fleetUp.name)}[${w}])) == 1
      `,
      for: duration(f.silent.for),
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Many more devices of {{ $labels.job }} have gone silent for a day.',
        description:
          `The share of devices in {{ $labels.job }} whose __small_peer_info document is more than a day old rose by at least {{ $value | humanizePercentage }} ` +
          `(more than ${Math.round(f.silent.rise * 100)} points) within ${prose(f.silent.since)}, while the fleet exporters read the inventory without trouble. ` +
          `Devices stopped reaching the Ditto Server a day ago: an app release, a network or an auth change.`,
        runbook_url: runbook('DittoFleetDevicesSilent'),
      },
    },
    {
      alert: 'DittoFleetDeviceDiskAlmostFull',
      expr: promql`
        max_over_time(${m(F.fleetDeviceFsAvail.name)}[${w}])
          /
        max_over_time(${m(F.fleetDeviceFsSize.name)}[${w}])
          < ${f.disk.availRatio}
        and
        time() - max_over_time(${m(F.fleetDeviceLastSeen.name)}[${w}]) < ${f.disk.seenWithin}
      `,
      for: duration(f.disk.for),
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Device {{ $labels.device_id }} is running out of disk.',
        description:
          `Device {{ $labels.device_id }} (fleet exporter {{ $labels.instance }}) reports only {{ $value | humanizePercentage }} of its file system free ` +
          `(below ${Math.round(f.disk.availRatio * 100)} %) for ${prose(c.gaugeWindow + f.disk.for)}. When it fills, Ditto cannot write and sync stops on that device.`,
        runbook_url: runbook('DittoFleetDeviceDiskAlmostFull'),
      },
    },
  ];
  return { groups: [{ name: 'ditto-fleet.alerts', rules }] };
}

/** Fleet shares per job: the shards of one job add up to the whole fleet. */
export function fleetRecordingRules(c: StackConfig): RuleFile<RecordingRule> {
  const m = (name: string, ...extra: string[]) => series(name, c.selector, ...extra);
  const devices = `sum by (job) (${m(F.fleetDevices.name)})`;
  const rules: RecordingRule[] = [
    { record: FLEET_RECORDS.devices, expr: devices },
    {
      record: FLEET_RECORDS.notSeenRatio,
      expr: `sum by (job, older_than) (${m(F.fleetDevicesNotSeen.name)}) / on (job) group_left () (${devices} > 0)`,
    },
    {
      record: FLEET_RECORDS.sdkRatio,
      expr: `sum by (job, sdk_platform, sdk_version) (${m(F.fleetDevices.name)}) / on (job) group_left () (${devices} > 0)`,
    },
    {
      record: FLEET_RECORDS.beaconRatio,
      expr: `sum by (job, beacon) (${m(F.fleetBeaconDevices.name)}) / on (job) group_left () (${devices} > 0)`,
    },
  ];
  return { groups: [{ name: 'ditto-fleet.recording', rules }] };
}
