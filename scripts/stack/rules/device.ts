/**
 * Alert rules about this device as a whole (presence graph, storage), built from a StackConfig.
 * Why each threshold and window: docs/runbook.md.
 */
import { F } from '../../../src/catalogue/index.js';
import { duration, prose, type StackConfig } from '../config.js';
import { promql, series } from '../promql.js';
import { runbookUrl, type AlertRule, type RuleArea } from './kit.js';
import { whileSourceUp } from './sync.js';

export const DEVICE_ALERT_NAMES = ['DittoDeviceDiskFillingUp', 'DittoDeviceStorageUnreadable'] as const;
type DeviceAlertName = (typeof DEVICE_ALERT_NAMES)[number];

/**
 * `and`-ed onto the disk alert: silent unless the latest scrape served storage figures. The exporter
 * leaves the figures out while a read fails and while ditto_sync_up is 0 (ditto_device_storage_up
 * is 0 then), but the windows below would go on judging the last figures for up to a window; the
 * gate stops that at the first scrape without them. DittoDeviceStorageUnreadable speaks meanwhile.
 */
export function whileStorageServed(c: StackConfig): string {
  return `and on (job, instance)\nlast_over_time(${series(F.storageUp.name, c.selector)}[${duration(c.gaugeWindow)}]) == 1`;
}

/** The device area's alerts; `runbook` gives an alert's runbook_url. */
export function deviceAlertRules(c: StackConfig, runbook: (alert: DeviceAlertName) => string): AlertRule[] {
  const m = (name: string) => series(name, c.selector);
  const w = duration(c.gaugeWindow);
  const disk = c.deviceDisk;
  // Read through the gauge window, as every other alert: one lost scrape does not flip it.
  const freePercent = `max_over_time(${m(F.filesystemAvail.name)}[${w}]) / max_over_time(${m(F.filesystemSize.name)}[${w}]) * 100`;
  return [
    {
      alert: 'DittoDeviceDiskFillingUp',
      // node-mixin's two filesystem alerts in one: out of space soon at the current rate (only once
      // the disk is fairly full, as there), or nearly out of space now.
      expr: promql`
        (
          (
            ${freePercent} < ${disk.predictBelowPercent}
            and
            predict_linear(${m(F.filesystemAvail.name)}[${duration(disk.predictWindow)}], ${disk.horizon}) < 0
          )
          or
          ${freePercent} < ${disk.freePercent}
        )
        ${whileStorageServed(c)}
      `,
      for: duration(disk.for),
      labels: { severity: 'warning' },
      annotations: {
        summary: 'The disk holding the Ditto store on {{ $labels.instance }} is filling up.',
        description:
          `The filesystem holding the Ditto store on {{ $labels.instance }} (job {{ $labels.job }}) has {{ printf "%.1f" $value }}% free, and either ` +
          `fills within ${prose(disk.horizon)} at the rate of the last ${prose(disk.predictWindow)} or has less than ${disk.freePercent}% free. ` +
          'When it is full, Ditto can no longer write: local writes fail and nothing more syncs to this device.',
        runbook_url: runbook('DittoDeviceDiskFillingUp'),
      },
    },
    {
      alert: 'DittoDeviceStorageUnreadable',
      // A failing read or a figure Ditto stopped giving leaves the disk alert blind: it must be
      // reported, never silence it (DittoSyncRowsUnusable's rule, for storage). Silent while ditto_sync_up is 0 (storage is left out then
      // by design; DittoSyncObserverStalled speaks).
      expr: promql`
        (
          min_over_time(${m(F.storageValuesUnusable.name)}[${w}]) > 0
          or
          max_over_time(${m(F.storageUp.name)}[${w}]) == 0
        )
        ${whileSourceUp(c)}
      `,
      for: duration(c.deviceStorage.for),
      labels: { severity: 'warning' },
      annotations: {
        summary: 'The exporter on {{ $labels.instance }} cannot read the storage figures of its device.',
        description:
          `For ${prose(c.gaugeWindow + c.deviceStorage.for)}, {{ $labels.instance }} (job {{ $labels.job }}) has ` +
          '{{ if eq $value 0.0 }}failed every read of system:system_info (an error, or longer than --refresh-timeout){{ else }}' +
          'had {{ $value }} storage figure(s) missing from system:system_info or not a usable number of bytes at every read{{ end }} ' +
          '(the value is the number of unusable figures, 0 when the reads failed). What is left out is missing from the Device dashboard, and ' +
          'DittoDeviceDiskFillingUp cannot judge the disk while the reads fail or the free space or size is among it.',
        runbook_url: runbook('DittoDeviceStorageUnreadable'),
      },
    },
  ];
}

export const DEVICE_RULES: RuleArea = {
  name: 'device',
  alertNames: DEVICE_ALERT_NAMES,
  alerts: (c) => deviceAlertRules(c, (alert) => runbookUrl(c, alert)),
  recording: () => [],
};
