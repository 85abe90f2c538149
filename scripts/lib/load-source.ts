import type { RawTick } from '../../src/model.js';
import { wallClock, type SourceSink, type SyncSource } from '../../src/sources/source.js';
import type { ChurnMesh } from './churn-mesh.js';

/**
 * Observer ticks from a churning mesh on the wall clock, every `tickMs`, as Ditto delivers them
 * while syncing. Records how late each tick fired, so a run can tell whether ticks kept flowing
 * while /metrics was hammered.
 */
export class LoadSource implements SyncSource {
  readonly kind = 'simulate' as const;
  readonly dittoSdkVersion = 'load';
  delivered = 0;
  /** Longest gap between two ticks (ms); tickMs when timers are never starved. */
  maxGapMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastAt: number | undefined;

  constructor(
    private readonly mesh: ChurnMesh,
    private readonly tickMs: number,
  ) {}

  get open(): boolean {
    return !this.closed;
  }

  now(): number {
    return wallClock();
  }

  async start(sink: SourceSink): Promise<void> {
    const tick = () => {
      if (this.closed) return;
      const at = performance.now();
      if (this.lastAt !== undefined) this.maxGapMs = Math.max(this.maxGapMs, at - this.lastAt);
      this.lastAt = at;
      try {
        sink.tick(this.mesh.next(wallClock()));
        this.delivered++;
      } catch (error) {
        sink.error(error, 'delivering a load tick');
      }
      this.timer = setTimeout(tick, this.tickMs);
    };
    tick();
  }

  /** Gap statistics restart here (the warm-up before the load does not count). */
  resetGaps(): void {
    this.maxGapMs = 0;
  }

  async refresh(): Promise<RawTick> {
    return this.mesh.next(wallClock());
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
