/**
 * What a leak check needs from the process: a forced GC (with or without --expose-gc) and the
 * active handles and timers by kind.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = () => void;

let cachedGc: Gc | undefined;

/** `global.gc`, or the same function fetched from a fresh context when the flag was not given. */
export function forceGc(): Gc {
  if (cachedGc) return cachedGc;
  const exposed = (globalThis as { gc?: Gc }).gc;
  if (typeof exposed === 'function') return (cachedGc = exposed);
  setFlagsFromString('--expose-gc');
  return (cachedGc = runInNewContext('gc') as Gc);
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * heapUsed after full, compacting collections. One forced GC leaves a few hundred KB that the next
 * one frees (weak callbacks, finalizers), so collect until a round frees almost nothing, as V8
 * does before a heap snapshot.
 */
export async function heapAfterGc(): Promise<number> {
  const gc = forceGc();
  // Compacting moves live objects together, so free holes too small to reuse are not counted
  // as used: without it heapUsed drifts with fragmentation, not with what is alive.
  setFlagsFromString('--compact-on-every-full-gc');
  try {
    let used = Infinity;
    for (let round = 0; round < 8; round++) {
      await nextTurn();
      gc();
      const now = process.memoryUsage().heapUsed;
      if (round >= 2 && used - now < SETTLED_BYTES) return Math.min(used, now);
      used = now;
    }
    return used;
  } finally {
    setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

const SETTLED_BYTES = 16 * 1024;

/** Active resources (handles, timers, requests) counted by kind. */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** Kinds that grew from `before` to `after`, as "Kind a→b". */
export function resourceGrowth(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): string[] {
  const grew: string[] = [];
  for (const [kind, n] of after) {
    const was = before.get(kind) ?? 0;
    if (n > was) grew.push(`${kind} ${was}→${n}`);
  }
  return grew;
}

export function formatResources(counts: ReadonlyMap<string, number>): string {
  const parts = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([kind, n]) => `${kind}=${n}`);
  return parts.length ? parts.join(' ') : 'none';
}

export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
