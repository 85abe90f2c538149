/**
 * Alert rules about this device as a whole (presence graph, storage), built from a StackConfig.
 * Why each threshold and window: docs/runbook.md.
 */
import { F } from '../../../src/catalogue/index.js';
import { duration, prose, type StackConfig } from '../config.js';
import { promql, series } from '../promql.js';
import { runbookUrl, type AlertRule, type RuleArea } from './kit.js';

export const DEVICE_ALERT_NAMES = ['DittoDeviceDiskFillingUp'] as const;
type DeviceAlertName = (typeof DEVICE_ALERT_NAMES)[number];

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
          ${freePercent} < ${disk.predictBelowPercent}
          and
          predict_linear(${m(F.filesystemAvail.name)}[${duration(disk.predictWindow)}], ${disk.horizon}) < 0
        )
        or
        ${freePercent} < ${disk.freePercent}
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
  ];
}

export const DEVICE_RULES: RuleArea = {
  name: 'device',
  alertNames: DEVICE_ALERT_NAMES,
  alerts: (c) => deviceAlertRules(c, (alert) => runbookUrl(c, alert)),
  recording: () => [],
};
