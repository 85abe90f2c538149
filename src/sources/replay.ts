import { createReadStream } from 'node:fs';
import type { Logger } from '../logger.js';
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

  constructor(private readonly options: ReplayOptions) {}

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
    const log = this.options.logger;
    let lineNo = 0;
    const splitter = new LineSplitter(
      this.options.maxLineBytes ?? DEFAULT_REPLAY_MAX_LINE_BYTES,
      (line) => {
        lineNo++;
        const result = parseReplayLine(line);
        if (result.ok === 'blank') return;
        if (result.ok === false) {
          sink.skip(result.reason);
          log?.warn({ file: this.options.file, line: lineNo, reason: result.reason }, `replay line skipped: ${result.detail}`);
          return;
        }
        // The replay clock only moves forward: a line from the past would rewind every age.
        if (this.clock !== undefined && result.tick.readAt < this.clock) {
          sink.skip('t_backwards');
          log?.warn({ file: this.options.file, line: lineNo, t: result.tick.readAt, clock: this.clock }, 'replay line skipped: its t is earlier than the line before');
          return;
        }
        this.clock = result.tick.readAt;
        if (result.presence !== undefined) sink.presence(result.presence, result.tick.readAt);
        sink.tick(result.tick);
      },
      (bytes) => {
        lineNo++;
        sink.skip('line_too_long');
        log?.warn({ file: this.options.file, line: lineNo, bytes }, 'replay line skipped: longer than the line limit');
      },
    );
    this.reading = new Promise<void>((resolve) => {
      stream.on('data', (chunk) => splitter.push(chunk as Buffer));
      stream.on('end', () => {
        splitter.end();
        this.done = true;
        log?.info({ file: this.options.file, lines: lineNo }, 'replay applied');
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
    this.stream?.destroy();
    await this.reading;
  }
}
