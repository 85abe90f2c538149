import {
  ROW_FIELDS,
  ROW_UNUSABLE_REASONS,
  type PeerRow,
  type PeerStatus,
  type PeerType,
  type RowField,
  type RowUnusableReason,
} from '../model.js';
import { readTime } from './timestamps.js';

/** Longest peer id accepted as a label value; Ditto peer keys are far shorter. */
export const MAX_PEER_ID_LENGTH = 512;

export type RowResult = { ok: true; row: PeerRow } | { ok: false; reason: RowUnusableReason };

// A Map, not an object literal: a row's text must never reach Object.prototype.
const STATUS_BY_KEY: ReadonlyMap<string, PeerStatus> = new Map([
  ['connected', 'connected'],
  ['notconnected', 'not_connected'],
  ['disabled', 'disabled'],
]);

/**
 * Ditto writes "Connected", "Not Connected", "Disabled"; Ditto's Flutter tools also accept 1 and 0.
 * Another string is a status this exporter does not know (`unknown`, still usable); `null` means
 * the value is unusable (absent, or not a string or 0/1).
 */
export function parseStatus(value: unknown): PeerStatus | null {
  // Ditto's exact spellings first: saves a lowercase copy and a regex replace per row per tick.
  switch (value) {
    case 'Connected':
      return 'connected';
    case 'Not Connected':
      return 'not_connected';
    case 'Disabled':
      return 'disabled';
    case 1:
      return 'connected';
    case 0:
      return 'not_connected';
  }
  if (typeof value !== 'string') return null;
  return STATUS_BY_KEY.get(value.toLowerCase().replace(/[^a-z]/g, '')) ?? 'unknown';
}

/**
 * A commit id as number, bigint or decimal string. `undefined` means unknown (null/absent);
 * `null` means present but unusable (negative, fractional, past 2^53 as a JS number, not a number).
 */
export function parseCommitId(value: unknown): bigint | undefined | null {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'bigint') return value >= 0n ? value : null;
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : null;
  }
  if (typeof value === 'string' && /^[0-9]{1,40}$/.test(value)) return BigInt(value);
  return null;
}

/** Why an `_id` cannot name a peer's series, or undefined when it can. */
export function peerIdProblem(id: unknown): RowUnusableReason | undefined {
  if (typeof id !== 'string' || id.length === 0) return 'missing_id';
  // Lone surrogates all encode to U+FFFD: two such ids would write the same label text.
  if (id.length > MAX_PEER_ID_LENGTH || !id.isWellFormed()) return 'bad_id';
  return undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const CLEAN: readonly RowField[] = Object.freeze([]);

/**
 * Validates one row shaped as Ditto documents it, field by field, against the clock it was read by
 * (unix seconds). An unusable field becomes unknown and is named in `unusable`; the row is left out
 * only without a usable `_id`. Never throws.
 */
export function parseRow(raw: unknown, clock: number): RowResult {
  const result = validateRow(raw, clock);
  return typeof result === 'string' ? { ok: false, reason: result } : { ok: true, row: result };
}

/** The row, or why it is unusable. No result wrapper: parseRows runs this for every row of every tick. */
function validateRow(raw: unknown, clock: number): PeerRow | RowUnusableReason {
  if (!isRecord(raw)) return 'not_an_object';
  const id = raw['_id'];
  const idProblem = peerIdProblem(id);
  if (idProblem) return idProblem;
  // No closure per row: this runs for every row of every tick.
  let unusable: RowField[] | undefined;

  const isServer = raw['is_ditto_server'];
  let type: PeerType;
  if (isServer === true) type = 'cloud';
  else if (isServer === false) type = 'device';
  else {
    type = 'unknown';
    (unusable ??= []).push('is_ditto_server');
  }

  let status: PeerStatus = 'unknown';
  let syncedCommitId: bigint | undefined;
  let lastUpdate: number | undefined;
  let aheadOfClock = false;
  const docs = raw['documents'];
  if (!isRecord(docs)) (unusable ??= []).push('documents');
  else {
    const parsedStatus = parseStatus(docs['sync_session_status']);
    if (parsedStatus === null) (unusable ??= []).push('sync_session_status');
    else status = parsedStatus;
    const synced = parseCommitId(docs['synced_up_to_local_commit_id']);
    if (synced === null) (unusable ??= []).push('synced_up_to_local_commit_id');
    else syncedCommitId = synced;
    const time = readTime(docs['last_update_received_time'], clock);
    if (time.kind === 'unusable') (unusable ??= []).push('last_update_received_time');
    else if (time.kind === 'time') {
      lastUpdate = time.seconds;
      aheadOfClock = time.ahead;
    }
  }
  return { id: id as string, type, status, syncedCommitId, lastUpdate, unusable: unusable ? Object.freeze(unusable) : CLEAN, aheadOfClock };
}

export interface ParsedRows {
  readonly rows: readonly PeerRow[];
  /** Rows left out entirely, by reason (every reason present, 0 when none). */
  readonly rowsUnusable: ReadonlyMap<RowUnusableReason, number>;
  /** Rows with that field unusable, by field (every field present, 0 when none). */
  readonly fieldsUnusable: ReadonlyMap<RowField, number>;
  /** Rows whose last update is ahead of the clock by up to a day. */
  readonly aheadOfClock: number;
  /** Rows used with at least one unusable field. */
  readonly rowsWithUnusableField: number;
}

/** Validates a tick's rows; a repeated id keeps the first row and counts the others as `duplicate_id`. */
export function parseRows(raw: readonly unknown[], clock: number): ParsedRows {
  const rows: PeerRow[] = [];
  const rowsUnusable = new Map<RowUnusableReason, number>(ROW_UNUSABLE_REASONS.map((r) => [r, 0]));
  const fieldsUnusable = new Map<RowField, number>(ROW_FIELDS.map((f) => [f, 0]));
  let aheadOfClock = 0;
  let rowsWithUnusableField = 0;
  const seen = new Set<string>();
  for (const item of raw) {
    const row = validateRow(item, clock);
    if (typeof row === 'string') {
      rowsUnusable.set(row, rowsUnusable.get(row)! + 1);
      continue;
    }
    if (seen.has(row.id)) {
      rowsUnusable.set('duplicate_id', rowsUnusable.get('duplicate_id')! + 1);
      continue;
    }
    seen.add(row.id);
    rows.push(row);
    if (row.unusable.length > 0) rowsWithUnusableField++;
    for (const field of row.unusable) fieldsUnusable.set(field, fieldsUnusable.get(field)! + 1);
    if (row.aheadOfClock) aheadOfClock++;
  }
  return { rows, rowsUnusable, fieldsUnusable, aheadOfClock, rowsWithUnusableField };
}
