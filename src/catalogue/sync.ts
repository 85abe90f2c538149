/**
 * Families read from system:data_sync_info and the application's tracked commits (sources ditto,
 * replay, simulate).
 */
import { family } from './family.js';

const f = family('sync');

/**
 * Upper bounds of the ack histogram. Within the range where outages live (1 minute to 6 hours)
 * no bucket is more than 25 % wider than its lower bound, so a quantile read from it is within 25 %
 * of the true value; below a minute it is coarser, because a wait of seconds needs no precision.
 */
export const ACK_BUCKETS_SECONDS = Object.freeze([
  0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 75, 90, 110, 135, 165, 200, 250, 300, 375, 450, 550, 675, 825, 1000, 1250, 1500, 1800, 2250, 2700,
  3300, 4000, 5000, 6000, 7500, 9000, 11000, 13500, 16500, 20000, 24000,
]);

export const SYNC = {
  up: f('ditto_sync_up', 'gauge', '1 while the source is open and its latest read succeeded, else 0. While 0, the families read from system:data_sync_info are left out.'),
  peers: f('ditto_sync_peers', 'gauge', 'Peer sessions in system:data_sync_info by peer type (cloud, device, or unknown when is_ditto_server is unusable) and session status.', ['peer_type', 'status']),
  connectedPeers: f('ditto_sync_connected_peers', 'gauge', 'Peer sessions whose status is Connected.'),
  cloudServers: f('ditto_sync_cloud_servers', 'gauge', 'Peer sessions with a Ditto cloud server (is_ditto_server true).'),
  cloudServersConnected: f('ditto_sync_cloud_servers_connected', 'gauge', 'Cloud server sessions whose status is Connected.'),
  peersOmitted: f('ditto_sync_peers_omitted', 'gauge', 'Peers counted in the aggregates but without per-peer series: the --max-peers cap, --peer-id-label none, or a label that would repeat another peer\'s.'),
  peerStatus: f('ditto_sync_peer_status', 'gauge', 'Session status of a peer: 1 for the current status, 0 for the others.', ['peer_id', 'peer_type', 'status']),
  peerCommitLag: f('ditto_sync_peer_commit_lag', 'gauge', 'Local commit id minus the highest local commit id the peer has received (commit-id units, not a count of commits); absent until a local commit is tracked, and for peers that never received one.', ['peer_id', 'peer_type']),
  peerSyncedCommitId: f('ditto_sync_peer_synced_commit_id', 'gauge', 'Highest local commit id the peer has received (synced_up_to_local_commit_id).', ['peer_id', 'peer_type']),
  peerLastUpdate: f('ditto_sync_peer_last_update_timestamp_seconds', 'gauge', 'When data last arrived from the peer (last_update_received_time), unix seconds.', ['peer_id', 'peer_type'], 's'),
  peerSecondsSince: f('ditto_sync_peer_seconds_since_last_update', 'gauge', 'Seconds since data last arrived from the peer, computed at scrape time, never below 0.', ['peer_id', 'peer_type'], 's'),
  localCommitId: f('ditto_sync_local_commit_id', 'gauge', 'Highest known local commit id: the highest tracked commit, raised by any peer\'s synced_up_to_local_commit_id; absent until a local commit is tracked.'),
  cloudCommitLag: f('ditto_sync_cloud_commit_lag', 'gauge', 'Local commit id minus the highest commit id any cloud server has received; absent until a local commit is tracked, and without a cloud commit id.'),
  cloudLastUpdate: f('ditto_sync_cloud_last_update_timestamp_seconds', 'gauge', 'When data last arrived from the freshest cloud server session, unix seconds; absent when no cloud server ever sent any.', [], 's'),
  cloudSecondsSince: f('ditto_sync_cloud_seconds_since_last_update', 'gauge', 'Seconds since data last arrived from the freshest cloud server session.', [], 's'),
  cloudUnacked: f('ditto_sync_cloud_unacked_commits', 'gauge', 'Tracked local commits no cloud server has received yet; left out until a commit is tracked.'),
  cloudOldestUnackedAge: f('ditto_sync_cloud_oldest_unacked_commit_age_seconds', 'gauge', 'Age of the oldest tracked local commit no cloud server has received yet; 0 when none; left out until a commit is tracked.', [], 's'),
  commitCloudAck: f('ditto_sync_commit_cloud_ack_seconds', 'histogram', 'Time from a tracked local commit to the first snapshot in which a cloud server had received it (a commit the cloud already had when tracked counts the time up to its tracking).', [], 's'),
  trackedCommits: f('ditto_sync_tracked_commits_total', 'counter', 'Local commits the exporter was told about (instrumentStore, trackCommit, replay commits). 0 means the cloud sync gap cannot be measured.'),
  trackedCommitsDropped: f('ditto_sync_tracked_commits_dropped_total', 'counter', 'Tracked commits forgotten unacked because the tracking bound (--max-tracked-commits) was reached.'),
  commitsUnusable: f('ditto_sync_commits_unusable_total', 'counter', 'Commits handed to the exporter that could not be tracked: an id that is not a non-negative integer, or a time that is not a usable unix time.'),
  observerTicks: f('ditto_sync_observer_ticks_total', 'counter', 'Snapshots applied from the source (observer ticks, refreshes, replay lines).'),
  observerErrors: f('ditto_sync_observer_errors_total', 'counter', "Errors while reading, applying or collecting a snapshot (observer callback, refresh query, collection), a presence graph or this device's storage."),
  snapshotRefreshes: f('ditto_sync_snapshot_refreshes_total', 'counter', 'Scrape-time re-reads of system:data_sync_info because the latest snapshot was older than --max-snapshot-age.'),
  snapshotAge: f('ditto_sync_snapshot_age_seconds', 'gauge', 'Age of the latest snapshot; absent before the first snapshot.', [], 's'),
  rowsUnusable: f('ditto_sync_rows_unusable', 'gauge', 'Rows of the latest snapshot left out entirely, by reason: not an object, no usable _id, or an _id already seen in the snapshot.', ['reason']),
  fieldsUnusable: f('ditto_sync_fields_unusable', 'gauge', 'Rows of the latest snapshot in which a field could not be used and counts as unknown, by field; the rest of each row is used.', ['field']),
  rowsAheadOfClock: f('ditto_sync_rows_ahead_of_clock', 'gauge', 'Rows of the latest snapshot whose last_update_received_time is ahead of the exporter clock by up to a day (their seconds-since reads 0); further ahead is unusable.'),
  replayLinesSkipped: f('ditto_sync_replay_lines_skipped_total', 'counter', 'Replay lines skipped as unusable, by reason (replay source only).', ['reason']),
} as const;
