/** Shared vocabulary of the exporter: what a row means once validated. */

/** `unknown` when `is_ditto_server` is missing or not a boolean: the row is used, its type is not guessed. */
export const PEER_TYPES = ['cloud', 'device', 'unknown'] as const;
export type PeerType = (typeof PEER_TYPES)[number];

export const PEER_STATUSES = ['connected', 'not_connected', 'disabled', 'unknown'] as const;
export type PeerStatus = (typeof PEER_STATUSES)[number];

/** A zero for every peer type and status, to count sessions into. */
export function emptyStatusCounts(): Record<PeerType, Record<PeerStatus, number>> {
  const counts = {} as Record<PeerType, Record<PeerStatus, number>>;
  for (const t of PEER_TYPES) {
    counts[t] = {} as Record<PeerStatus, number>;
    for (const s of PEER_STATUSES) counts[t][s] = 0;
  }
  return counts;
}

/** Why a whole row was left out. Anything else unusable only makes that field unknown. */
export const ROW_UNUSABLE_REASONS = ['not_an_object', 'missing_id', 'bad_id', 'duplicate_id'] as const;
export type RowUnusableReason = (typeof ROW_UNUSABLE_REASONS)[number];

/** Fields of a row that can be unusable on their own; `documents` when it is not a map at all. */
export const ROW_FIELDS = ['is_ditto_server', 'documents', 'sync_session_status', 'synced_up_to_local_commit_id', 'last_update_received_time'] as const;
export type RowField = (typeof ROW_FIELDS)[number];

/** One `system:data_sync_info` row after validation. `undefined` means unknown: Ditto did not say, or said something unusable. */
export interface PeerRow {
  readonly id: string;
  readonly type: PeerType;
  readonly status: PeerStatus;
  readonly syncedCommitId: bigint | undefined;
  /** Unix seconds; never more than a day ahead of the clock the row was read by. */
  readonly lastUpdate: number | undefined;
  /** Fields that were present but unusable (empty for a clean row). */
  readonly unusable: readonly RowField[];
  /** lastUpdate is ahead of the read clock (clock skew): seconds-since reads 0. */
  readonly aheadOfClock: boolean;
}

/** What a source hands over for one observer tick (or one refresh). */
export interface RawTick {
  /** The rows exactly as the SDK (or a replay line) gave them; validated later. */
  readonly rows: readonly unknown[];
  /** When the rows were read, unix seconds on the source's clock. */
  readonly readAt: number;
  /** Local commit ids the application made since the previous tick, with when they were made. */
  readonly commits?: readonly TrackedCommitInput[];
}

export interface TrackedCommitInput {
  readonly id: unknown;
  /** Unix time (seconds, or ms/µs/ns told apart by magnitude); defaults to the tick's readAt. */
  readonly at?: unknown;
}

/** What a source hands over for one read of this device's storage (system:system_info rows). */
export interface RawStorage {
  /** The rows exactly as the SDK gave them; validated later. */
  readonly rows: readonly unknown[];
  /** When the rows were read, unix seconds on the source's clock. */
  readonly readAt: number;
}
