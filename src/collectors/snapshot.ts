import type { LabelSet } from '../exposition/labels.js';
import { emptyStatusCounts, type PeerRow, type PeerStatus, type PeerType, type RowField, type RowUnusableReason } from '../model.js';
import type { ParsedRows } from './rows.js';
import { selectStable, type KeptIds } from './selection.js';

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
  readonly kept: KeptIds;
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
  readonly previousKept: Pick<KeptIds, 'has'>;
  /** Label set for a peer, or null to keep the peer out of per-peer series. */
  readonly labelsFor: (row: PeerRow) => LabelSet | null;
  /**
   * Whether two peers can get one label text: only under a keyed hash. Distinct ids always write
   * distinct text otherwise (ids are well-formed, escaping is injective), so no check is needed.
   */
  readonly labelsMayCollide?: boolean;
}


const maxBig = (a: bigint | undefined, b: bigint | undefined) => (a === undefined ? b : b === undefined || a >= b ? a : b);

/** Pure: validated rows of one tick → snapshot. */
export function buildSnapshot(parsed: ParsedRows, readAt: number, options: SnapshotOptions): Snapshot {
  const { rows } = parsed;
  const counts = emptyStatusCounts();
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
  // A keyed hash could collide, and a repeated series would make the whole body unparseable.
  const texts = options.labelsMayCollide === false ? undefined : new Set<string>();
  for (const row of rows) {
    if (!kept.all && !kept.has(row.id)) continue;
    const labels = options.labelsFor(row);
    if (!labels) continue;
    if (texts) {
      if (texts.has(labels.text)) continue;
      texts.add(labels.text);
    }
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
