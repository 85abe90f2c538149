import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { ByteWriterPool, type ByteWriter } from '../exposition/byte-writer.js';
import type { ExpositionFormat } from '../exposition/format.js';
import type { HttpStats } from './http-stats.js';

const gzipAsync = promisify(gzip);

/**
 * zlib's fastest level. Exposition text is so repetitive that level 1 leaves a body about 5 % larger
 * than the default level 6 (measured on a 1,000-peer body: 199 kB against 194 kB of 1.07 MB) in
 * two thirds of the time, and a scrape waits for its compression.
 */
export const GZIP_LEVEL = 1;

/** One rendered body, shared by every request that joined its render. */
export interface SharedBody {
  readonly contentType: string;
  /**
   * Rendered once; every response writes this same buffer. It lives in a pooled writer that is used
   * again once every holder has released it: read it only until your `release()`.
   */
  readonly body: Buffer;
  /** The gzipped body, compressed once on first use (off the event loop; a buffer of its own). */
  gzipped(): Promise<Buffer>;
}

/** A body handed to one request: it must release it once its response is done with the bytes. */
export interface HeldBody extends SharedBody {
  /** The response has finished or closed: its bytes are no longer read. Idempotent. */
  release(): void;
}

/** What the coordinator needs from the exporter. */
export interface ScrapeTarget {
  /** Identifies the state a render would show: requests with the same key may share one render. */
  renderKey(): string;
  /** Renders into `writer`; resolves with the content type. */
  scrapeInto(writer: ByteWriter, format: ExpositionFormat, options: { signal: AbortSignal }): Promise<string>;
}

/** A render in progress, or queued to start when the one in progress ends. */
interface Render {
  /** The render key it shows; undefined while queued (it shows whatever is current when it starts). */
  key: string | undefined;
  readonly controller: AbortController;
  readonly result: Promise<SharedBody>;
  /** Starts a queued render. */
  readonly start: () => void;
  /** Requests waiting for the result. */
  waiting: number;
  /** Requests (and a compression) still reading the body. */
  holders: number;
  /** Set once the render can take no more requests (it finished, failed or was abandoned). */
  retired: boolean;
  /** The pooled writer, until it goes back to the pool. */
  writer: ByteWriter | undefined;
}

interface Lane {
  current: Render | undefined;
  /** Requests that arrived while `current` showed an older state wait for this one. */
  next: Render | undefined;
}

/**
 * Concurrent scrapes share renders, so N scrapers cost one render on the event loop and one body
 * in memory, not N:
 *
 * - Requests for the same snapshot and format while its render is in progress join it, and its
 *   gzip.
 * - At most one render per format is in progress. A request that finds one in progress for an
 *   older snapshot waits for the next render, which starts as soon as that one ends and serves
 *   every request that queued for it. So every answer shows a state from within its own request.
 * - When every client waiting for a render has gone away, the render is aborted (its AbortSignal
 *   stops the slices of work) or, if still queued, never started.
 * - A body is written into a pooled buffer, which goes back to the pool once no request waits for
 *   it or still writes it, so scrapes after the first allocate no body at all.
 */
export class SharedScrapes {
  private readonly lanes = new Map<ExpositionFormat, Lane>();
  private readonly pool = new ByteWriterPool();

  constructor(
    private readonly target: ScrapeTarget,
    private readonly stats: HttpStats,
  ) {}

  /** Renders in progress, every format (for tests). */
  get rendersInProgress(): number {
    let n = 0;
    for (const lane of this.lanes.values()) if (lane.current) n++;
    return n;
  }

  /** Writers back in the pool (for tests). */
  get idleWriters(): number {
    return this.pool.size;
  }

