/**
 * This device's storage figures from `system:system_info` rows (`{key, namespace, timestamp,
 * value}`), as an immutable reading. Ditto samples each key about every second and keeps a short
 * history, so a key can come back several times: the sample with the latest timestamp is the one
 * that counts. Pure and total.
 */
import type { StoreComponent } from '../catalogue/device.js';
import { readTime } from './timestamps.js';

/** What each system_info key measures. */
export type StorageFigure = StoreComponent | 'filesystem_avail' | 'filesystem_size';

// A Map, not an object literal: a row's key must never reach Object.prototype.
export const STORAGE_KEYS: ReadonlyMap<string, StorageFigure> = new Map([
  ['fs_usage_store', 'store'],
  ['fs_usage_attachment', 'attachments'],
  ['fs_usage_replication', 'replication'],
  ['fs_usage_auth', 'auth'],
  ['fs_usage_total', 'total'],
  ['fs_device_available', 'filesystem_avail'],
  ['fs_device_total', 'filesystem_size'],
]);

export interface StorageReading {
  /** When the rows were read, unix seconds on the source clock. */
  readonly readAt: number;
  /** Bytes by figure; a figure missing or unusable in the rows is absent. */
  readonly bytes: ReadonlyMap<StorageFigure, number>;
  /** When Ditto measured the figures present: the oldest of their timestamps (unix seconds). */
  readonly measuredAt: number | undefined;
  /** Figures missing from the rows, or whose latest sample is not a usable number of bytes. */
  readonly unusable: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A byte count: a non-negative integer (number or bigint), else undefined. */
function bytesOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === 'bigint') return value >= 0n ? Number(value) : undefined;
  return undefined;
}

/**
 * Pure: system_info rows read at `readAt` → the latest sample of each storage key. A row whose
 * timestamp is unusable cannot be ordered and is ignored; when the latest sample of a key has an
 * unusable value the figure is left out, never replaced by an older sample.
 */
export function parseStorage(rows: readonly unknown[], readAt: number): StorageReading {
  const latest = new Map<StorageFigure, { at: number; value: unknown }>();
  for (const row of rows) {
    if (!isRecord(row)) continue;
    const key = row['key'];
    const figure = typeof key === 'string' ? STORAGE_KEYS.get(key) : undefined;
    if (!figure) continue;
    const time = readTime(row['timestamp'], readAt);
    if (time.kind !== 'time') continue;
    const seen = latest.get(figure);
    if (!seen || time.seconds > seen.at) latest.set(figure, { at: time.seconds, value: row['value'] });
  }
  const bytes = new Map<StorageFigure, number>();
  let measuredAt: number | undefined;
  for (const [figure, sample] of latest) {
    const value = bytesOf(sample.value);
    if (value === undefined) continue;
    bytes.set(figure, value);
    if (measuredAt === undefined || sample.at < measuredAt) measuredAt = sample.at;
  }
  return Object.freeze({ readAt, bytes, measuredAt, unusable: STORAGE_KEYS.size - bytes.size });
}
