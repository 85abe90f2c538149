import type { LabelSet } from '../exposition/labels.js';
import { PEER_STATUSES, PEER_TYPES, type PeerRow, type PeerStatus, type PeerType, type RowField, type RowUnusableReason } from '../model.js';
import type { ParsedRows } from './rows.js';
import { selectStable } from './selection.js';

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
  /** Ids chosen for per-peer series (including those whose labels are switched off); the next tick starts from them. */
  readonly kept: ReadonlySet<string>;
  /** Peers counted in aggregates but without per-peer series. */
  readonly omitted: number;
  readonly counts: Readonly<Record<PeerType, Readonly<Record<PeerStatus, number>>>>;
  readonly connected: number;
  readonly cloudServers: number;
  readonly cloudConnected: number;
  /** Highest synced_up_to_local_commit_id over every row. */
  readonly maxSyncedCommitId: bigint | undefined;
  /** Highest synced_up_to_local_commit_id over cloud rows. */
  readonly cloudSyncedCommitId: bigint | undefined;
  /** Freshest usable last_update_received_time over cloud rows. */
  readonly cloudLastUpdate: number | undefined;
  readonly rowsUnusable: ReadonlyMap<RowUnusableReason, number>;
  readonly fieldsUnusable: ReadonlyMap<RowField, number>;
  readonly aheadOfClock: number;
  /** Rows used with at least one unusable field. */
  readonly rowsWithUnusableField: number;
}

export interface SnapshotOptions {
  /** Per-peer series for at most this many peers. */
  readonly maxPeers: number;
  /** The previous snapshot's kept ids: they stay kept while their rows exist. */
  readonly previousKept: ReadonlySet<string>;
  /** Label set for a peer, or null to keep the peer out of per-peer series. */
  readonly labelsFor: (row: PeerRow) => LabelSet | null;
}

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
export function buildSnapshot(parsed: ParsedRows, readAt: number, options: SnapshotOptions): Snapshot {
  const { rows } = parsed;
  const counts = emptyCounts();
  let connected = 0;
  let cloudServers = 0;
  let cloudConnected = 0;
  let maxSynced: bigint | undefined;
  let cloudSynced: bigint | undefined;
  let cloudLastUpdate: number | undefined;
  for (const row of rows) {
    counts[row.type][row.status]++;
    const isConnected = row.status === 'connected';
    if (isConnected) connected++;
    maxSynced = maxBig(maxSynced, row.syncedCommitId);
    if (row.type === 'cloud') {
      cloudServers++;
      if (isConnected) cloudConnected++;
      cloudSynced = maxBig(cloudSynced, row.syncedCommitId);
      if (row.lastUpdate !== undefined && (cloudLastUpdate === undefined || row.lastUpdate > cloudLastUpdate)) cloudLastUpdate = row.lastUpdate;
    }
  }

  const kept = selectStable(rows, options.previousKept, options.maxPeers);
  const peers: PeerEntry[] = [];
  // Distinct ids always write distinct label text (ids are well-formed, escaping is injective); a
  // keyed hash could still collide, and a repeated series would make the whole body unparseable.
  const texts = new Set<string>();
  for (const row of rows) {
    if (!kept.has(row.id)) continue;
    const labels = options.labelsFor(row);
    if (!labels || texts.has(labels.text)) continue;
    texts.add(labels.text);
    peers.push({ row, labels });
  }

  return Object.freeze({
    readAt,
    peers: Object.freeze(peers),
    kept,
    omitted: rows.length - peers.length,
    counts,
    connected,
    cloudServers,
    cloudConnected,
    maxSyncedCommitId: maxSynced,
    cloudSyncedCommitId: cloudSynced,
    cloudLastUpdate,
    rowsUnusable: parsed.rowsUnusable,
    fieldsUnusable: parsed.fieldsUnusable,
    aheadOfClock: parsed.aheadOfClock,
    rowsWithUnusableField: parsed.rowsWithUnusableField,
  });
}
