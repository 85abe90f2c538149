import type { StorageView } from '../collectors/families/view.js';
import { parseStorage, type StorageReading } from '../collectors/storage.js';
import type { RawStorage } from '../model.js';

export interface StorageReaderOptions {
  /** One read of the source's storage rows. */
  readonly read: () => Promise<RawStorage>;
  /** "Now" on the source's clock, unix seconds. */
  readonly now: () => number;
  /** A reading older than this (seconds) is re-read by the next scrape. */
  readonly maxAge: number;
  /** A scrape waits at most this long (seconds) for a read, then reports the storage as failing. */
  readonly timeout: number;
  /** Every failed or late read, for the log and the error counter. */
  readonly onError: (error: unknown, context: string) => void;
}

/**
 * This device's storage, read at scrape time with the freshness rules of the sync rows: a scrape
 * re-reads when the latest reading is older than `maxAge` or the latest read failed; concurrent
 * scrapes share one read; a read that outlasts `timeout` does not hold the scrape. Never throws.
 */
export class StorageReader {
  private latest: StorageReading | undefined;
  private ok: boolean | undefined;
  private errors = 0;
  private reading: Promise<void> | undefined;

  constructor(private readonly options: StorageReaderOptions) {}

  async ensureFresh(): Promise<void> {
    const { now, maxAge, timeout } = this.options;
    if (this.ok && this.latest && now() - this.latest.readAt <= maxAge) return;
    this.reading ??= (async () => {
      try {
        const raw = await this.options.read();
        if (!Array.isArray(raw?.rows) || !Number.isFinite(raw.readAt) || raw.readAt <= 0) throw new TypeError('a storage read needs rows[] and a positive, finite readAt');
        const reading = parseStorage(raw.rows, raw.readAt);
        // A late read that a newer one overtook is dropped.
        if (!this.latest || reading.readAt >= this.latest.readAt) this.latest = reading;
        this.ok = true;
      } catch (error) {
        this.fail(error, 'reading storage (system:system_info)');
      } finally {
        this.reading = undefined;
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeout * 1000);
      timer.unref();
    });
    const late = await Promise.race([this.reading.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) this.fail(new Error(`storage read took longer than ${timeout}s`), 'reading storage (system:system_info)');
  }

  view(): StorageView {
    return { up: this.ok, reading: this.ok ? this.latest : undefined, readErrors: this.errors };
  }

  private fail(error: unknown, context: string): void {
    this.ok = false;
    this.errors++;
    try {
      this.options.onError(error, context);
    } catch {
      // A failing logger must not take the exporter down with it.
    }
  }
}
