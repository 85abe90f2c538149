/**
 * kube-state-metrics style sharding: each device belongs to exactly one of `total` shards, decided
 * by a stable hash of its id, so several exporters split a fleet with no coordination and the
 * union of their outputs is the whole fleet.
 */

export interface Shard {
  /** This exporter's shard, 0 ≤ index < total. */
  readonly index: number;
  readonly total: number;
}

export const ONE_SHARD: Shard = Object.freeze({ index: 0, total: 1 });

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const encoder = new TextEncoder();

/** 32-bit FNV-1a of the id's UTF-8 bytes (the hash kube-state-metrics shards by), as an unsigned number. */
export function fnv1a32(id: string): number {
  let hash = FNV_OFFSET;
  // ASCII ids (every Ditto peer key) hash without an encoding pass.
  let ascii = true;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c > 0x7f) {
      ascii = false;
      break;
    }
    hash = Math.imul(hash ^ c, FNV_PRIME);
  }
  if (!ascii) {
    hash = FNV_OFFSET;
    for (const byte of encoder.encode(id)) hash = Math.imul(hash ^ byte, FNV_PRIME);
  }
  return hash >>> 0;
}

export const shardOf = (id: string, total: number): number => (total <= 1 ? 0 : fnv1a32(id) % total);

export const inShard = (id: string, shard: Shard): boolean => shardOf(id, shard.total) === shard.index;

/** Throws a RangeError unless 0 ≤ index < total, both integers. */
export function checkShard(shard: Shard): Shard {
  const { index, total } = shard;
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`total shards must be a positive integer, got ${total}`);
  if (!Number.isInteger(index) || index < 0 || index >= total) throw new RangeError(`shard must be an integer from 0 to ${total - 1}, got ${index}`);
  return Object.freeze({ index, total });
}
