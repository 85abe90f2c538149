// Imported first by the bin entry (cli.ts), before anything else loads: keep it free of imports.

/**
 * Stop signals from the first instant of the process: SIGTERM, SIGINT and SIGHUP all ask for a
 * graceful stop (the exporter re-reads nothing at run time, so there is no reload for SIGHUP to
 * mean). The first signal starts the shutdown; every later one cuts its grace period short.
 */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** What the lifecycle listens on: the process, or an emitter in tests. */
export interface SignalSource {
  on(signal: StopSignal, listener: () => void): unknown;
  off(signal: StopSignal, listener: () => void): unknown;
}

export type Step<T> = { readonly stopped: false; readonly value: T } | { readonly stopped: true; readonly signal: StopSignal };

export class Lifecycle {
  private first: StopSignal | undefined;
  private resolveStopped!: (signal: StopSignal) => void;
  /** Resolves with the first stop signal. */
  readonly stopped: Promise<StopSignal> = new Promise((resolve) => (this.resolveStopped = resolve));
  private readonly repeatListeners: Array<(signal: StopSignal) => void> = [];
  private readonly listeners = new Map<StopSignal, () => void>();
  /** Releases of what abandoned steps produced after the stop. */
  private readonly releases: Promise<unknown>[] = [];

  constructor(private readonly signals: SignalSource = process) {
    for (const signal of STOP_SIGNALS) {
      const listener = () => this.receive(signal);
      this.listeners.set(signal, listener);
      signals.on(signal, listener);
    }
  }

  /** The first stop signal received, if any. */
  get stopSignal(): StopSignal | undefined {
    return this.first;
  }

  /** Called for every stop signal after the first (to cut the grace period short). */
  onRepeat(listener: (signal: StopSignal) => void): void {
    this.repeatListeners.push(listener);
  }

  /**
   * Waits for a start-up step unless a stop signal comes first. When it does, `late` receives
   * whatever the step produces afterwards (an opened store, say), so it can be released too.
   */
  async step<T>(work: Promise<T>, late?: (value: T) => Promise<void> | void): Promise<Step<T>> {
    if (this.first) {
      this.abandon(work, late);
      return { stopped: true, signal: this.first };
    }
    const outcome = await Promise.race([work.then((value) => ({ stopped: false as const, value })), this.stopped.then((signal) => ({ stopped: true as const, signal }))]);
    if (outcome.stopped) this.abandon(work, late);
    return outcome;
  }

  /** A release to wait for in settle(), under its deadline (a store being closed, say). */
  track(release: Promise<unknown>): void {
    this.releases.push(release.catch(() => {}));
  }

  /** Waits (at most `timeoutMs`) for abandoned steps to finish, for what they produced to be released, and for tracked releases. */
  async settle(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const done = await Promise.race([Promise.allSettled(this.releases).then(() => true), timedOut]);
    clearTimeout(timer);
    return done;
  }

  private abandon<T>(work: Promise<T>, late: ((value: T) => Promise<void> | void) | undefined): void {
    this.releases.push(work.then(late, () => {}).catch(() => {}));
  }

  /** Stops listening (tests; the CLI listens until it exits). */
  dispose(): void {
    for (const [signal, listener] of this.listeners) this.signals.off(signal, listener);
    this.listeners.clear();
  }

  private receive(signal: StopSignal): void {
    if (this.first === undefined) {
      this.first = signal;
      this.resolveStopped(signal);
      return;
    }
    for (const listener of this.repeatListeners) {
      try {
        listener(signal);
      } catch {
        // A failing listener must not stop the others.
      }
    }
  }
}

/** The one plain line for a stop before the logger exists (nothing is open yet); exit 0 follows. */
export function stoppedBeforeStartLine(signal: string, step: string): string {
  return `ditto-sync-exporter: stop signal ${signal} while ${step}, before anything was opened; stopped`;
}
