import { performance } from 'node:perf_hooks';

/** A stretch in which the event loop did not run timers, milliseconds on performance.now(). */
export interface Block {
  readonly start: number;
  readonly ms: number;
}

export interface Window {
  readonly start: number;
  end: number;
}

/** Gaps shorter than this are the timer's own jitter. */
export const NOTICE_MS = 5;

/**
 * Finds event-loop blocks with their time, so each can be put down to what was running (a scrape,
 * a tick, something else): monitorEventLoopDelay gives the distribution but not the when.
 */
export class BlockRecorder {
  readonly blocks: Block[] = [];
  private last = performance.now();
  private readonly timer = setInterval(() => {
    const now = performance.now();
    const gap = now - this.last - 1;
    if (gap >= NOTICE_MS) this.blocks.push({ start: this.last, ms: gap });
    this.last = now;
  }, 1);

  stop(): void {
    clearInterval(this.timer);
  }
}

const overlaps = (b: Block, windows: readonly Window[]) => windows.some((w) => b.start < w.end && b.start + b.ms > w.start);
const longest = (blocks: readonly Block[]) => blocks.reduce((max, b) => Math.max(max, b.ms), 0);

/** The longest block that overlaps any of the windows (0 when none). */
export function longestWithin(blocks: readonly Block[], windows: readonly Window[]): number {
  return longest(blocks.filter((b) => overlaps(b, windows)));
}

/** The longest block that overlaps none of the windows (0 when none). */
export function longestOutside(blocks: readonly Block[], windows: readonly Window[]): number {
  return longest(blocks.filter((b) => !overlaps(b, windows)));
}
