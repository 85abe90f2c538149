import type { LabelSet } from '../exposition/labels.js';
import { PEER_STATUSES, PEER_TYPES, type PeerRow, type PeerStatus, type PeerType } from '../model.js';

/** A peer that gets per-peer series, with its label set built once. */
export interface PeerEntry {
  readonly row: PeerRow;
  readonly labels: LabelSet;
}

/** Everything one tick tells, frozen: scrapes read a snapshot whole or not at all. */
export interface Snapshot {
  /** Unix seconds on the source clock. */
  readonly readAt: number;
  /** Peers with per-peer series, in the order Ditto returned them. */
  readonly peers: readonly PeerEntry[];
  /** Peers counted in aggregates but without per-peer series (the --max-peers cap, or ids hidden). */
  readonly omitted: number;
  readonly counts: Readonly<Record<PeerType, Readonly<Record<PeerStatus, number>>>>;
  readonly connected: number;
  readonly cloudServers: number;
  readonly cloudConnected: number;
  /** Highest synced_up_to_local_commit_id over every row. */
  readonly maxSyncedCommitId: bigint | undefined;
  /** Highest synced_up_to_local_commit_id over cloud rows. */
  readonly cloudSyncedCommitId: bigint | undefined;
  /** Freshest last_update_received_time over cloud rows. */
  readonly cloudLastUpdate: number | undefined;
  /** Rows whose last update is ahead of readAt by more than the tolerance. */
  readonly futureRows: number;
}

export interface SnapshotOptions {
  /** Per-peer series for at most this many peers; cloud servers are always kept. */
  readonly maxPeers: number;
  /** Label set for a peer, or null to keep the peer out of per-peer series. */
  readonly labelsFor: (row: PeerRow) => LabelSet | null;
}

/** Clock skew tolerated before a last-update time counts as "in the future". */
export const FUTURE_TOLERANCE_SECONDS = 1;

function emptyCounts(): Record<PeerType, Record<PeerStatus, number>> {
  const counts = {} as Record<PeerType, Record<PeerStatus, number>>;
  for (const t of PEER_TYPES) {
    counts[t] = {} as Record<PeerStatus, number>;
    for (const s of PEER_STATUSES) counts[t][s] = 0;
  }
  return counts;
}

const maxBig = (a: bigint | undefined, b: bigint | undefined) => (a === undefined ? b : b === undefined || a >= b ? a : b);

/** Pure: validated rows of one tick → snapshot. */
export function buildSnapshot(rows: readonly PeerRow[], readAt: number, options: SnapshotOptions): Snapshot {
  const counts = emptyCounts();
  let connected = 0;
  let cloudServers = 0;
  let cloudConnected = 0;
  let maxSynced: bigint | undefined;
  let cloudSynced: bigint | undefined;
  let cloudLastUpdate: number | undefined;
  let futureRows = 0;
  for (const row of rows) {
    counts[row.type][row.status]++;
    const isConnected = row.status === 'connected';
    if (isConnected) connected++;
    maxSynced = maxBig(maxSynced, row.syncedCommitId);
    if (row.type === 'cloud') {
      cloudServers++;
      if (isConnected) cloudConnected++;
      cloudSynced = maxBig(cloudSynced, row.syncedCommitId);
      if (row.lastUpdate !== undefined && (cloudLastUpdate === undefined || row.lastUpdate > cloudLastUpdate)) {
        cloudLastUpdate = row.lastUpdate;
      }
    }
    if (row.lastUpdate !== undefined && row.lastUpdate > readAt + FUTURE_TOLERANCE_SECONDS) futureRows++;
  }

  const selected = selectDetailed(rows, options.maxPeers);
  const peers: PeerEntry[] = [];
  for (const row of selected) {
    const labels = options.labelsFor(row);
    if (labels) peers.push({ row, labels });
  }

  return Object.freeze({
    readAt,
    peers: Object.freeze(peers),
    omitted: rows.length - peers.length,
    counts,
    connected,
    cloudServers,
    cloudConnected,
    maxSyncedCommitId: maxSynced,
    cloudSyncedCommitId: cloudSynced,
    cloudLastUpdate,
    futureRows,
  });
}

/**
 * Which rows keep per-peer series when there are more than `maxPeers`: every cloud server, then
 * connected devices before others, freshest first, so the kept set is stable between ticks.
 */
export function selectDetailed(rows: readonly PeerRow[], maxPeers: number): readonly PeerRow[] {
  if (rows.length <= maxPeers) return rows;
  const cloud = rows.filter((r) => r.type === 'cloud');
  const room = Math.max(0, maxPeers - cloud.length);
  const devices = rows
    .filter((r) => r.type === 'device')
    .sort((a, b) => rank(b) - rank(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, room);
  const keep = new Set<PeerRow>([...cloud, ...devices]);
  return rows.filter((r) => keep.has(r));
}

const rank = (r: PeerRow): number => (r.status === 'connected' ? 1e13 : 0) + (r.lastUpdate ?? 0);