  /**
   * The body for `format`, held for this request until it calls `release()`. Rejects with the
   * client's abort reason as soon as `client` aborts; the render goes on while anyone else waits.
   */
  async get(format: ExpositionFormat, client: AbortSignal): Promise<HeldBody> {
    client.throwIfAborted();
    const lane = this.lanes.get(format) ?? this.lanes.set(format, { current: undefined, next: undefined }).get(format)!;
    let render: Render;
    if (!lane.current) {
      render = this.create(lane, format);
      lane.current = render;
      render.start();
    } else if (lane.current.key === this.target.renderKey() && !lane.current.controller.signal.aborted) {
      render = lane.current;
      this.stats.scrapesShared++;
    } else {
      if (lane.next) this.stats.scrapesShared++;
      render = lane.next ??= this.create(lane, format);
    }
    render.waiting++;
    let onAbort: (() => void) | undefined;
    const left = new Promise<never>((_resolve, reject) => {
      onAbort = () => {
        reject(client.reason);
        if (--render.waiting === 0) this.abandon(lane, render);
        this.recycle(render);
      };
      client.addEventListener('abort', onAbort, { once: true });
    });
    left.catch(() => {});
    let body: SharedBody;
    try {
      body = await Promise.race([render.result, left]);
    } catch (error) {
      // Failed, not left: this request no longer waits (onAbort counted a client that left).
      if (!client.aborted) {
        render.waiting--;
        this.recycle(render);
      }
      throw error;
    } finally {
      client.removeEventListener('abort', onAbort!);
    }
    // Taken in the same step as the wait ends, so the writer cannot go back to the pool in between.
    render.holders++;
    render.waiting--;
    let released = false;
    return {
      ...body,
      release: () => {
        if (released) return;
        released = true;
        render.holders--;
        this.recycle(render);
      },
    };
  }

  /** Every client of `render` went away: stop it, or never start it. */
  private abandon(lane: Lane, render: Render): void {
    if (lane.next === render) {
      lane.next = undefined;
      render.controller.abort(new Error('every client of this render went away'));
      render.start(); // settles at once: the signal is already aborted
      return;
    }
    if (lane.current !== render) return;
    this.stats.rendersCancelled++;
    render.controller.abort(new Error('every client of this render went away'));
  }

  /** The writer goes back to the pool once the render takes no request and nobody reads its body. */
  private recycle(render: Render): void {
    if (!render.retired || render.waiting > 0 || render.holders > 0 || !render.writer) return;
    const writer = render.writer;
    render.writer = undefined;
    this.pool.release(writer);
  }

  private create(lane: Lane, format: ExpositionFormat): Render {
    const controller = new AbortController();
    let begin!: () => void;
    const started = new Promise<void>((resolve) => (begin = resolve));
    const render = { key: undefined, controller, waiting: 0, holders: 0, retired: false, writer: undefined } as { -readonly [K in keyof Render]: Render[K] };
    render.start = () => {
      render.key = this.target.renderKey();
      begin();
    };
    render.result = (async (): Promise<SharedBody> => {
      await started;
      try {
        controller.signal.throwIfAborted();
        const writer = (render.writer = this.pool.acquire());
        const contentType = await this.target.scrapeInto(writer, format, { signal: controller.signal });
        const body = writer.bytes;
        let compressed: Promise<Buffer> | undefined;
        const gzipped = () => {
          if (!compressed) {
            // zlib reads the body on its thread pool: it holds the writer until it is done.
            render.holders++;
            compressed = gzipAsync(body, { level: GZIP_LEVEL });
            const done = () => {
              render.holders--;
              this.recycle(render);
            };
            compressed.then(done, done);
          }
          return compressed;
        };
        return { contentType, body, gzipped };
      } finally {
        render.retired = true;
        if (lane.current === render) {
          // The queued render starts now and shows the state as it is now.
          lane.current = lane.next;
          lane.next = undefined;
          lane.current?.start();
        }
        // A failed or abandoned render: nobody will read its writer (the waiters are told first).
        queueMicrotask(() => this.recycle(render));
      }
    })();
    // Nobody may be waiting any more when it settles (all went away): never an unhandled rejection.
    render.result.catch(() => {});
    return render as Render;
  }
}
