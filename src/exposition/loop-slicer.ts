import { performance } from 'node:perf_hooks';

/**
 * Longest stretch of scrape work before the event loop is handed back (ms). A time budget rather
 * than a count of peers: the same count blocks several times longer on a small edge device than
 * here, and a 1,000-peer body that takes 2 ms needs no yield at all.
 */
export const SLICE_MS = 2;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Hands the event loop back whenever `sliceMs` of work has passed since the last hand-back. */
export class LoopSlicer {
  private sliceStart = performance.now();
  private yielded = false;

  constructor(private readonly sliceMs: number = SLICE_MS) {}

  /** Yields if this slice is used up; cheap enough to call every few hundred microseconds. */
  async pace(): Promise<void> {
    if (performance.now() - this.sliceStart < this.sliceMs) return;
    await yieldToLoop();
    this.yielded = true;
    this.sliceStart = performance.now();
  }

  /**
   * Work big enough to need slices is also slow to send: yield once more so its last slice and
   * the caller's write are not one stretch.
   */
  async finish(): Promise<void> {
    if (this.yielded) await yieldToLoop();
  }
}
