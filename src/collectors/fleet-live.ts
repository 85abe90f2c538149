/**
 * Live sessions (--fleet-live): each connected device's own system:data_sync_info, returned by the
 * Ditto Server's remote execute as one result per answering peer, validated with the same per-field
 * rules as local rows (parseRows).
 */
import { emptyStatusCounts, ROW_FIELDS, ROW_UNUSABLE_REASONS, type PeerStatus, type PeerType, type RowField, type RowUnusableReason } from '../model.js';
import { parseRows } from './rows.js';

export const LIVE_OUTCOMES = ['answered', 'error', 'not_answered', 'unattributed'] as const;
export type LiveOutcome = (typeof LIVE_OUTCOMES)[number];

export interface LiveDevice {
  /** Session counts by peer type and status. */
  readonly sessions: Readonly<Record<PeerType, Readonly<Record<PeerStatus, number>>>>;
  /** Freshest usable last_update_received_time over its cloud sessions, unix seconds. */
  readonly cloudLastUpdate: number | undefined;
}

export interface LiveRound {
  /** When the round finished, unix seconds. */
  readonly readAt: number;
  readonly byDevice: ReadonlyMap<string, LiveDevice>;
  readonly outcomes: ReadonlyMap<LiveOutcome, number>;
  readonly rowsUnusable: ReadonlyMap<RowUnusableReason, number>;
  readonly fieldsUnusable: ReadonlyMap<RowField, number>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The peer a result belongs to. The `peer` field's shape is not documented: a peer key string, or an
 * object carrying `peerKeyString` (the property SYNC CONTEXT selects peers by), is accepted.
 */
export function resultPeer(result: Record<string, unknown>): string | undefined {
  const peer = result['peer'];
  if (typeof peer === 'string' && peer !== '') return peer;
  if (isRecord(peer) && typeof peer['peerKeyString'] === 'string' && peer['peerKeyString'] !== '') return peer['peerKeyString'];
  return undefined;
}

/** A non-empty error object (or string), as ditto-cli treats a result's `error`. */
export function hasError(error: unknown): boolean {
  if (error === undefined || error === null) return false;
  if (typeof error === 'string') return error !== '';
  return !isRecord(error) || typeof error['description'] === 'string' || Object.keys(error).length > 0;
}


/** Accumulates the answers of one round, batch by batch; `finish` freezes it. */
export class LiveRoundBuilder {
  private readonly byDevice = new Map<string, LiveDevice>();
  private readonly outcomes = new Map<LiveOutcome, number>(LIVE_OUTCOMES.map((o) => [o, 0]));
  private readonly rowsUnusable = new Map<RowUnusableReason, number>(ROW_UNUSABLE_REASONS.map((r) => [r, 0]));
  private readonly fieldsUnusable = new Map<RowField, number>(ROW_FIELDS.map((f) => [f, 0]));
  private readonly errored = new Set<string>();

  constructor(private readonly clock: number) {}

  private count(outcome: LiveOutcome, n = 1): void {
    this.outcomes.set(outcome, this.outcomes.get(outcome)! + n);
  }

  /** One batch: the ids asked and the `result` array the server gave for them (already checked to be an array). */
  addBatch(asked: readonly string[], results: readonly unknown[]): void {
    const pending = new Set(asked);
    for (const result of results) {
      const peer = isRecord(result) ? resultPeer(result) : undefined;
      if (!isRecord(result) || peer === undefined || !pending.has(peer)) {
        this.count('unattributed');
        continue;
      }
      pending.delete(peer);
      const items = result['items'];
      if (hasError(result['error']) || !Array.isArray(items)) {
        this.errored.add(peer);
        this.count('error');
        continue;
      }
      const parsed = parseRows(items, this.clock);
      for (const [reason, n] of parsed.rowsUnusable) this.rowsUnusable.set(reason, this.rowsUnusable.get(reason)! + n);
      for (const [field, n] of parsed.fieldsUnusable) this.fieldsUnusable.set(field, this.fieldsUnusable.get(field)! + n);
      const sessions = emptyStatusCounts();
      let cloudLastUpdate: number | undefined;
      for (const row of parsed.rows) {
        sessions[row.type][row.status]++;
        if (row.type === 'cloud' && row.lastUpdate !== undefined && (cloudLastUpdate === undefined || row.lastUpdate > cloudLastUpdate)) cloudLastUpdate = row.lastUpdate;
      }
      this.byDevice.set(peer, { sessions, cloudLastUpdate });
      this.count('answered');
    }
    this.count('not_answered', pending.size);
  }

  /** A batch whose request failed as a whole: its devices did not answer. */
  addFailedBatch(asked: readonly string[]): void {
    this.count('not_answered', asked.length);
  }

  finish(readAt: number): LiveRound {
    return Object.freeze({ readAt, byDevice: this.byDevice, outcomes: this.outcomes, rowsUnusable: this.rowsUnusable, fieldsUnusable: this.fieldsUnusable });
  }
}
