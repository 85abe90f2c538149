import type { RawTick } from '../../src/model.js';
import type { SourceSink, SyncSource } from '../../src/sources/source.js';
import type { ChurnMesh } from './churn-mesh.js';

/**
 * A source on a synthetic clock: the soak hands it ticks as fast as the exporter takes them, and
 * "now" is whatever the soak says, so a million ticks (almost six days of observer callbacks)
 * need no waiting. A scrape that finds the snapshot stale re-reads the mesh, as the Ditto source
 * re-runs its query.
 */
export class SoakSource implements SyncSource {
  readonly kind = 'simulate' as const;
  readonly dittoSdkVersion = 'soak';
  open = true;
  clock = 0;
  refreshes = 0;
  private sink: SourceSink | undefined;

  constructor(private readonly mesh: ChurnMesh) {}

  async start(sink: SourceSink): Promise<void> {
    this.sink = sink;
  }

  /** One observer callback. */
  deliver(tick: RawTick): void {
    if (!this.sink) throw new Error('SoakSource.deliver before start');
    this.clock = tick.readAt;
    this.sink.tick(tick);
  }

  async refresh(): Promise<RawTick> {
    this.refreshes++;
    return this.mesh.next(this.clock);
  }

  now(): number {
    return this.clock;
  }

  async close(): Promise<void> {
    this.open = false;
  }
}
