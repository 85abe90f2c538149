/**
 * The metric contract: every family the exporter emits, with its help text and labels.
 * README, dashboards, alert rules and tests are all checked against this one list.
 */

export type FamilyType = 'gauge' | 'counter' | 'histogram';

export interface FamilyDef {
  readonly name: string;
  readonly type: FamilyType;
  readonly help: string;
  readonly labels: readonly string[];
  /** OpenTelemetry unit; chosen so the Prometheus name stays the contract name. */
  readonly unit?: string;
}

const family = (name: string, type: FamilyType, help: string, labels: readonly string[] = [], unit?: string): FamilyDef =>
  Object.freeze({ name, type, help, labels: Object.freeze([...labels]), unit });

export const ACK_BUCKETS_SECONDS = Object.freeze([0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 21600]);

export const F = {
  peers: family('ditto_sync_peers', 'gauge', 'Peer sessions in system:data_sync_info by peer type and session status.', ['peer_type', 'status']),
  connectedPeers: family('ditto_sync_connected_peers', 'gauge', 'Peer sessions whose status is Connected.'),
  cloudServers: family('ditto_sync_cloud_servers', 'gauge', 'Peer sessions with a Ditto cloud server (is_ditto_server true).'),
  cloudServersConnected: family('ditto_sync_cloud_servers_connected', 'gauge', 'Cloud server sessions whose status is Connected.'),
  peersOmitted: family('ditto_sync_peers_omitted', 'gauge', 'Peers counted in the aggregates but left out of per-peer series by --max-peers.'),
  peerStatus: family('ditto_sync_peer_status', 'gauge', 'Session status of a peer: 1 for the current status, 0 for the others.', ['peer_id', 'peer_type', 'status']),
  peerCommitLag: family('ditto_sync_peer_commit_lag', 'gauge', 'Local commit id minus the highest local commit id the peer has received (commit-id units, not a count of commits).', ['peer_id', 'peer_type']),
  peerSyncedCommitId: family('ditto_sync_peer_synced_commit_id', 'gauge', 'Highest local commit id the peer has received (synced_up_to_local_commit_id).', ['peer_id', 'peer_type']),
  peerLastUpdate: family('ditto_sync_peer_last_update_timestamp_seconds', 'gauge', 'When data last arrived from the peer (last_update_received_time), unix seconds.', ['peer_id', 'peer_type'], 's'),
  peerSecondsSince: family('ditto_sync_peer_seconds_since_last_update', 'gauge', 'Seconds since data last arrived from the peer, computed at scrape time, never below 0.', ['peer_id', 'peer_type'], 's'),
  localCommitId: family('ditto_sync_local_commit_id', 'gauge', 'Highest known local commit id: tracked commits and every peer\'s synced_up_to_local_commit_id.'),
  cloudCommitLag: family('ditto_sync_cloud_commit_lag', 'gauge', 'Local commit id minus the highest commit id any cloud server has received; absent without cloud rows.'),
  cloudSecondsSince: family('ditto_sync_cloud_seconds_since_last_update', 'gauge', 'Seconds since data last arrived from the freshest cloud server session.', [], 's'),
  cloudUnacked: family('ditto_sync_cloud_unacked_commits', 'gauge', 'Tracked local commits no cloud server has received yet.'),
  cloudOldestUnackedAge: family('ditto_sync_cloud_oldest_unacked_commit_age_seconds', 'gauge', 'Age of the oldest tracked local commit no cloud server has received yet; 0 when none.', [], 's'),
  commitCloudAck: family('ditto_sync_commit_cloud_ack_seconds', 'histogram', 'Time from a tracked local commit to the first tick in which a cloud server had received it.', [], 's'),
  trackedCommitsDropped: family('ditto_sync_tracked_commits_dropped_total', 'counter', 'Tracked commits forgotten unacked because the tracking bound (--max-tracked-commits) was reached.'),
  up: family('ditto_sync_up', 'gauge', '1 while the source is open and its latest read succeeded, else 0.'),
  observerTicks: family('ditto_sync_observer_ticks_total', 'counter', 'Snapshots applied from the source (observer ticks, refreshes, replay lines).'),
  observerErrors: family('ditto_sync_observer_errors_total', 'counter', 'Errors while reading, applying or collecting a snapshot (observer callback, refresh query, tracked commit, OpenTelemetry collection).'),
  snapshotRefreshes: family('ditto_sync_snapshot_refreshes_total', 'counter', 'Scrape-time re-reads of system:data_sync_info because the latest snapshot was older than --max-snapshot-age.'),
  snapshotAge: family('ditto_sync_snapshot_age_seconds', 'gauge', 'Age of the snapshot this scrape reports; absent before the first snapshot.', [], 's'),
  rowsRejected: family('ditto_sync_rows_rejected_total', 'counter', 'Rows skipped because they could not be used, by reason.', ['reason']),
  futureTimestamps: family('ditto_sync_future_timestamps_total', 'counter', 'Rows whose last_update_received_time was ahead of the exporter clock (seconds-since is clamped to 0).'),
  replayLinesSkipped: family('ditto_sync_replay_lines_skipped_total', 'counter', 'Replay lines skipped as unusable, by reason (replay source only).', ['reason']),
  buildInfo: family('ditto_sync_exporter_build_info', 'gauge', 'Always 1; labels carry the exporter and Ditto SDK versions.', ['version', 'ditto_sdk_version']),
} as const;

export type FamilyKey = keyof typeof F;

export const FAMILIES: readonly FamilyDef[] = Object.freeze(Object.values(F));

/** Every sample name a family can produce (histograms add suffixes). */
export function sampleNames(def: FamilyDef): string[] {
  if (def.type === 'histogram') return [`${def.name}_bucket`, `${def.name}_sum`, `${def.name}_count`];
  return [def.name];
}
