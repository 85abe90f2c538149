import { DEFAULT_CONFIG, type StackConfig } from '../../scripts/stack/config.js';

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
