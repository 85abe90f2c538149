import { performance } from 'node:perf_hooks';

export interface LogLimiterOptions {
  /** Messages of one kind logged per window (default 10). */
  readonly burst?: number;
  /** Window length in seconds (default 60). */
  readonly windowSeconds?: number;
  /** Monotonic seconds (tests). */
  readonly clock?: () => number;
}

interface Window {
  startedAt: number;
  logged: number;
  suppressed: number;
}

/**
 * Rate-limits repeated log lines of one kind (a replay reason, an error context): the first
 * `burst` in each window are written, the rest counted, and the count is written as one summary
 * line when the kind's next window opens or at `flush()`. A million junk replay lines write a
 * handful of lines, not a million; the exact counts are in the metrics either way.
 */
export class LogLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly burst: number;
  private readonly windowSeconds: number;
  private readonly clock: () => number;

  constructor(
    /** Writes one summary: `suppressed` lines of `kind` left out over `seconds`. */
    private readonly summarise: (kind: string, suppressed: number, seconds: number) => void,
    options: LogLimiterOptions = {},
  ) {
    this.burst = options.burst ?? 10;
    this.windowSeconds = options.windowSeconds ?? 60;
    this.clock = options.clock ?? (() => performance.now() / 1000);
  }

  /** Whether this occurrence of `kind` may be logged; when not, it is counted for the summary. */
  allow(kind: string): boolean {
    const now = this.clock();
    let window = this.windows.get(kind);
    if (window && now - window.startedAt >= this.windowSeconds) {
      this.report(kind, window, now);
      window = undefined;
    }
    if (!window) {
      window = { startedAt: now, logged: 0, suppressed: 0 };
      this.windows.set(kind, window);
    }
    if (window.logged < this.burst) {
      window.logged++;
      return true;
    }
    window.suppressed++;
    return false;
  }

  /** Writes the summary of every kind with lines left out (at the end of a replay, at close). */
  flush(): void {
    const now = this.clock();
    for (const [kind, window] of this.windows) this.report(kind, window, now);
    this.windows.clear();
  }

  private report(kind: string, window: Window, now: number): void {
    if (window.suppressed === 0) return;
    const suppressed = window.suppressed;
    window.suppressed = 0;
    try {
      this.summarise(kind, suppressed, Math.max(0, now - window.startedAt));
    } catch {
      // A failing logger must not take the caller down with it.
    }
  }
}
