import type { Ditto } from '@dittolive/ditto';
import type { Router } from 'express';
import type { Registry } from 'prom-client';
import type { ExpositionFormat } from './exposition/format.js';
import { SyncExporter, type ExporterOptions, type Readiness } from './exporter.js';
import type { Logger } from './logger.js';
import { createRouter } from './server.js';
import { DittoSource } from './sources/ditto.js';
import { inCaretRange, SUPPORTED_DITTO_SDK } from './sources/ditto-sdk.js';
import { checkAttachedEngineExporter } from './sources/engine-checks.js';
import { instrumentStore as wrapStoreExecute } from './sources/instrument-store.js';

export type AttachOptions = ExporterOptions & {
  readonly logger?: Logger;
  /**
   * Track the commitID of every mutation run through `ditto.store.execute` (default true). Without
   * tracked commits there is no local commit id, no commit lag and no cloud sync gap: pass false
   * only if you call trackCommit() yourself.
   */
  readonly trackWrites?: boolean;
  /** The router's /metrics requests in progress at most; more get 503 with Retry-After (default 16). */
  readonly maxConcurrentScrapes?: number;
  /** Seconds a /metrics response of the router may take, render and send, before its connection is closed (default 60). */
  readonly scrapeSendTimeout?: number;
};

export interface AttachedSyncExporter {
  readonly exporter: SyncExporter;
  /** The Ditto source: strictMode, query, dittoSdkVersion, localPeerId. */
  readonly source: DittoSource;
  /** prom-client registry holding the exporter's families (and the default process metrics). */
  readonly registry: Registry;
  /** GET /metrics, /healthz, /readyz and / ; mount it anywhere in the application's express app. */
  readonly router: Router;
  /** A local commit the application made (its `commitID`); `at` a Date or a unix time (s, ms, µs or ns, told apart by magnitude). Returns whether it was usable. */
  trackCommit(id: bigint | number | string, at?: Date | number): boolean;
  /**
   * Records the commitID of every mutation run through `ditto.store.execute`; on by default
   * (`trackWrites`). Idempotent; returns an undo.
   */
  instrumentStore(): () => void;
  /** The exposition body (fresh), for serving it without the router. */
  metrics(format?: ExpositionFormat): Promise<{ contentType: string; body: string }>;
  ready(): Readiness;
  /** Cancels the observer, restores the store and unregisters the exporter's families; never closes the app's Ditto. */
  close(): Promise<void>;
}

/**
 * Library mode: observe the sync state of a Ditto instance the application already owns, and
 * track the application's writes. Resolves once the observer is registered.
 */
export async function attachSyncExporter(ditto: Ditto, options: AttachOptions = {}): Promise<AttachedSyncExporter> {
  const logger = options.logger;
  const source = new DittoSource(ditto, { logger, ownsDitto: false });
  const sdk = source.dittoSdkVersion;
  if (sdk !== 'none' && !inCaretRange(sdk, SUPPORTED_DITTO_SDK)) {
    logger?.warn({ dittoSdkVersion: sdk, supported: SUPPORTED_DITTO_SDK }, `@dittolive/ditto ${sdk} is outside the range this exporter is written and tested for (${SUPPORTED_DITTO_SDK})`);
  }
  const exporter = new SyncExporter(source, options);
  try {
    await exporter.start();
  } catch (error) {
    await exporter.close().catch(() => undefined);
    throw new Error(`attachSyncExporter: could not observe system:data_sync_info: ${messageOf(error)}`, { cause: error });
  }
  await checkAttachedEngineExporter(source, options.engineMetrics?.url, logger);

  const trackCommit = (id: bigint | number | string, at?: Date | number) => exporter.trackCommit(id, at instanceof Date ? at.getTime() : at);
  let restoreStore: (() => void) | undefined;
  let closed = false;
  const instrumentStore = () => {
    if (closed) throw new Error('attachSyncExporter: instrumentStore() after close()');
    if (!restoreStore) {
      const restore = wrapStoreExecute(ditto, (id, at) => trackCommit(id, at), {
        onError: (error) => logger?.error({ err: error }, 'recording a commit id failed'),
      });
      restoreStore = () => {
        restore();
        restoreStore = undefined;
      };
    }
    return restoreStore;
  };
  if (options.trackWrites ?? true) instrumentStore();

  return {
    exporter,
    source,
    registry: exporter.registry,
    router: createRouter(exporter, logger, { maxConcurrentScrapes: options.maxConcurrentScrapes, scrapeSendTimeout: options.scrapeSendTimeout }),
    trackCommit,
    instrumentStore,
    metrics: (format: ExpositionFormat = 'prometheus') => exporter.scrape(format),
    ready: () => exporter.readiness(),
    async close() {
      if (closed) return;
      closed = true;
      restoreStore?.();
      await exporter.close();
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
