/** Families about the sync-health beacon this device publishes into its small peer info (--publish-health). */
import { family } from './family.js';

const f = family('device');

export const BEACON = {
  beaconPublishes: f('ditto_sync_health_beacon_publishes_total', 'counter', 'Sync-health beacons written into ditto.smallPeerInfo.metadata, by reason: refresh (a new summary, at most every --publish-interval) or restore (the last one put back after the application replaced the metadata).', ['reason']),
  beaconPublishFailures: f('ditto_sync_health_beacon_publish_failures_total', 'counter', 'Beacon writes that failed: the metadata could not be read or the SDK refused the new metadata.'),
  beaconLastPublish: f('ditto_sync_health_beacon_last_publish_timestamp_seconds', 'gauge', "When the summary now in the metadata was made (its `at`), unix seconds; it stops moving while no snapshot is served. Absent before the first publish.", [], 's'),
} as const;
