import type { RawTick } from '../src/model.js';
import type { SourceSink, SyncSource } from '../src/sources/source.js';
import type { FixtureTick } from './fixtures.js';

/** Scrapes land between ticks: "now" is this long after the latest tick was read. */
export const SCRAPE_OFFSET_SECONDS = 0.25;

/**
 * A source the benchmark drives by hand: each `deliver` is one observer tick, and the clock is
 * the latest tick's read time, so every figure is reproducible.
 */
export class BenchSource implements SyncSource {
  readonly kind = 'simulate' as const;
  readonly dittoSdkVersion = 'bench';
  open = true;
  private sink: SourceSink | undefined;
  private clock = 0;

  async start(sink: SourceSink): Promise<void> {
    this.sink = sink;
  }

  /** Hands one tick to the exporter, as an observer callback would. */
  deliver(tick: FixtureTick): void {
    if (!this.sink) throw new Error('BenchSource.deliver before start');
    this.clock = tick.readAt;
    this.sink.tick(toRawTick(tick));
  }

  now(): number {
    return this.clock + SCRAPE_OFFSET_SECONDS;
  }

  async close(): Promise<void> {
    this.open = false;
  }
}

export function toRawTick(tick: FixtureTick): RawTick {
  return { rows: tick.rows, readAt: tick.readAt, commits: tick.commits };
}
