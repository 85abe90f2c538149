import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncExporter } from '../src/exporter.js';
import { valueOf } from './helpers/exposition.js';
import { replayed } from './helpers/replay-exporter.js';

const C1 = { peer_id: 'pkCloudServer000000000000000000000000001', peer_type: 'cloud' };
const D1 = { peer_id: 'pkDevice0000000000000000000000000000001', peer_type: 'device' };
const D2 = { peer_id: 'pkDevice0000000000000000000000000000002', peer_type: 'device' };
const D3 = { peer_id: 'pkDevice0000000000000000000000000000003', peer_type: 'device' };
const D5 = { peer_id: 'pkDevice0000000000000000000000000000005', peer_type: 'device' };

// Values worked out by hand from test/fixtures/scenario.jsonl (see the comments per assertion).
describe('the replay scenario reproduces hand-computed values', () => {
  let exporter: SyncExporter;
  let body: string;
  const v = (name: string, labels: Record<string, string> = {}) => valueOf(body, name, labels);

  beforeAll(async () => {
    exporter = await replayed();
    body = (await exporter.backend.render('prometheus')).body;
  });
  afterAll(() => exporter.close());

  it('applies good lines and counts the bad ones', () => {
    expect(v('ditto_sync_observer_ticks_total')).toBe(2);
    // "not json{" and the truncated last line; {"rows": []} has no t.
    expect(v('ditto_sync_replay_lines_skipped_total', { reason: 'invalid_json' })).toBe(2);
    expect(v('ditto_sync_replay_lines_skipped_total', { reason: 'bad_shape' })).toBe(1);
    expect(v('ditto_sync_replay_lines_skipped_total', { reason: 'line_too_long' })).toBe(0);
    expect(v('ditto_sync_replay_lines_skipped_total', { reason: 't_backwards' })).toBe(0);
    // {"_id": 42} in line 4: a gauge of the latest snapshot, not a count of ticks.
    expect(v('ditto_sync_rows_unusable', { reason: 'missing_id' })).toBe(1);
    expect(v('ditto_sync_rows_unusable', { reason: 'duplicate_id' })).toBe(0);
    // "Reconnecting" is a status this exporter does not know, not an unusable one.
    expect(v('ditto_sync_fields_unusable', { field: 'sync_session_status' })).toBe(0);
    expect(v('ditto_sync_up')).toBe(1);
    expect(exporter.readiness()).toEqual({ ready: true, reason: 'ok' });
  });

  it('counts peers of the last applied line only', () => {
    expect(v('ditto_sync_peers', { peer_type: 'cloud', status: 'connected' })).toBe(1);
    expect(v('ditto_sync_peers', { peer_type: 'device', status: 'connected' })).toBe(1);
    expect(v('ditto_sync_peers', { peer_type: 'device', status: 'disabled' })).toBe(1);
    expect(v('ditto_sync_peers', { peer_type: 'device', status: 'unknown' })).toBe(1);
    expect(v('ditto_sync_peers', { peer_type: 'device', status: 'not_connected' })).toBe(0);
    expect(v('ditto_sync_connected_peers')).toBe(2);
    expect(v('ditto_sync_cloud_servers')).toBe(1);
    expect(v('ditto_sync_cloud_servers_connected')).toBe(1);
  });

  it('drops every series of a peer that vanished', () => {
    expect(body).not.toContain(D5.peer_id);
  });

  it('computes lags from the local commit id: max(tracked 14, rows 13) = 14; D3 has no synced id, so no lag', () => {
    expect(v('ditto_sync_local_commit_id')).toBe(14);
    expect(v('ditto_sync_peer_commit_lag', C1)).toBe(2);
    expect(v('ditto_sync_peer_commit_lag', D1)).toBe(1);
    expect(v('ditto_sync_peer_commit_lag', D2)).toBe(9);
    expect(v('ditto_sync_peer_commit_lag', D3)).toBeUndefined();
    expect(v('ditto_sync_peer_synced_commit_id', D1)).toBe(13);
    expect(v('ditto_sync_cloud_commit_lag')).toBe(2);
  });

  it('reads seconds and milliseconds, omits unknown times and clamps ones slightly ahead of the clock', () => {
    // Clock = t of the last applied line = 1700000010.
    expect(v('ditto_sync_peer_last_update_timestamp_seconds', C1)).toBe(1700000008);
    expect(v('ditto_sync_peer_last_update_timestamp_seconds', D1)).toBe(1700000009);
    expect(v('ditto_sync_peer_seconds_since_last_update', C1)).toBe(2);
    expect(v('ditto_sync_peer_seconds_since_last_update', D1)).toBe(1);
    // -1 means unknown: no series rather than epoch 0.
    expect(v('ditto_sync_peer_last_update_timestamp_seconds', D2)).toBeUndefined();
    expect(v('ditto_sync_peer_seconds_since_last_update', D2)).toBeUndefined();
    // 1700000030 is 20 s ahead of the clock: within a day, so kept, and its seconds-since reads 0.
    expect(v('ditto_sync_peer_seconds_since_last_update', D3)).toBe(0);
    expect(v('ditto_sync_rows_ahead_of_clock')).toBe(1);
    expect(v('ditto_sync_fields_unusable', { field: 'last_update_received_time' })).toBe(0);
    expect(v('ditto_sync_cloud_seconds_since_last_update')).toBe(2);
    expect(v('ditto_sync_snapshot_age_seconds')).toBe(0);
  });

  it('tracks commits until the cloud has them', () => {
    // Commits 11 and 12 (t=…000) were acked when the cloud reached 12 at t=…010: 10 s each.
    expect(v('ditto_sync_commit_cloud_ack_seconds_count')).toBe(2);
    expect(v('ditto_sync_commit_cloud_ack_seconds_sum')).toBe(20);
    expect(v('ditto_sync_commit_cloud_ack_seconds_bucket', { le: '5' })).toBe(0);
    expect(v('ditto_sync_commit_cloud_ack_seconds_bucket', { le: '10' })).toBe(2);
    expect(v('ditto_sync_commit_cloud_ack_seconds_bucket', { le: '+Inf' })).toBe(2);
    // 13 (t=…000) and 14 (t=…010) are still waiting.
    expect(v('ditto_sync_cloud_unacked_commits')).toBe(2);
    expect(v('ditto_sync_cloud_oldest_unacked_commit_age_seconds')).toBe(10);
    expect(v('ditto_sync_tracked_commits_total')).toBe(4);
  });

  it('exports the status state set', () => {
    expect(v('ditto_sync_peer_status', { ...D2, status: 'disabled' })).toBe(1);
    expect(v('ditto_sync_peer_status', { ...D2, status: 'connected' })).toBe(0);
    expect(v('ditto_sync_peer_status', { ...D3, status: 'unknown' })).toBe(1);
  });
});
