/**
 * Unix times whose unit is not known in advance. Every consumer of `last_update_received_time` we
 * found reads it as milliseconds (Ditto's Flutter tools, Edge Studio in Swift, Kotlin and .NET),
 * Ditto's documentation example looks like seconds, and nothing rules out µs or ns. The unit is
 * the one that puts the value nearest the exporter's clock: the candidates are a factor of 1000
 * apart, so for any time within a few decades of now only one is plausible.
 */

/** A time further ahead of the clock than this is unusable (clock skew is tolerated up to here). */
export const MAX_AHEAD_SECONDS = 86_400;

/**
 * A time further behind the clock than this (20 years) is unusable: no Ditto peer is that old, so
 * such a value is a unit read wrongly (1e15 µs taken for 2001) or a placeholder, and would
 * otherwise pass as a real, very old time.
 */
export const MAX_BEHIND_SECONDS = 20 * 365.25 * 86_400;

/** Ahead of the clock by more than this counts as ahead (seconds-since then reads 0). */
export const AHEAD_TOLERANCE_SECONDS = 1;

/** √1000: the candidate units are a factor of 1000 apart, so the nearest in log space changes at √1000. */
const MIDPOINT = Math.sqrt(1000);

/** `value` (s, ms, µs or ns since the epoch, > 0) in unix seconds, the unit chosen against `clock` (unix seconds). */
export function toUnixSeconds(value: number, clock: number): number {
  // The unit whose value lies nearest the clock in log space: a ratio to the clock of under √1000
  // is seconds, under √1000·1000 milliseconds, and so on (no logarithm per row).
  const ratio = value / (clock > 0 ? clock : 1.7e9);
  if (ratio < MIDPOINT) return value;
  if (ratio < MIDPOINT * 1e3) return value / 1e3;
  if (ratio < MIDPOINT * 1e6) return value / 1e6;
  return value / 1e9;
}

/** What a time field says: never (absent, null, zero, negative), a time, or something unusable. */
export type TimeReading = { readonly kind: 'never' } | { readonly kind: 'time'; readonly seconds: number; readonly ahead: boolean } | { readonly kind: 'unusable' };

const NEVER: TimeReading = Object.freeze({ kind: 'never' });
const UNUSABLE: TimeReading = Object.freeze({ kind: 'unusable' });

/** An ISO 8601 date-time as Ditto writes `last_updated_at` (2026-12-01T07:40:50.506Z). */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const DECIMAL = /^-?\d{1,30}(\.\d{1,20})?$/;

/**
 * Reads a time field against `clock` (unix seconds). Numbers, bigints, decimal strings and ISO 8601
 * strings are times; anything else, anything more than a day ahead of the clock and anything more
 * than 20 years behind it is unusable.
 */
export function readTime(value: unknown, clock: number): TimeReading {
  if (value === undefined || value === null) return NEVER;
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') n = Number(value);
  else if (typeof value === 'string' && DECIMAL.test(value)) n = Number(value);
  else if (typeof value === 'string' && ISO_8601.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isFinite(ms)) return UNUSABLE;
    return ms <= 0 ? NEVER : at(ms / 1000, clock);
  } else return UNUSABLE;
  if (!Number.isFinite(n)) return UNUSABLE;
  if (n <= 0) return NEVER;
  return at(toUnixSeconds(n, clock), clock);
}

function at(seconds: number, clock: number): TimeReading {
  if (!Number.isFinite(seconds) || seconds > clock + MAX_AHEAD_SECONDS || seconds < clock - MAX_BEHIND_SECONDS) return UNUSABLE;
  return { kind: 'time', seconds, ahead: seconds > clock + AHEAD_TOLERANCE_SECONDS };
}
