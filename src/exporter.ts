import { collectDefaultMetrics, Registry } from 'prom-client';
import type { BackendName, MetricsBackend } from './backends/backend.js';
import { createOtelBackend } from './backends/otel.js';
import { PromClientBackend } from './backends/prom-client.js';
import type { ScrapeView } from './collectors/families.js';
import type { Logger } from './logger.js';
import type { RawTick } from './model.js';
import type { SourceSink, SyncSource } from './sources/source.js';
import { peerLabeler, type PeerIdMode } from './state/peer-labels.js';
import { SyncState } from './state/sync-state.js';
import { dittoSdkVersion, EXPORTER_VERSION } from './version.js';

export interface ExporterOptions {
  /** Registry for process metrics and the user's own; the exporter's families are bridged into it. */
  readonly registry?: Registry;
  /** Add prom-client's default process metrics to the registry (default true). */
  readonly collectDefaultMetrics?: boolean;
  /** Per-peer series for at most this many peers; cloud servers always kept (default 1000). */
  readonly maxPeers?: number;
  /** Unacked tracked commits kept before the oldest are dropped (default 10000). */
  readonly maxTrackedCommits?: number;
  /** A scrape re-reads the source when its latest snapshot is older than this (seconds, default 5). */
  readonly maxSnapshotAge?: number;
  /** A scrape waits at most this long for a refresh, then reports the older snapshot (seconds, default 3). */
  readonly refreshTimeout?: number;
  /** /readyz fails when the snapshot is older than this (seconds, default 30). */
  readonly stallAfter?: number;
  readonly peerIdLabel?: PeerIdMode;
  /** Key for `peerIdLabel: 'hash'`. */
  readonly peerIdHashKey?: string;
  readonly backend?: BackendName;
  /** Builds the backend for `backend` other than prom-client (default: the OpenTelemetry backend). */
  readonly backendFactory?: (name: BackendName, view: () => ScrapeView, state: SyncState) => MetricsBackend;
  readonly logger?: Logger;
}

export interface Readiness {
  readonly ready: boolean;
  readonly reason: string;
}

export const DEFAULTS = Object.freeze({
  maxPeers: 1000,
  maxTrackedCommits: 10_000,
  maxSnapshotAge: 5,
  refreshTimeout: 3,
  stallAfter: 30,
  peerIdLabel: 'full' as PeerIdMode,
});

export const MISNAMED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

/**
 * A source, the state it feeds, and the backend that serves it. Used by the CLI and by
 * `attachSyncExporter`; it opens no port itself.
 */
export class SyncExporter {
  readonly registry: Registry;
  readonly state: SyncState;
  readonly backend: MetricsBackend;
  private readonly logger: Logger;
  private readonly maxSnapshotAge: number;
  private readonly refreshTimeout: number;
  private readonly stallAfter: number;
  private refreshing: Promise<void> | undefined;
  private closed = false;

  constructor(
    readonly source: SyncSource,
    options: ExporterOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.registry = options.registry ?? new Registry();
    if (options.collectDefaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      // prom-client exports these gauges with a counter's `_total` suffix; promtool rightly rejects them.
      for (const name of MISNAMED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    }
    this.maxSnapshotAge = positive(options.maxSnapshotAge ?? DEFAULTS.maxSnapshotAge, 'maxSnapshotAge');
    this.stallAfter = positive(options.stallAfter ?? DEFAULTS.stallAfter, 'stallAfter');
    this.refreshTimeout = positive(options.refreshTimeout ?? DEFAULTS.refreshTimeout, 'refreshTimeout');
    this.state = new SyncState({
      maxPeers: positiveInteger(options.maxPeers ?? DEFAULTS.maxPeers, 'maxPeers'),
      maxTrackedCommits: positiveInteger(options.maxTrackedCommits ?? DEFAULTS.maxTrackedCommits, 'maxTrackedCommits'),
      peerLabels: peerLabeler(options.peerIdLabel ?? DEFAULTS.peerIdLabel, options.peerIdHashKey),
      build: { version: EXPORTER_VERSION, dittoSdkVersion: source.dittoSdkVersion ?? dittoSdkVersion() },
      onError: (error, context) => this.logger.error({ err: error }, `error while ${context}`),
    });
    if (source.skipReasons) this.state.enableReplayCounters(source.skipReasons);
    const view = () => this.view();
    const backendName = options.backend ?? 'prom-client';
    if (backendName === 'prom-client') this.backend = new PromClientBackend(this.registry, view);
    else if (options.backendFactory) this.backend = options.backendFactory(backendName, view, this.state);
    else this.backend = createOtelBackend(view, this.state, { serviceInstanceId: source.localPeerId });
  }

  /** Starts the source; ticks flow into the state from here on. */
  async start(): Promise<void> {
    await this.source.start(this.sink());
  }

  /** What a scrape reports right now. */
  view(): ScrapeView {
    return this.state.view(this.source.now(), this.source.open && !this.closed);
  }

  /** Local commit made by the application; `at` in unix seconds (default now). */
  trackCommit(id: bigint | number | string, at: number = this.source.now()): void {
    this.state.trackCommit(id, at);
  }

  /**
   * Re-reads the source when the latest snapshot is older than maxSnapshotAge, because Ditto stops
   * ticking when nothing changes. Concurrent scrapes share one read; a failure is counted, not thrown.
   */
  async ensureFresh(): Promise<void> {
    const refresh = this.source.refresh?.bind(this.source);
    if (!refresh || this.closed || !this.source.open) return;
    const snapshot = this.state.snapshot;
    if (snapshot && this.source.now() - snapshot.readAt <= this.maxSnapshotAge) return;
    this.refreshing ??= (async () => {
      try {
        const tick = await refresh();
        if (this.closed) return;
        this.state.markRefresh();
        this.state.ingest(tick);
      } catch (error) {
        this.state.recordError(error, 'refreshing a stale snapshot');
        this.state.markDown();
      } finally {
        this.refreshing = undefined;
      }
    })();
    // A hung read must not hang every scrape: past the timeout the scrape reports what it has.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.refreshTimeout * 1000);
      timer.unref();
    });
    const late = await Promise.race([this.refreshing.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) this.state.recordError(new Error(`refresh took longer than ${this.refreshTimeout}s`), 'refreshing a stale snapshot');
  }

  readiness(): Readiness {
    if (this.closed || !this.source.open) return { ready: false, reason: 'source closed' };
    const snapshot = this.state.snapshot;
    if (!snapshot) return { ready: false, reason: 'no snapshot yet' };
    if (this.source.finished === false) return { ready: false, reason: 'replay still applying' };
    const view = this.view();
    if (!view.up) return { ready: false, reason: 'source failing' };
    const age = view.now - snapshot.readAt;
    if (age > this.stallAfter) return { ready: false, reason: `snapshot is ${Math.round(age)}s old` };
    return { ready: true, reason: 'ok' };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // An in-flight refresh is not awaited (it may hang); its result is dropped once closed.
    await this.source.close();
    await this.backend.close();
  }

  private sink(): SourceSink {
    return {
      tick: (tick: RawTick) => void this.state.ingest(tick),
      error: (error, context) => this.state.recordError(error, context),
      trackCommit: (id, at) => void this.state.trackCommit(id, at),
      skip: (reason) => this.state.countReplaySkip(reason),
      down: () => this.state.markDown(),
    };
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
