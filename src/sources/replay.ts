import { createReadStream } from 'node:fs';
import { checkOption, RANGES } from '../bounds.js';
import { LogLimiter } from '../log-limiter.js';
import type { Logger } from '../logger.js';
import { releasePendingFifoOpen } from './fifo.js';
import { LineSplitter } from './line-splitter.js';
import { parseReplayLine, REPLAY_SKIP_REASONS } from './replay-line.js';
import { wallClock, type SourceSink, type SyncSource } from './source.js';

export interface ReplayOptions {
  readonly file: string;
  /** Longest line read; longer ones are skipped as `line_too_long` (default 16 MiB). */
  readonly maxLineBytes?: number;
  readonly logger?: Logger;
}

export const DEFAULT_REPLAY_MAX_LINE_BYTES = 16 * 1024 * 1024;

/**
 * Applies a JSON Lines file, one tick a line, as fast as it reads. The clock is the `t` of the
 * latest applied line, so the output is the same on every run.
 */
export class ReplaySource implements SyncSource {
  readonly kind = 'replay' as const;
  readonly skipReasons = REPLAY_SKIP_REASONS;
  private clock: number | undefined;
  private done = false;
  private closed = false;
  private reading: Promise<void> | undefined;
  private stream: ReturnType<typeof createReadStream> | undefined;
  private opened = false;

  constructor(private readonly options: ReplayOptions) {
    if (options.maxLineBytes !== undefined) checkOption(options.maxLineBytes, 'maxLineBytes', RANGES.replayMaxLineBytes);
  }

  get open(): boolean {
    return !this.closed;
  }

  get finished(): boolean {
    return this.done;
  }

  now(): number {
    return this.clock ?? wallClock();
  }

  /** Resolves once the file is open; lines keep applying after that. `applied()` waits for all. */
  async start(sink: SourceSink): Promise<void> {
    const stream = createReadStream(this.options.file);
    this.stream = stream;
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    this.opened = true;
    if (this.closed) return;
    const log = this.options.logger;
    const file = this.options.file;
    // A file of junk must not become a log of junk: a few lines per reason a minute, then a count.
    const limiter = new LogLimiter((reason, suppressed, seconds) =>
      log?.warn({ file, reason, suppressed, seconds: Math.round(seconds) }, `${suppressed} more replay lines skipped for ${reason} (not logged one by one)`),
    );
    const skipped = new Map<string, number>();
    const skip = (reason: string) => {
      sink.skip(reason);
      skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
      return limiter.allow(reason);
    };
    let lineNo = 0;
    const splitter = new LineSplitter(
      this.options.maxLineBytes ?? DEFAULT_REPLAY_MAX_LINE_BYTES,
      (line) => {
        lineNo++;
        const result = parseReplayLine(line);
        if (result.ok === 'blank') return;
        if (result.ok === false) {
          if (skip(result.reason)) log?.warn({ file, line: lineNo, reason: result.reason }, `replay line skipped: ${result.detail}`);
          return;
        }
        // The replay clock only moves forward: a line from the past would rewind every age.
        if (this.clock !== undefined && result.tick.readAt < this.clock) {
          if (skip('t_backwards')) log?.warn({ file, line: lineNo, t: result.tick.readAt, clock: this.clock }, 'replay line skipped: its t is earlier than the line before');
          return;
        }
        this.clock = result.tick.readAt;
        if (result.presence !== undefined) sink.presence(result.presence, result.tick.readAt);
        sink.tick(result.tick);
      },
      (bytes) => {
        lineNo++;
        if (skip('line_too_long')) log?.warn({ file, line: lineNo, bytes }, 'replay line skipped: longer than the line limit');
      },
    );
    this.reading = new Promise<void>((resolve) => {
      stream.on('data', (chunk) => splitter.push(chunk as Buffer));
      stream.on('end', () => {
        splitter.end();
        this.done = true;
        limiter.flush();
        log?.info({ file, lines: lineNo, skipped: Object.fromEntries(skipped) }, 'replay applied');
        resolve();
      });
      stream.on('error', (error) => {
        sink.error(error, 'reading the replay file');
        sink.down();
        resolve();
      });
      stream.on('close', () => resolve());
    });
  }

  /** Resolves when every line has been applied (or reading failed). */
  async applied(): Promise<void> {
    await this.reading;
  }

  async close(): Promise<void> {
    this.closed = true;
    // A FIFO nobody writes to yet holds its open (and the process) until something does.
    if (this.stream && !this.opened) releasePendingFifoOpen(this.options.file, 'read');
    this.stream?.destroy();
    await this.reading;
  }
}
