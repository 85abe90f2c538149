import type { Server } from 'node:http';
import express from 'express';
import { boundPort, closeServer, createApp, createRouter, listen, type RouterOptions } from '../src/server.js';
import type { Window } from './blocks.js';
import { benchExporter, type BenchBackend, type BenchExporter } from './exporters.js';
import { createMesh, renderTicks, TICK_INTERVAL_SECONDS, type FixtureTick } from './fixtures.js';

/** Ticks prepared ahead and cycled: building SDK rows is Ditto's work, not the exporter's. */
const TICK_VARIANTS = 8;

/**
 * A host app with the exporter mounted: HTTP on loopback, observer ticks arriving every 500 ms as
 * Ditto delivers them while syncing.
 */
export class LiveExporter {
  private timer: NodeJS.Timeout | undefined;
  private delivered = 0;
  /** Milliseconds each tick's ingest blocked the loop. */
  readonly tickDurations: number[] = [];
  /** When each tick and each /metrics request (arrival to last byte handed to the OS) ran. */
  readonly tickWindows: Window[] = [];

  private constructor(
    readonly bench: BenchExporter,
    private readonly server: Server,
    private readonly ticks: readonly FixtureTick[],
    readonly scrapeWindows: Window[],
  ) {}

  static async start(backend: BenchBackend, peers: number, router: RouterOptions = {}): Promise<LiveExporter> {
    const bench = await benchExporter(backend, peers);
    const ticks = renderTicks(createMesh(peers), TICK_VARIANTS);
    const windows: Window[] = [];
    const app = express();
    // Ahead of the router, so a window spans a request from arrival to its last byte.
    app.use('/metrics', (_req, res, next) => {
      const window: Window = { start: performance.now(), end: Infinity };
      windows.push(window);
      res.once('finish', () => (window.end = performance.now()));
      res.once('close', () => (window.end = Math.min(window.end, performance.now())));
      next();
    });
    app.use(createApp(createRouter(bench.exporter, undefined, router)));
    const server = await listen(app, { host: '127.0.0.1', port: 0 });
    const live = new LiveExporter(bench, server, ticks, windows);
    live.tick();
    return live;
  }

  get url(): string {
    return `http://127.0.0.1:${boundPort(this.server)}/metrics`;
  }

  /** Starts delivering a tick every 500 ms. */
  startTicking(): void {
    this.timer ??= setInterval(() => this.tick(), TICK_INTERVAL_SECONDS * 1000);
  }

  private tick(): void {
    const k = this.delivered++;
    const variant = this.ticks[k % this.ticks.length]!;
    // Time keeps moving on while the rows cycle; commits were tracked the first time round.
    const tick: FixtureTick = { ...variant, readAt: variant.readAt + Math.floor(k / this.ticks.length) * this.ticks.length * TICK_INTERVAL_SECONDS, commits: [] };
    const start = performance.now();
    this.bench.source.deliver(tick);
    const end = performance.now();
    this.tickDurations.push(end - start);
    this.tickWindows.push({ start, end });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await closeServer(this.server);
    await this.bench.exporter.close();
  }
}
