import type { RawTick, TrackedCommitInput } from '../model.js';

export const REPLAY_SKIP_REASONS = ['invalid_json', 'bad_shape', 'line_too_long', 't_backwards'] as const;
export type ReplaySkipReason = (typeof REPLAY_SKIP_REASONS)[number];

/** `presence`: the line's presence graph (shaped as the SDK's PresenceGraph), when it has one; validated later. */
export type ReplayLineResult = { ok: true; tick: RawTick; presence?: unknown } | { ok: false; reason: ReplaySkipReason; detail: string } | { ok: 'blank' };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * One JSON Lines record: `{"t": <unix seconds>, "rows": [...], "commits": [<ids>], "presence":
 * {...}}`, commits and presence optional. Pure and total: every input gives a tick or a reason.
 */
/**
 * The latest `t` a replay line may carry: 1e10 unix seconds is the year 2286. Beyond it is a time in
 * ms or a junk value, which as the clock would make every age and ack wait absurd.
 */
export const MAX_REPLAY_T = 1e10;

export function parseReplayLine(line: string): ReplayLineResult {
  const text = line.trim();
  if (text === '') return { ok: 'blank' };
  let value: unknown;
  // A file of junk throws on every line: without a stack trace each throw costs a third.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: 'invalid_json', detail: error instanceof Error ? error.message : 'not JSON' };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  if (!isRecord(value)) return { ok: false, reason: 'bad_shape', detail: 'a line must be a JSON object' };
  const t = value['t'];
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0 || t > MAX_REPLAY_T) return { ok: false, reason: 'bad_shape', detail: `"t" must be positive unix seconds, at most ${MAX_REPLAY_T}` };
  const rows = value['rows'];
  if (!Array.isArray(rows)) return { ok: false, reason: 'bad_shape', detail: '"rows" must be an array' };
  const commits = value['commits'];
  if (commits !== undefined && !Array.isArray(commits)) return { ok: false, reason: 'bad_shape', detail: '"commits" must be an array when present' };
  const presence = value['presence'];
  return {
    ok: true,
    tick: {
      rows,
      readAt: t,
      commits: (commits ?? []).map((c: unknown) => toCommit(c, t)),
    },
    ...(presence !== undefined && presence !== null && { presence }),
  };
}

/**
 * A commit entry: an id (number, or a decimal string for ids past 2^53), or `{"id", "at"}` when the
 * commit was made before the line's `t`. The state validates both and counts an unusable one.
 */
function toCommit(entry: unknown, t: number): TrackedCommitInput {
  if (isRecord(entry)) return { id: entry['id'], at: entry['at'] ?? t };
  return { id: entry, at: t };
}
