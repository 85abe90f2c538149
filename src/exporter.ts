import { collectDefaultMetrics, Registry } from 'prom-client';
import { CollectionError, type BackendName, type MetricsBackend, type RenderOptions, type Rendered } from './backends/backend.js';
import type { ByteWriter } from './exposition/byte-writer.js';
import { isAscii } from './exposition/labels.js';
import type { ExpositionFormat } from './exposition/format.js';
import { PromClientBackend } from './backends/prom-client.js';
import { checkOption, RANGES } from './bounds.js';
import { buildBeacon, type HealthBeacon } from './collectors/beacon.js';
import type { ExporterInfo, ScrapeView } from './collectors/families/index.js';
import type { Snapshot } from './collectors/snapshot.js';
import { HttpStats } from './http/http-stats.js';
import { LogLimiter } from './log-limiter.js';
import type { Logger } from './logger.js';
import type { RawTick } from './model.js';
import { DEFAULT_ENGINE_MAX_BYTES, fetchEngineText, parseEngineUrl } from './sources/engine-endpoint.js';
import type { HealthPublisher } from './sources/health-publisher.js';
import type { SourceSink, SyncSource } from './sources/source.js';
import { DeviceState } from './state/device-state.js';
import { EngineState } from './state/engine-state.js';
import { peerLabeler, type PeerIdMode } from './state/peer-labels.js';
import { SyncState } from './state/sync-state.js';
import { EXPORTER_VERSION } from './version.js';

export interface ExporterOptions {
  /** Registry for process metrics and the user's own; the exporter's families are bridged into it. */
  readonly registry?: Registry;
  /**
   * Add prom-client's default process metrics to the registry. Default: true when the exporter
   * makes its own registry, false for one you pass in (your application likely collects them).
   */
  readonly collectDefaultMetrics?: boolean;
  /** Per-peer series for at most this many peers (default 1000). */
  readonly maxPeers?: number;
  /** Unacked tracked commits kept before the oldest are dropped (default 10000). */
  readonly maxTrackedCommits?: number;
  /** A scrape re-reads the source when its latest snapshot is older than this (seconds, default 5). */
  readonly maxSnapshotAge?: number;
  /**
   * A scrape waits at most this long for a refresh (seconds, default 3); past it the source counts
   * as failing: ditto_sync_up 0 and no snapshot series until a read succeeds.
   */
  readonly refreshTimeout?: number;
  /** /readyz fails when the snapshot is older than this (seconds, default 30). */
  readonly stallAfter?: number;
  readonly peerIdLabel?: PeerIdMode;
  /** Key for `peerIdLabel: 'hash'`; required with it. */
  readonly peerIdHashKey?: string;
  /** Write each peer's device name on ditto_sync_peer_info (default true; names can be personal). */
  readonly peerDeviceName?: boolean;
  readonly backend?: BackendName;
  /** Builds the backend for `backend` other than prom-client (default: the OpenTelemetry backend, loaded on first use). */
  readonly backendFactory?: (name: BackendName, view: () => ScrapeView, state: SyncState) => MetricsBackend;
  readonly logger?: Logger;
  /**
   * Merge Ditto's own engine metrics into /metrics, read from this loopback URL at every scrape
   * (docs/engine-metrics.md). Non-loopback URLs are refused.
   */
  readonly engineMetrics?: EngineMetricsOptions;
  /** Publish the sync-health beacon into the Ditto instance's small peer info (ditto source only; docs/beacon.md). */
  readonly publishHealth?: boolean;
  /** Seconds between beacon refreshes (default 60). */
  readonly publishInterval?: number;
}

export interface EngineMetricsOptions {
  /** `http://127.0.0.1:PORT/metrics` (or `[::1]`): where Ditto's engine exporter serves. */
  readonly url: string;
  /** Seconds a read may take before the engine part of that scrape is given up (default 1). */
  readonly timeout?: number;
  /** Largest engine body read, in bytes (default 256 KiB). */
  readonly maxBytes?: number;
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
  peerDeviceName: true,
  publishInterval: 60,
  engineTimeout: 1,
});

/** prom-client's default gauges named like counters; removed from registries the exporter made itself. */
export const MISNAMED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

/**
 * A source, the state it feeds, and the backend that renders it. Used by the CLI and by
 * `attachSyncExporter`; it opens no port itself.
 */
