import type { PeerRow, PeerStatus, RejectReason } from '../model.js';

/** Longest peer id accepted as a label value; Ditto peer keys are far shorter. */
export const MAX_PEER_ID_LENGTH = 512;

/** Values above this are taken as milliseconds (1e11 s is the year 5138). */
const MILLISECONDS_THRESHOLD = 1e11;

export type RowResult = { ok: true; row: PeerRow } | { ok: false; reason: RejectReason };

const STATUS_BY_KEY: Readonly<Record<string, PeerStatus>> = {
  connected: 'connected',
  notconnected: 'not_connected',
  disabled: 'disabled',
};

/** Ditto writes "Connected", "Not Connected", "Disabled"; anything else is `unknown`. */
export function parseStatus(value: unknown): PeerStatus {
  // Ditto's exact spellings first: saves a lowercase copy and a regex replace per row per tick.
  switch (value) {
    case 'Connected':
      return 'connected';
    case 'Not Connected':
      return 'not_connected';
    case 'Disabled':
      return 'disabled';
  }
  if (typeof value !== 'string') return 'unknown';
  return STATUS_BY_KEY[value.toLowerCase().replace(/[^a-z]/g, '')] ?? 'unknown';
}

/**
 * A commit id as number, bigint or decimal string. `undefined` means unknown (null/absent);
 * `null` means present but unusable.
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

/**
 * A last-update time in unix seconds or milliseconds. `undefined` means unknown (null, absent,
 * zero or negative: never report epoch 0); `null` means present but unusable.
 */
export function parseTimestamp(value: unknown): number | undefined | null {
  if (value === undefined || value === null) return undefined;
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') n = Number(value);
  else return null;
  if (!Number.isFinite(n)) return null;
  if (n <= 0) return undefined;
  return n > MILLISECONDS_THRESHOLD ? n / 1000 : n;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates one row shaped as Ditto documents it. Never throws. */
export function parseRow(raw: unknown): RowResult {
  const result = validateRow(raw);
  return typeof result === 'string' ? { ok: false, reason: result } : { ok: true, row: result };
}

/** The row, or why it is unusable. No result wrapper: parseRows runs this for every row of every tick. */
function validateRow(raw: unknown): PeerRow | RejectReason {
  if (!isRecord(raw)) return 'not_an_object';
  const id = raw['_id'];
  if (typeof id !== 'string' || id.length === 0) return 'missing_id';
  if (id.length > MAX_PEER_ID_LENGTH) return 'bad_id';
  const isServer = raw['is_ditto_server'];
  if (typeof isServer !== 'boolean') return 'bad_is_ditto_server';
  const docs = raw['documents'];
  if (!isRecord(docs)) return 'bad_documents';
  const synced = parseCommitId(docs['synced_up_to_local_commit_id']);
  if (synced === null) return 'bad_commit_id';
  const lastUpdate = parseTimestamp(docs['last_update_received_time']);
  if (lastUpdate === null) return 'bad_timestamp';
  return {
    id,
    type: isServer ? 'cloud' : 'device',
    status: parseStatus(docs['sync_session_status']),
    syncedCommitId: synced,
    lastUpdate,
  };
}

export interface ParsedRows {
  readonly rows: readonly PeerRow[];
  readonly rejected: ReadonlyMap<RejectReason, number>;
}

/** Validates a tick's rows; unusable ones are counted by reason, duplicates of an id keep the first. */
export function parseRows(raw: readonly unknown[]): ParsedRows {
  const rows: PeerRow[] = [];
  const rejected = new Map<RejectReason, number>();
  const seen = new Set<string>();
  const reject = (reason: RejectReason) => rejected.set(reason, (rejected.get(reason) ?? 0) + 1);
  for (const item of raw) {
    const row = validateRow(item);
    if (typeof row === 'string') reject(row);
    else if (seen.has(row.id)) reject('duplicate_id');
    else {
      seen.add(row.id);
      rows.push(row);
    }
  }
  return { rows, rejected };
}
