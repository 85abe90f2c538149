import { createWriteStream, type WriteStream } from 'node:fs';
import type { Logger } from '../logger.js';
import type { RawStorage, RawTick } from '../model.js';
import type { SourceSink, SyncSource } from './source.js';

interface PendingCommit {
  readonly id: string;
  readonly at: unknown;
}

/** JSON can hold neither bigint nor undefined: commit ids go out as decimal strings. */
const replacer = (_key: string, value: unknown) => (typeof value === 'bigint' ? value.toString() : value);

/**
 * Writes every tick a source delivers to a JSON Lines file in the replay format, so a real
 * session can be replayed later (`--source replay`). Commits tracked between ticks go into the next
 * line with their own times, and so does the latest presence graph delivered since the line before.
 */
export class RecordingSource implements SyncSource {
  readonly kind: SyncSource['kind'];
  private out: WriteStream | undefined;
  private pending: PendingCommit[] = [];
  /** The presence graph delivered since the last line written; it goes into the next one. */
  private pendingPresence: unknown;
  private failed = false;
  /** Present only when the wrapped source can refresh: the exporter asks for it by presence. */
  readonly refresh?: () => Promise<RawTick>;
  /** Present only when the wrapped source reads storage (not recorded: it is read at scrape time). */
  readonly readStorage?: () => Promise<RawStorage>;
  /** Present only when the wrapped source can publish the beacon (the ditto source). */
  readonly publishHealth?: SyncSource['publishHealth'];

  constructor(
    private readonly inner: SyncSource,
    private readonly file: string,
    private readonly logger?: Logger,
  ) {
    this.kind = inner.kind;
    const readStorage = inner.readStorage?.bind(inner);
    if (readStorage) this.readStorage = readStorage;
    const refresh = inner.refresh?.bind(inner);
    if (refresh) {
      this.refresh = async () => {
        const tick = await refresh();
        this.write(tick);
        return tick;
      };
    }
    if (inner.publishHealth) this.publishHealth = inner.publishHealth.bind(inner);
  }

  get open(): boolean {
    return this.inner.open;
  }
  get finished(): boolean | undefined {
    return this.inner.finished;
  }
  get skipReasons(): readonly string[] | undefined {
    return this.inner.skipReasons;
  }
  get dittoSdkVersion(): string | undefined {
    return this.inner.dittoSdkVersion;
  }
  get strictMode(): boolean | undefined {
    return this.inner.strictMode;
  }
  get localPeerId(): string | undefined {
    return this.inner.localPeerId;
  }

  now(): number {
    return this.inner.now();
  }

  async start(sink: SourceSink): Promise<void> {
    const out = createWriteStream(this.file, { flags: 'a' });
    await new Promise<void>((resolve, reject) => {
      out.once('open', () => resolve());
      out.once('error', reject);
    });
    out.on('error', (error) => {
      // A full disk must not take the exporter down: stop recording, say so once.
      if (!this.failed) this.logger?.error({ err: error, file: this.file }, 'recording stopped');
      this.failed = true;
    });
    this.out = out;
    await this.inner.start({
      ...sink,
      tick: (tick) => {
        this.write(tick);
        sink.tick(tick);
      },
      presence: (graph, readAt) => {
        this.pendingPresence = graph;
        sink.presence(graph, readAt);
      },
      trackCommit: (id, at) => {
        this.pending.push({ id: String(id), at });
        sink.trackCommit(id, at);
      },
    });
  }

  async close(): Promise<void> {
    await this.inner.close();
    const out = this.out;
    this.out = undefined;
    if (out) await new Promise<void>((resolve) => out.end(resolve));
  }

  private write(tick: RawTick): void {
    if (!this.out || this.failed) return;
    const commits = [...this.pending, ...(tick.commits ?? []).map((c) => ({ id: String(c.id), at: c.at ?? tick.readAt }))];
    this.pending = [];
    const presence = this.pendingPresence;
    this.pendingPresence = undefined;
    try {
      const line = JSON.stringify({ t: tick.readAt, rows: tick.rows, ...(commits.length > 0 && { commits }), ...(presence !== undefined && { presence }) }, replacer);
      this.out.write(`${line}\n`);
    } catch (error) {
      this.logger?.warn({ err: error }, 'a tick could not be recorded');
    }
  }
}
