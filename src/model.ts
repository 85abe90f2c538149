/** Shared vocabulary of the exporter: what a row means once validated. */

export const PEER_TYPES = ['cloud', 'device'] as const;
export type PeerType = (typeof PEER_TYPES)[number];

export const PEER_STATUSES = ['connected', 'not_connected', 'disabled', 'unknown'] as const;
export type PeerStatus = (typeof PEER_STATUSES)[number];

export const REJECT_REASONS = [
  'not_an_object',
  'missing_id',
  'bad_id',
  'duplicate_id',
  'bad_is_ditto_server',
  'bad_documents',
  'bad_commit_id',
  'bad_timestamp',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** One `system:data_sync_info` row after validation. `undefined` means Ditto did not say. */
export interface PeerRow {
  readonly id: string;
  readonly type: PeerType;
  readonly status: PeerStatus;
  readonly syncedCommitId: bigint | undefined;
  /** Unix seconds. */
  readonly lastUpdate: number | undefined;
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
  readonly id: bigint | number | string;
  /** Unix seconds; defaults to the tick's readAt. */
  readonly at?: number;
}