export class SyncExporter {
  readonly registry: Registry;
  readonly state: SyncState;
  /** The presence graph, storage and peer descriptions. */
  readonly device: DeviceState;
  /** Written by the router and server that serve this exporter; read into every scrape. */
  readonly http = new HttpStats();
  private renderer: MetricsBackend | undefined;
  private readonly backendName: BackendName;
  private readonly backendFactory: ExporterOptions['backendFactory'];
  private readonly logger: Logger;
  private readonly maxSnapshotAge: number;
  private readonly refreshTimeout: number;
  private readonly stallAfter: number;
  private readonly peerIdMode: PeerIdMode;
  private refreshing: Promise<void> | undefined;
  /** Repeated errors and unusable commits (a replay line of a million bad ids) are summarised, not logged one by one. */
  private readonly logLimiter: LogLimiter;
  /** The last unusable-input summary logged ('' when everything was usable). */
  private lastUnusable = '';
  private closed = false;
  private info: ExporterInfo | undefined;
  private readonly engine: EngineState | undefined;
  private readonly publishHealth: boolean;
  private readonly publishIntervalMs: number;
  private publisher: HealthPublisher | undefined;

  constructor(
    readonly source: SyncSource,
    options: ExporterOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    // Checked before anything is registered anywhere, so a refused option leaves nothing behind.
    this.publishHealth = options.publishHealth ?? false;
    // The same ranges as the CLI flags (bounds.ts): past 2^31-1 ms a timer would fire after 1 ms.
    this.maxSnapshotAge = checkOption(options.maxSnapshotAge ?? DEFAULTS.maxSnapshotAge, 'maxSnapshotAge', RANGES.maxSnapshotAge);
    this.stallAfter = checkOption(options.stallAfter ?? DEFAULTS.stallAfter, 'stallAfter', RANGES.stallAfter);
    this.refreshTimeout = checkOption(options.refreshTimeout ?? DEFAULTS.refreshTimeout, 'refreshTimeout', RANGES.refreshTimeout);
    const maxPeers = checkOption(options.maxPeers ?? DEFAULTS.maxPeers, 'maxPeers', RANGES.maxPeers);
    const maxTrackedCommits = checkOption(options.maxTrackedCommits ?? DEFAULTS.maxTrackedCommits, 'maxTrackedCommits', RANGES.maxTrackedCommits);
    this.publishIntervalMs = checkOption(options.publishInterval ?? DEFAULTS.publishInterval, 'publishInterval', RANGES.publishInterval) * 1000;
    if (this.publishHealth && !source.publishHealth) throw new TypeError(`publishHealth needs a source with a Ditto instance (the ditto source), not ${source.kind}`);
    if (options.engineMetrics) {
      const url = parseEngineUrl(options.engineMetrics.url);
      const timeoutMs = checkOption(options.engineMetrics.timeout ?? DEFAULTS.engineTimeout, 'engineMetrics.timeout', RANGES.engineTimeout) * 1000;
      const maxBytes = checkOption(options.engineMetrics.maxBytes ?? DEFAULT_ENGINE_MAX_BYTES, 'engineMetrics.maxBytes', RANGES.engineMaxBytes);
      this.engine = new EngineState({ url: url.href, logger: this.logger, fetch: () => fetchEngineText(url, { timeoutMs, maxBytes }) });
    }
    this.logLimiter = new LogLimiter((kind, suppressed, seconds) =>
      this.logger.warn({ suppressed, seconds: Math.round(seconds) }, `${suppressed} more "${kind}" lines not logged one by one (the metrics count every one)`),
    );
    const ownsRegistry = options.registry === undefined;
    this.registry = options.registry ?? new Registry();
    if (options.collectDefaultMetrics ?? ownsRegistry) {
      collectDefaultMetrics({ register: this.registry });
      // prom-client exports these gauges with a counter's `_total` suffix; promtool rightly rejects
      // them. Only a registry the exporter made is its to change.
      if (ownsRegistry) for (const name of MISNAMED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    }
    this.peerIdMode = options.peerIdLabel ?? DEFAULTS.peerIdLabel;
    this.state = new SyncState({
      maxPeers,
      maxTrackedCommits,
      peerLabels: peerLabeler(this.peerIdMode, options.peerIdHashKey),
      onError: (error, context) => {
        if (this.logLimiter.allow(`error while ${context}`)) this.logger.error({ err: error }, `error while ${context}`);
      },
      onUnusableCommit: (detail) => {
        if (this.logLimiter.allow('unusable tracked commit')) this.logger.warn(`unusable tracked commit skipped: ${detail}`);
      },
      onSnapshot: (snapshot) => {
        this.device.syncApplied(snapshot);
        this.logUnusableInput(snapshot);
      },
    });
    if (source.skipReasons) this.state.enableReplayCounters(source.skipReasons);
    const readStorage = source.readStorage?.bind(source);
    this.device = new DeviceState({
      deviceNames: options.peerDeviceName ?? DEFAULTS.peerDeviceName,
      readStorage,
      now: () => this.source.now(),
      maxSnapshotAge: this.maxSnapshotAge,
      refreshTimeout: this.refreshTimeout,
      onError: (error, context) => this.state.recordError(error, context),
    });
    this.backendName = options.backend ?? 'prom-client';
    this.backendFactory = options.backendFactory;
    const view = () => this.view();
    if (this.backendName === 'prom-client') this.renderer = new PromClientBackend(this.registry, view);
    else if (this.backendFactory) this.renderer = this.backendFactory(this.backendName, view, this.state);
  }

  /** The backend that renders /metrics; the OpenTelemetry one exists once start() has loaded it. */
  get backend(): MetricsBackend {
    if (!this.renderer) throw new Error(`the ${this.backendName} backend is loaded by start(); call it first`);
    return this.renderer;
  }

  /** Loads the backend if it is not built yet, then starts the source; ticks flow into the state from here on. */
  async start(): Promise<void> {
    if (!this.renderer) {
      // Loaded here, so an application that never asks for OpenTelemetry never loads it.
      const { createOtelBackend } = await import('./backends/otel.js');
      this.renderer = createOtelBackend(() => this.view(), this.state, { serviceInstanceId: this.source.localPeerId });
    }
    await this.source.start(this.sink());
    if (this.publishHealth && !this.publisher && !this.closed) {
      try {
        this.publisher = this.source.publishHealth!({ beacon: () => this.healthBeacon(), intervalMs: this.publishIntervalMs, logger: this.logger });
        this.publisher.start();
      } catch (error) {
        // An SDK without the small peer info API: the beacon is optional, the metrics are not.
        this.logger.error({ err: error }, 'cannot publish the sync-health beacon; the ditto_sync_health_beacon_* families stay absent');
      }
    }
  }

  /** What a scrape reports right now. */
  view(): ScrapeView {
    // A source that reads no system:data_sync_info (fleet) has no sync families at all, not a down one.
    const sync = this.source.readsSyncInfo === false ? undefined : this.state.view(this.source.open && !this.closed);
    return {
      now: this.source.now(),
      sync,
      device: this.device.view(sync),
      fleet: this.source.fleetView?.(),
      info: this.exporterInfo(),
      engine: this.engine?.view(),
      beacon: this.publisher?.stats,
      http: this.http.view(),
    };
  }

  /** The sync-health beacon for the current view (after a refresh when the snapshot is stale, as a scrape does). */
  async healthBeacon(): Promise<HealthBeacon | undefined> {
    await this.ensureFresh();
    const view = this.view();
    return buildBeacon(view.sync, view.now, EXPORTER_VERSION);
  }

  private exporterInfo(): ExporterInfo {
    const strict = this.source.strictMode;
    const strictMode = strict === undefined ? 'none' : String(strict);
    if (this.info?.strictMode !== strictMode) {
      this.info = Object.freeze({
        version: EXPORTER_VERSION,
        dittoSdkVersion: this.source.dittoSdkVersion ?? 'none',
        source: this.source.kind,
        backend: this.backendName,
        strictMode,
        peerIdLabel: this.peerIdMode,
      });
    }
    return this.info;
  }

  /** Local commit made by the application; `at` a unix time (seconds, or ms/µs/ns by magnitude; default now). */
  trackCommit(id: unknown, at?: unknown): boolean {
    const now = this.source.now();
    return this.state.trackCommit(id, at ?? now, now);
  }

  /**
   * What a scrape does first: re-reads system:data_sync_info and this device's storage where they
   * are stale, both at once. Never throws.
   */
  async ensureFresh(): Promise<void> {
    if (this.closed || !this.source.open) return;
    await Promise.all([this.refreshSync(), this.device.ensureFresh()]);
  }

  /**
   * Re-reads the source when the latest snapshot is older than maxSnapshotAge, because Ditto stops
   * ticking when nothing changes. Concurrent scrapes share one read; a failure is counted, not
   * thrown. A read that a newer snapshot overtook is dropped, never applied over it.
   */
  private async refreshSync(): Promise<void> {
    const refresh = this.source.refresh?.bind(this.source);
    if (!refresh || this.closed || !this.source.open) return;
    const snapshot = this.state.snapshot;
    if (snapshot && this.source.now() - snapshot.readAt <= this.maxSnapshotAge) return;
    this.refreshing ??= (async () => {
      const startedAt = this.state.sequence;
      try {
        const tick = await refresh();
        if (this.closed) return;
        this.state.markRefresh();
        if (this.state.sequence === startedAt) this.state.ingest(tick);
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
    if (late) {
      // The source is failing: its old snapshot is not served as current until a read succeeds.
      this.state.recordError(new Error(`refresh took longer than ${this.refreshTimeout}s`), 'refreshing a stale snapshot');
      this.state.markDown();
    }
  }

  /**
   * Everything a scrape does before it renders: refreshes a stale snapshot and reads Ditto's engine
   * metrics (when configured), together. Never rejects; both count their own failures.
   */
  async prepare(): Promise<void> {
    await Promise.all([this.ensureFresh(), this.engine?.refresh()]);
  }

  /**
   * What a render would show right now, as a key: scrapes that see the same key while a render is
   * in progress can share it (src/http/shared-scrapes.ts).
   */
  renderKey(): string {
    return `${this.state.sequence}:${this.source.open && !this.closed}`;
  }

  /**
   * One scrape: a fresh view rendered in `format`. A failure is counted in
   * ditto_sync_observer_errors_total (once) and rethrown, for the caller's 500.
   */
  async scrape(format: ExpositionFormat, options: RenderOptions = {}): Promise<Rendered> {
    return this.counted(options, () => this.backend.render(format, options));
  }

  /** scrape() written into `writer` as the bytes sent on the wire (what the server serves); resolves with the content type. */
  async scrapeInto(writer: ByteWriter, format: ExpositionFormat, options: RenderOptions = {}): Promise<string> {
    const backend = this.backend;
    return this.counted(options, async () => {
      if (backend.renderInto) return backend.renderInto(writer, format, options);
      const { contentType, body } = await backend.render(format, options);
      writer.write(body, isAscii(body));
      return contentType;
    });
  }

  /** Prepares, then renders; a failure other than the caller's abort is counted once and rethrown. */
  private async counted<T>(options: RenderOptions, render: () => Promise<T>): Promise<T> {
    await this.prepare();
    try {
      return await render();
    } catch (error) {
      const aborted = options.signal?.aborted && error === options.signal.reason;
      if (!aborted && !(error instanceof CollectionError)) this.state.recordError(error, 'rendering metrics');
      throw error;
    }
  }

  readiness(): Readiness {
    if (this.closed || !this.source.open) return { ready: false, reason: 'source closed' };
    if (this.source.readiness) return this.source.readiness();
    const snapshot = this.state.snapshot;
    if (!snapshot) return { ready: false, reason: 'no snapshot yet' };
    if (this.source.finished === false) return { ready: false, reason: 'replay still applying' };
    const sync = this.state.view(true);
    if (!sync.up) return { ready: false, reason: 'source failing' };
    const age = this.source.now() - snapshot.readAt;
    if (age > this.stallAfter) return { ready: false, reason: `snapshot is ${Math.round(age)}s old` };
    return { ready: true, reason: 'ok' };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // The beacon goes before the source: it writes into the Ditto instance the source may close.
    await this.publisher?.close();
    // An in-flight refresh is not awaited (it may hang); its result is dropped once closed.
    await this.source.close();
    await this.renderer?.close();
    this.logLimiter.flush();
  }

  /**
   * Says once, in one line, what in a snapshot could not be used, whenever that changes: the
   * gauges count it on every scrape, the log tells an operator what it was.
   */
  private logUnusableInput(snapshot: Snapshot): void {
    const parts = [...snapshot.rowsUnusable, ...snapshot.fieldsUnusable].filter(([, n]) => n > 0).map(([what, n]) => `${what} ${n}`);
    const summary = parts.join(', ');
    if (summary === this.lastUnusable) return;
    this.lastUnusable = summary;
    if (summary === '') this.logger.info('every row of system:data_sync_info is usable again');
    else if (this.logLimiter.allow('unusable rows'))
      this.logger.warn(
        { rowsUnusable: Object.fromEntries(snapshot.rowsUnusable), fieldsUnusable: Object.fromEntries(snapshot.fieldsUnusable) },
        `system:data_sync_info has input this exporter cannot use (rows left out by reason, rows with an unusable field by field): ${summary}`,
      );
  }

  private sink(): SourceSink {
    return {
      tick: (tick: RawTick) => void this.state.ingest(tick),
      presence: (graph, readAt) => void this.device.ingestPresence(graph, readAt),
      error: (error, context) => this.state.recordError(error, context),
      trackCommit: (id, at) => void this.state.trackCommit(id, at, this.source.now()),
      skip: (reason) => this.state.countReplaySkip(reason),
      down: () => this.state.markDown(),
    };
  }
}
