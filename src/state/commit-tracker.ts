import { MinHeap } from './min-heap.js';

interface Pending {
  readonly id: bigint;
  readonly at: number;
  /** False once acked or dropped; the time heap discards such entries lazily. */
  live: boolean;
}

/**
 * Local commits the application made, kept with their time until a cloud server has them.
 * Bounded: past `maxUnacked` the lowest ids are forgotten and counted as dropped. Every operation
 * is O(log n) in the tracked count, whatever order the ids come in.
 */
export class CommitTracker {
  private readonly byId = new MinHeap<Pending>((a, b) => a.id < b.id);
  private readonly byAt = new MinHeap<Pending>((a, b) => a.at < b.at);
  private readonly pendingIds = new Set<bigint>();
  private highest: bigint | undefined;
  private ackedUpTo: bigint | undefined;
  private droppedCount = 0;
  private trackedCount = 0;

  constructor(private readonly maxUnacked: number) {
    if (!Number.isInteger(maxUnacked) || maxUnacked < 1) throw new RangeError('maxUnacked must be a positive integer');
  }

  /** Highest commit id ever tracked. */
  get maxTracked(): bigint | undefined {
    return this.highest;
  }

  get unacked(): number {
    return this.pendingIds.size;
  }

  /** Commits tracked since start, acked or not (repeats of a waiting id not counted). */
  get tracked(): number {
    return this.trackedCount;
  }

  /** When the oldest unacked commit was made (unix seconds), if any. */
  get oldestUnackedAt(): number | undefined {
    let top = this.byAt.peek();
    while (top !== undefined && !top.live) {
      this.byAt.pop();
      top = this.byAt.peek();
    }
    return top?.at;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  /**
   * Tracks a commit made at `at`, seen at `now` (unix seconds). A commit the cloud already has is
   * observed at once with the wait up to now (an upper bound); a repeat of a waiting id keeps its
   * first time.
   */
  track(id: bigint, at: number, now: number, observe: (latencySeconds: number) => void): void {
    if (this.highest === undefined || id > this.highest) this.highest = id;
    if (this.ackedUpTo !== undefined && id <= this.ackedUpTo) {
      this.trackedCount++;
      observe(Math.max(0, now - at));
      return;
    }
    if (this.pendingIds.has(id)) return;
    this.trackedCount++;
    const entry: Pending = { id, at, live: true };
    this.pendingIds.add(id);
    this.byId.push(entry);
    this.byAt.push(entry);
    while (this.pendingIds.size > this.maxUnacked) {
      this.forget(this.byId.pop()!);
      this.droppedCount++;
    }
  }

  /**
   * The cloud has every commit up to `cloudSynced`: report each newly covered commit's wait
   * (`at` − commit time, never negative) and forget it.
   */
  ack(cloudSynced: bigint, at: number, observe: (latencySeconds: number) => void): void {
    if (this.ackedUpTo === undefined || cloudSynced > this.ackedUpTo) this.ackedUpTo = cloudSynced;
    for (let top = this.byId.peek(); top !== undefined && top.id <= cloudSynced; top = this.byId.peek()) {
      this.byId.pop();
      this.forget(top);
      observe(Math.max(0, at - top.at));
    }
  }

  private forget(entry: Pending): void {
    entry.live = false;
    this.pendingIds.delete(entry.id);
    // Forgotten entries leave the time heap only when they reach its top; bound what they can hold.
    if (this.byAt.size > 2 * this.pendingIds.size + 1024) this.byAt.retain((e) => e.live);
  }
}
