import type { FleetInventory } from '../../collectors/fleet-inventory.js';
import { LiveRoundBuilder, type LiveRound } from '../../collectors/fleet-live.js';
import { DittoServerClient, FleetReadError } from './client.js';
import { liveSessions, SAFE_PEER_KEY } from './queries.js';

/** Peers per remote execute request: the statement stays short, and one slow device holds up few others. */
export const LIVE_BATCH = 25;
/** Remote execute requests in flight at once. */
export const LIVE_CONCURRENCY = 4;
/**
 * Only devices whose document arrived this recently are asked: remote execute reaches connected
 * devices only, and a connected device publishes every 300 s by default.
 */
export const LIVE_SEEN_WITHIN_SECONDS = 900;

export interface LiveReadOptions {
  readonly timeoutMs: number;
  readonly now: () => number;
  /** A request that failed as a whole (its devices count as not answered). */
  readonly onFailure: (error: FleetReadError) => void;
}

/** The devices of the inventory a live round asks: those with per-device series, seen recently, with a quotable key. */
export function liveTargets(inventory: FleetInventory, now: number): string[] {
  const since = now - LIVE_SEEN_WITHIN_SECONDS;
  const out: string[] = [];
  for (const { device } of inventory.entries) {
    if (device.lastSeen !== undefined && device.lastSeen >= since && SAFE_PEER_KEY.test(device.id)) out.push(device.id);
  }
  return out;
}

/** One live round over `targets`: every batch is asked, failures are counted and the round still completes. */
export async function readLive(client: DittoServerClient, targets: readonly string[], options: LiveReadOptions): Promise<LiveRound> {
  const builder = new LiveRoundBuilder(options.now());
  const batches: string[][] = [];
  for (let i = 0; i < targets.length; i += LIVE_BATCH) batches.push(targets.slice(i, i + LIVE_BATCH));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      try {
        builder.addBatch(batch, await client.remoteExecute(liveSessions(batch), undefined, options.timeoutMs));
      } catch (error) {
        if (!(error instanceof FleetReadError)) throw error;
        builder.addFailedBatch(batch);
        options.onFailure(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(LIVE_CONCURRENCY, batches.length) }, worker));
  return builder.finish(options.now());
}
