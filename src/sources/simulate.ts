import { checkOption, RANGES } from '../bounds.js';
import type { Logger } from '../logger.js';
import type { RawStorage } from '../model.js';
import { MeshSimulator, type MeshOptions } from './mesh-simulator.js';
import { wallClock, type SourceSink, type SyncSource } from './source.js';

export interface SimulateOptions {
  readonly mesh: MeshOptions;
  /** Milliseconds between observer ticks (Ditto refreshes every 500 ms while syncing). */
  readonly tickMs: number;
  readonly logger?: Logger;
}

/** Drives a MeshSimulator on the wall clock, one tick every `tickMs`. Simulated data, never real. */
export class SimulateSource implements SyncSource {
  readonly kind = 'simulate' as const;
  private readonly mesh: MeshSimulator;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private inOutage = false;
  private lastPresence = '';

  constructor(private readonly options: SimulateOptions) {
    checkOption(options.tickMs, 'tickMs', RANGES.simulateTickMs);
    this.mesh = new MeshSimulator(options.mesh);
  }

  get open(): boolean {
    return !this.closed;
  }

  now(): number {
    return wallClock();
  }

  async start(sink: SourceSink): Promise<void> {
    this.options.logger?.info(
      { mesh: this.options.mesh },
      'simulated mesh: these metrics describe synthetic peers, presence graph and storage, not real Ditto sync',
    );
    const tick = () => {
      if (this.closed) return;
      const t = wallClock();
      try {
        const step = this.mesh.step(t);
        if (step.outage !== this.inOutage) {
          this.inOutage = step.outage;
          this.options.logger?.info(`simulated cloud outage ${step.outage ? 'begins' : 'ends'}`);
        }
        // Like Ditto's presence observer: a graph only when it changed.
        const presence = JSON.stringify(step.presence);
        if (presence !== this.lastPresence) {
          this.lastPresence = presence;
          sink.presence(step.presence, t);
        }
        sink.tick({ rows: step.rows, readAt: t, commits: step.commits });
      } catch (error) {
        sink.error(error, 'simulating a tick');
      }
      this.timer = setTimeout(tick, this.options.tickMs);
    };
    tick();
  }

  /** Simulated storage figures, shaped as system:system_info rows. */
  async readStorage(): Promise<RawStorage> {
    if (this.closed) throw new Error('SimulateSource is closed');
    const readAt = wallClock();
    return { rows: this.mesh.storage(readAt), readAt };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
