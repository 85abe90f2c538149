import { DEFAULT_CONFIG, type StackConfig } from '../../scripts/stack/config.js';
import { DEFAULT_FLEET_CONFIG, type FleetStackConfig } from '../../scripts/stack/fleet-config.js';

/**
 * The stack's rules with windows and thresholds of seconds and `for: 0s`, for evaluating them against
 * a live Prometheus within a test. Margins stay wide enough that a busy machine, whose ticks and
 * scrapes run late by a second or two, does not look like an outage: the simulated cloud acks within
 * a tick or two (500 ms each) and connected devices send data every tick or two.
 */
export const SHORT_WINDOWS: StackConfig = Object.freeze({
  ...DEFAULT_CONFIG,
  gaugeWindow: 8,
  rateWindow: 8,
  cloudGap: { unackedAge: 5, cloudSilence: 5, cloudRowsWindow: 16, for: 0 },
  noCloudServer: { for: 0 },
  peerStale: { lagWindow: 20, silence: 15, for: 0 },
  observerStalled: { snapshotAge: 10, for: 0 },
  exporterDown: { for: 0 },
  rowsUnusable: { for: 0 },
  trackedCommitsDropped: { for: 0 },
  deviceStorage: { for: 0 },
});

/**
 * The fleet rules with windows of seconds and `for: 0s`, for the same purpose. Thresholds that are
 * not durations waited for (the gap and disk thresholds, read from the beacon and the documents)
 * keep their defaults; DittoFleetDevicesSilent compares with 30 s ago instead of 6 hours ago, and an
 * inventory is "old" after 15 s (a fleet exporter reading every second renews it every second).
 */
export const SHORT_FLEET_WINDOWS: FleetStackConfig = Object.freeze({
  ...DEFAULT_FLEET_CONFIG,
  sourceDown: { inventoryAge: 15, for: 0 },
  syncGap: { ...DEFAULT_FLEET_CONFIG.syncGap, for: 0 },
  silent: { ...DEFAULT_FLEET_CONFIG.silent, since: 30, for: 0 },
  disk: { ...DEFAULT_FLEET_CONFIG.disk, for: 0 },
});
