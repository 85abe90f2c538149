/**
 * Sharding as kube-state-metrics shards objects (pkg/sharding: `jump.Hash(fnv64a(uid), totalShards)`):
 * each device belongs to exactly one of `total` shards, decided by the 64-bit FNV-1a hash of its id
 * fed to Google's jump consistent hash (Lamping & Veach 2014). Several exporters split a fleet with
 * no coordination, the union of their outputs is the whole fleet, and going from M to M+1 shards
 * moves only about 1/(M+1) of the devices (each to the new shard).
 *
 * 64-bit arithmetic is done on two unsigned 32-bit halves, not BigInt: every read hashes every
 * device of the inventory.
 */

export interface Shard {
  /** This exporter's shard, 0 ≤ index < total. */
  readonly index: number;
  readonly total: number;
}

export const ONE_SHARD: Shard = Object.freeze({ index: 0, total: 1 });

const TWO_32 = 0x1_0000_0000;
const encoder = new TextEncoder();

/**
 * FNV-1a 64 of the id's UTF-8 bytes into `h` ([low, high] 32-bit halves). Each round is
 * (hash ^ byte) * 0x100000001b3 mod 2^64, and 0x100000001b3 = 2^40 + 0x1b3: hash * 0x1b3, plus the
 * low half shifted 40 bits up, into the high half.
 */
function fnv1a64Into(id: string, h: Uint32Array): void {
  let lo = 0x84222325;
  let hi = 0xcbf29ce4;
  // ASCII ids (every Ditto peer key) hash without an encoding pass.
  let ascii = true;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c > 0x7f) {
      ascii = false;
      break;
    }
    const x = (lo ^ c) >>> 0;
    const low = x * 0x1b3; // below 2^41: exact
    lo = low >>> 0;
    hi = (Math.imul(hi, 0x1b3) + (x << 8) + Math.floor(low / TWO_32)) >>> 0;
  }
  if (!ascii) {
    lo = 0x84222325;
    hi = 0xcbf29ce4;
    for (const byte of encoder.encode(id)) {
      const x = (lo ^ byte) >>> 0;
      const low = x * 0x1b3;
      lo = low >>> 0;
      hi = (Math.imul(hi, 0x1b3) + (x << 8) + Math.floor(low / TWO_32)) >>> 0;
    }
  }
  h[0] = lo;
  h[1] = hi;
}

// The jump hash's 64-bit LCG multiplier, 2862933555777941757, in halves and 16-bit limbs of the low half.
const LCG_HI = 0x27bb2ee6;
const LCG_LO = 0x87b0b0fd;
const LCG_LO0 = LCG_LO & 0xffff;
const LCG_LO1 = LCG_LO >>> 16;

/** Jump consistent hash of the 64-bit key in `h` (halves) into 0 ≤ bucket < buckets. */
function jumpInto(h: Uint32Array, buckets: number): number {
  let lo = h[0]!;
  let hi = h[1]!;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    // key = key * 2862933555777941757 + 1 mod 2^64.
    const a0 = lo & 0xffff;
    const a1 = lo >>> 16;
    const mid = a1 * LCG_LO0 + a0 * LCG_LO1; // below 2^33
    const low = a0 * LCG_LO0 + (mid % 0x10000) * 0x10000 + 1; // below 2^33 + 1
    const high = a1 * LCG_LO1 + Math.floor(mid / 0x10000) + Math.floor(low / TWO_32);
    hi = (high + Math.imul(hi, LCG_LO) + Math.imul(lo, LCG_HI)) >>> 0;
    lo = low >>> 0;
    // j = floor((b + 1) * (2^31 / ((key >>> 33) + 1))), in doubles as the reference does.
    j = Math.floor((b + 1) * (2147483648 / ((hi >>> 1) + 1)));
  }
  return b;
}

const scratch = new Uint32Array(2);
const halvesOf = (key: bigint): Uint32Array => Uint32Array.of(Number(BigInt.asUintN(32, key)), Number(BigInt.asUintN(32, key >> 32n)));

/** 64-bit FNV-1a of the id's UTF-8 bytes (Go's hash/fnv New64a), as an unsigned BigInt (for tests and tools). */
export function fnv1a64(id: string): bigint {
  const h = new Uint32Array(2);
  fnv1a64Into(id, h);
  return (BigInt(h[1]!) << 32n) | BigInt(h[0]!);
}

/** Jump consistent hash of an unsigned 64-bit key into 0 ≤ bucket < buckets (github.com/dgryski/go-jump Hash). */
export const jumpHash = (key: bigint, buckets: number): number => jumpInto(halvesOf(BigInt.asUintN(64, key)), buckets);

/** The shard of a device id: jump(fnv1a64(id), total), as kube-state-metrics assigns an object by its UID. */
export function shardOf(id: string, total: number): number {
  if (total <= 1) return 0;
  fnv1a64Into(id, scratch);
  return jumpInto(scratch, total);
}

export const inShard = (id: string, shard: Shard): boolean => shardOf(id, shard.total) === shard.index;

/** Throws a RangeError unless 0 ≤ index < total, both integers. */
export function checkShard(shard: Shard): Shard {
  const { index, total } = shard;
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`total shards must be a positive integer, got ${total}`);
  if (!Number.isInteger(index) || index < 0 || index >= total) throw new RangeError(`shard must be an integer from 0 to ${total - 1}, got ${index}`);
  return Object.freeze({ index, total });
}
