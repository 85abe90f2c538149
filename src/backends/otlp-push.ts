import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import type { Resource } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type MetricProducer, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ScrapeView } from '../collectors/families/index.js';
import type { Logger } from '../logger.js';
import type { SyncState } from '../state/sync-state.js';
import { ViewMetricProducer } from './otel-producer.js';
import { checkOption, RANGES } from '../bounds.js';
import { exporterResource } from './otel-resource.js';
import { resolveOtlpEndpoint } from './otlp-endpoint.js';

export { resolveOtlpEndpoint };

/** What a push reads: a SyncExporter fits as it is. */
export interface PushTarget {
  view(): ScrapeView;
  /** Re-reads a stale source before each push, as a scrape does. */
  ensureFresh?(): Promise<void>;
  /** Everything a scrape does before it renders (the fresh source and Ditto's engine metrics); used instead of ensureFresh when present. */
  prepare?(): Promise<void>;
  readonly state?: Pick<SyncState, 'recordError'>;
}

export interface OtlpPushOptions {
  readonly target: PushTarget;
  /**
   * OTLP/HTTP metrics URL. A URL with an empty path gets `/v1/metrics` appended, as the standard
   * OTEL_EXPORTER_OTLP_ENDPOINT does. Default: the environment (see `resolveOtlpEndpoint`).
   */
  readonly endpoint?: string;
  /** Milliseconds between pushes. */
  readonly intervalMs: number;
  /** Per-push timeout in milliseconds (default min(intervalMs, 10 s)). */
  readonly timeoutMs?: number;
  /** Extra HTTP headers (OTEL_EXPORTER_OTLP_[METRICS_]HEADERS are honoured as well). */
  readonly headers?: Readonly<Record<string, string>>;
  /** service.instance.id: the local Ditto peer id where known; defaults to the host name. */
  readonly serviceInstanceId?: string;
  /** Replaces the default resource (service.name ditto-sync-exporter, service.instance.id). */
  readonly resource?: Resource;
  readonly logger?: Logger;
  /** Environment for endpoint resolution (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface OtlpPushStats {
  readonly exports: number;
  readonly failures: number;
}

export interface OtlpPush {
  /** The URL pushes go to. */
  readonly endpoint: string;
  readonly stats: OtlpPushStats;
  /** Collects and pushes now. */
  flush(): Promise<void>;
  /** Stops the timer after one last push (flushes), then closes the HTTP client. Idempotent. */
  shutdown(): Promise<void>;
}

/** Counts and logs each push's outcome; the SDK would only tell the global `diag` logger. */
class ReportingExporter implements PushMetricExporter {
  exports = 0;
  failures = 0;

  constructor(
    private readonly inner: OTLPMetricExporter,
    private readonly endpoint: string,
    private readonly logger: Logger | undefined,
  ) {}

  export(metrics: ResourceMetrics, resultCallback: Parameters<PushMetricExporter['export']>[1]): void {
    this.inner.export(metrics, (result) => {
      // ExportResultCode.SUCCESS is 0 (@opentelemetry/core).
      if (result.code === 0) this.exports++;
      else {
        this.failures++;
        this.logger?.warn({ err: result.error, endpoint: this.endpoint, failures: this.failures }, 'OTLP metrics push failed');
      }
      resultCallback(result);
    });
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  selectAggregationTemporality: PushMetricExporter['selectAggregationTemporality'] = (t) => this.inner.selectAggregationTemporality(t);
  selectAggregation: PushMetricExporter['selectAggregation'] = (t) => this.inner.selectAggregation(t);
}

const OTLP_INTERVAL_MS = { min: RANGES.otlpInterval.min * 1000, max: RANGES.otlpInterval.max * 1000, unit: 'ms' } as const;

/**
 * Pushes the exporter's families over OTLP/HTTP (JSON) every `intervalMs`, from the same
 * ScrapeView and family emitters as /metrics. Works beside either pull backend or alone.
 */
export function startOtlpPush(options: OtlpPushOptions): OtlpPush {
  const endpoint = resolveOtlpEndpoint(options.endpoint, options.env ?? process.env);
  if (endpoint === undefined) {
    throw new TypeError('no OTLP endpoint: give --otlp-endpoint or set OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT');
  }
  const intervalMs = options.intervalMs;
  // The range of --otlp-interval, in milliseconds.
  checkOption(intervalMs, 'intervalMs', OTLP_INTERVAL_MS);
  const timeoutMs = options.timeoutMs ?? Math.min(intervalMs, 10_000);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > intervalMs) {
    throw new RangeError(`OTLP push timeout must be positive and at most the interval (${intervalMs} ms), got ${timeoutMs}`);
  }

  const { target, logger } = options;
  const views = new ViewMetricProducer(() => target.view());
  const producer: MetricProducer = {
    async collect(collectOptions) {
      try {
        await (target.prepare ? target.prepare() : target.ensureFresh?.());
        return await views.collect();
      } catch (error) {
        // The reader would hand this to the global diag logger only: count and log it here.
        target.state?.recordError(error, 'collecting metrics for OTLP push');
        throw error;
      }
    },
  };
  const exporter = new ReportingExporter(
    new OTLPMetricExporter({ url: endpoint, timeoutMillis: timeoutMs, ...(options.headers ? { headers: { ...options.headers } } : {}) }),
    endpoint,
    logger,
  );
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: intervalMs, exportTimeoutMillis: timeoutMs, metricProducers: [producer] });
  const meterProvider = new MeterProvider({
    resource: options.resource ?? exporterResource({ serviceInstanceId: options.serviceInstanceId }),
    readers: [reader],
  });
  logger?.info({ endpoint, intervalMs }, 'pushing metrics over OTLP/HTTP');

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    get stats() {
      return { exports: exporter.exports, failures: exporter.failures };
    },
    flush: () => (stopping ? Promise.resolve() : reader.forceFlush()),
    shutdown() {
      stopping ??= meterProvider.shutdown();
      return stopping;
    },
  };
}
