/**
 * Local commits the application made, kept with their time until a cloud server has them.
 * Bounded: past `maxUnacked` the oldest are forgotten and counted as dropped.
 */
export class CommitTracker {
  // Sorted by id; `head` skips acked entries without shifting the array on every ack.
  private ids: bigint[] = [];
  private ats: number[] = [];
  private head = 0;
  private highest: bigint | undefined;
  private ackedUpTo: bigint | undefined;
  private droppedCount = 0;

  constructor(private readonly maxUnacked: number) {
    if (!Number.isInteger(maxUnacked) || maxUnacked < 1) throw new RangeError('maxUnacked must be a positive integer');
  }

  /** Highest commit id ever tracked. */
  get maxTracked(): bigint | undefined {
    return this.highest;
  }

  get unacked(): number {
    return this.ids.length - this.head;
  }

  /** When the oldest unacked commit was made (unix seconds), if any. */
  get oldestUnackedAt(): number | undefined {
    let oldest: number | undefined;
    for (let i = this.head; i < this.ats.length; i++) {
      const at = this.ats[i]!;
      if (oldest === undefined || at < oldest) oldest = at;
      // Commit times rise with ids in practice; stop after the first few to stay O(1).
      if (i - this.head >= 8) break;
    }
    return oldest;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  track(id: bigint, at: number): void {
    if (this.highest === undefined || id > this.highest) this.highest = id;
    // A commit the cloud already covers has nothing left to wait for.
    if (this.ackedUpTo !== undefined && id <= this.ackedUpTo) return;
    const last = this.ids.length > this.head ? this.ids[this.ids.length - 1]! : undefined;
    if (last === undefined || id > last) {
      this.ids.push(id);
      this.ats.push(at);
    } else {
      const pos = this.search(id);
      if (this.ids[pos] === id) return; // already tracked: keep the first time
      this.ids.splice(pos, 0, id);
      this.ats.splice(pos, 0, at);
    }
    while (this.unacked > this.maxUnacked) {
      this.head++;
      this.droppedCount++;
    }
    this.compact();
  }

  /**
   * The cloud has every commit up to `cloudSynced`: report each newly covered commit's wait
   * (`at` − commit time, never negative) and forget it.
   */
  ack(cloudSynced: bigint, at: number, observe: (latencySeconds: number) => void): void {
    if (this.ackedUpTo === undefined || cloudSynced > this.ackedUpTo) this.ackedUpTo = cloudSynced;
    while (this.head < this.ids.length && this.ids[this.head]! <= cloudSynced) {
      observe(Math.max(0, at - this.ats[this.head]!));
      this.head++;
    }
    this.compact();
  }

  private search(id: bigint): number {
    let lo = this.head;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.ids.length) {
      this.ids = this.ids.slice(this.head);
      this.ats = this.ats.slice(this.head);
      this.head = 0;
    }
  }
}
