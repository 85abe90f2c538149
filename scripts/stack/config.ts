/**
 * The one place for the stack's names, selectors, windows and thresholds (mixin style): alert rules,
 * recording rules and dashboards are all generated from it, so a threshold drawn on a panel is the
 * threshold an alert uses. docs/runbook.md explains every value; change both together.
 */

/** Durations are in seconds here and rendered as Prometheus durations ("5m"). */
export interface StackConfig {
  /** Prometheus job that scrapes the exporter; prometheus/prometheus.yml and docker-compose.yml use it. */
  readonly job: string;
  /** Label matchers every rule applies to the exporter's series. */
  readonly selector: string;
  /** Base of every alert's runbook_url: the rendered docs/runbook.md of this repository. */
  readonly runbookUrl: string;
  /**
   * Window through which alerts read gauges (max_over_time / min_over_time): long enough that one lost
   * scrape, which leaves a gap or a staleness marker, does not flip an alert.
   */
  readonly gaugeWindow: number;
  /** Window of rate() over the counters and histogram in recording rules. */
  readonly rateWindow: number;
  readonly cloudGap: {
    /** The oldest unacked tracked commit has waited this long at every scrape of the gauge window. */
    readonly unackedAge: number;
    /** No cloud server has sent anything for this long at every scrape of the gauge window. */
    readonly cloudSilence: number;
    /**
     * Rows that are or may be cloud servers (cloud rows, rows of unknown type, rows left out for a
     * bad or missing _id) seen within this window arm the alert: a peer-to-peer-only device never
     * has a cloud gap, but a shape surprise must not pass for one.
     */
    readonly cloudRowsWindow: number;
    readonly for: number;
  };
  readonly noCloudServer: { readonly for: number };
  readonly peerStale: {
    /** The peer's lag stayed above 0 and its synced commit id did not move for this long. */
    readonly lagWindow: number;
    /** Nothing has arrived from the peer for longer than this. */
    readonly silence: number;
    readonly for: number;
  };
  readonly observerStalled: {
    /** Snapshots older than this at every scrape of the gauge window mean the source stopped. */
    readonly snapshotAge: number;
    readonly for: number;
  };
  readonly exporterDown: { readonly for: number };
  /** Rows left out or fields unusable at every scrape of the gauge window, for this long. */
  readonly rowsUnusable: { readonly for: number };
  /** Tracked commits dropped unacked within the rate window. */
  readonly trackedCommitsDropped: { readonly for: number };
  /** DittoDeviceDiskFillingUp, after node-mixin's NodeFilesystemSpaceFillingUp and NodeFilesystemAlmostOutOfSpace. */
  readonly deviceDisk: {
    /** Window of the linear fit of free space (node-mixin: 6 hours). */
    readonly predictWindow: number;
    /** The fit says the filesystem is full within this long. */
    readonly horizon: number;
    /** The prediction counts only below this share free (percent), so a write burst on a roomy disk does not alert (node-mixin: 40). */
    readonly predictBelowPercent: number;
    /** Or: less than this share is free (percent), whatever the rate. */
    readonly freePercent: number;
    readonly for: number;
  };
  /** DittoDeviceStorageUnreadable: storage not read, or figures unusable, at every scrape of the gauge window, for this long. */
  readonly deviceStorage: { readonly for: number };
}

export const JOB = 'ditto-sync';
export const EXPORTER_SERVICE = 'exporter';
export const EXPORTER_PORT = 9730;

export const DEFAULT_CONFIG: StackConfig = Object.freeze({
  job: JOB,
  selector: `job="${JOB}"`,
  runbookUrl: 'https://github.com/ditto-sync-exporter/ditto-sync-exporter/blob/main/docs/runbook.md',
  gaugeWindow: 300,
  rateWindow: 300,
  cloudGap: Object.freeze({ unackedAge: 300, cloudSilence: 300, cloudRowsWindow: 600, for: 300 }),
  noCloudServer: Object.freeze({ for: 300 }),
  peerStale: Object.freeze({ lagWindow: 600, silence: 600, for: 300 }),
  observerStalled: Object.freeze({ snapshotAge: 60, for: 300 }),
  exporterDown: Object.freeze({ for: 300 }),
  rowsUnusable: Object.freeze({ for: 600 }),
  trackedCommitsDropped: Object.freeze({ for: 0 }),
  deviceDisk: Object.freeze({ predictWindow: 21_600, horizon: 86_400, predictBelowPercent: 40, freePercent: 10, for: 1800 }),
  deviceStorage: Object.freeze({ for: 600 }),
});

/** Grafana and Prometheus wiring shared by provisioning, dashboards and docker-compose.yml. */
export const GRAFANA = Object.freeze({
  datasourceUid: 'ditto-prometheus',
  folder: 'Ditto',
  tags: Object.freeze(['ditto', 'ditto-sync']),
  overviewUid: 'ditto-sync-overview',
  peersUid: 'ditto-sync-peers',
  deviceUid: 'ditto-sync-device',
});

/** 300 → "5m", 90 → "1m30s", 0 → "0s": the form promtool and Prometheus accept. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`duration must be a non-negative number of seconds, got ${seconds}`);
  if (seconds === 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(seconds * 1000);
  for (const [unit, ms] of [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    if (rest >= ms) {
      parts.push(`${Math.floor(rest / ms)}${unit}`);
      rest %= ms;
    }
  }
  return parts.join('');
}

/** 600 → "10 minutes", for prose in annotations. */
export function prose(seconds: number): string {
  if (seconds % 3600 === 0 && seconds >= 3600) return plural(seconds / 3600, 'hour');
  if (seconds % 60 === 0 && seconds >= 60) return plural(seconds / 60, 'minute');
  return plural(seconds, 'second');
}

const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;
