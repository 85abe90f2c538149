/**
 * The fleet part of the stack's one config place: the windows and thresholds of the fleet alerts
 * and recording rules, which the Fleet dashboard draws too. docs/runbook.md explains every value;
 * change both together. Job, selector, gauge window and runbook URL come from StackConfig.
 */

/** Durations in seconds, as in StackConfig. */
export interface FleetStackConfig {
  readonly sourceDown: {
    /** The last complete inventory is older than this at every scrape of the gauge window. */
    readonly inventoryAge: number;
    readonly for: number;
  };
  readonly syncGap: {
    /** The device's latest beacon reports its oldest unacked commit older than this (and keeps doing so for `for:`). */
    readonly unackedAge: number;
    /** And the beacon is no older than this: the device keeps reporting. */
    readonly reportingWithin: number;
    readonly for: number;
  };
  readonly silent: {
    /** The share of devices not seen for a day rose by more than this (0.05 = 5 points)... */
    readonly rise: number;
    /** ...since this long ago. */
    readonly since: number;
    /** Fleets smaller than this never fire (one device is a large share of a small fleet). */
    readonly minDevices: number;
    readonly for: number;
  };
  readonly disk: {
    /** Free space below this share of the file system. */
    readonly availRatio: number;
    /** Only devices seen this recently: a long-gone device's disk is old news. */
    readonly seenWithin: number;
    readonly for: number;
  };
}

export const DEFAULT_FLEET_CONFIG: FleetStackConfig = Object.freeze({
  sourceDown: Object.freeze({ inventoryAge: 600, for: 300 }),
  syncGap: Object.freeze({ unackedAge: 900, reportingWithin: 1200, for: 900 }),
  silent: Object.freeze({ rise: 0.05, since: 6 * 3600, minDevices: 10, for: 1800 }),
  disk: Object.freeze({ availRatio: 0.05, seenWithin: 86_400, for: 900 }),
});

export const FLEET_DASHBOARD_UID = 'ditto-sync-fleet';
