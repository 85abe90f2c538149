import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { Resource } from '@opentelemetry/resources';
import { MeterProvider, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ScrapeView } from '../collectors/families/index.js';
import { CONTENT_TYPES, type ExpositionFormat } from '../exposition/format.js';
import type { SyncState } from '../state/sync-state.js';
import { CollectionError, type MetricsBackend, type RenderOptions, type Rendered } from './backend.js';
import { OTEL_SCOPE, ViewMetricProducer } from './otel-producer.js';
import { exporterResource } from './otel-resource.js';
import { otelMetricsText } from './otel-text.js';

export interface OtelBackendOptions {
  /** Resource for `target_info`; default `exporterResource({ serviceInstanceId })`. */
  readonly resource?: Resource;
  /** service.instance.id when no resource is given: the local Ditto peer id where known. */
  readonly serviceInstanceId?: string;
  /** Serve OpenTelemetry's `target_info` family (default false). */
  readonly targetInfo?: boolean;
  /** Add `otel_scope_name`/`otel_scope_version` labels to every series (default false). */
  readonly scopeLabels?: boolean;
}

/** A collection that failed or reported errors: the scrape answers 500 instead of OTel's 200. */
export class OtelCollectionError extends CollectionError {
  constructor(causes: readonly unknown[]) {
    super(`OpenTelemetry metrics collection failed: ${causes.map((c) => (c instanceof Error ? c.message : String(c))).join('; ')}`, causes);
    this.name = 'OtelCollectionError';
  }
}

/**
 * The exporter's families through @opentelemetry/sdk-metrics.
 *
 * A ViewMetricProducer registered on a PrometheusExporter (a MetricReader started with
 * `preventServerStart`, so it opens no port of its own) builds them from the scrape view at each
 * collection. The MeterProvider carries the resource and is free for the application's own
 * instruments, which appear on /metrics too.
 *
 * A scrape runs the reader's collect(). The exporter's own scope is written from the collected
 * typed data by otel-text.ts, in slices that hand the event loop back every 2 ms; every other scope
 * (the application's instruments) by OpenTelemetry's own PrometheusSerializer. Nothing parses or
 * patches the serializer's output. Any failure on that path, collection errors included, is counted
 * and thrown as an OtelCollectionError, which the server answers with 500 (OpenTelemetry's own
 * request handler would answer 200).
 */
export class OtelBackend implements MetricsBackend {
  readonly name = 'otel' as const;
  /** OpenTelemetry's serializer writes Prometheus text only. */
  readonly formats = ['prometheus'] as const;
  readonly meterProvider: MeterProvider;
  readonly reader: PrometheusExporter;
  readonly producer: ViewMetricProducer;
  readonly serializer: PrometheusSerializer;
  private readonly targetInfo: boolean;
  private readonly scopeLabels: boolean;
  private failures = 0;
  private closing: Promise<void> | undefined;

  constructor(
    view: () => ScrapeView,
    private readonly state: Pick<SyncState, 'recordError'>,
    options: OtelBackendOptions = {},
  ) {
    this.targetInfo = options.targetInfo ?? false;
    this.scopeLabels = options.scopeLabels ?? false;
    const withoutTargetInfo = !this.targetInfo;
    const withoutScopeInfo = !(options.scopeLabels ?? false);
    this.producer = new ViewMetricProducer(view);
    this.reader = new PrometheusExporter({ preventServerStart: true, withoutTargetInfo, withoutScopeInfo, metricProducers: [this.producer] });
    this.serializer = new PrometheusSerializer(undefined, false, undefined, withoutTargetInfo, withoutScopeInfo);
    this.meterProvider = new MeterProvider({
      resource: options.resource ?? exporterResource({ serviceInstanceId: options.serviceInstanceId }),
      readers: [this.reader],
    });
  }

  /** Collections that failed since start (each also counted in ditto_sync_observer_errors_total). */
  get collectionFailures(): number {
    return this.failures;
  }

  async render(_format: ExpositionFormat, options: RenderOptions = {}): Promise<Rendered> {
    try {
      const result = await this.reader.collect();
      if (result.errors.length > 0) throw new OtelCollectionError(result.errors);
      return { contentType: CONTENT_TYPES.prometheus, body: await this.text(result.resourceMetrics, options) };
    } catch (error) {
      if (options.signal?.aborted && error === options.signal.reason) throw error;
      throw this.failed(error instanceof OtelCollectionError ? error.causes : [error]);
    }
  }

  private async text(resourceMetrics: ResourceMetrics, options: RenderOptions): Promise<string> {
    const ours = resourceMetrics.scopeMetrics.filter((s) => s.scope.name === OTEL_SCOPE.name);
    const theirs = resourceMetrics.scopeMetrics.filter((s) => s.scope.name !== OTEL_SCOPE.name);
    const own = await otelMetricsText(
      ours.flatMap((s) => s.metrics),
      { signal: options.signal, scope: this.scopeLabels ? OTEL_SCOPE : undefined },
    );
    if (theirs.length === 0 && !this.targetInfo) return own;
    const app = this.serializer.serialize({ resource: resourceMetrics.resource, scopeMetrics: theirs });
    return app === '' || app.endsWith('\n') ? own + app : `${own}${app}\n`;
  }

  async close(): Promise<void> {
    this.closing ??= this.meterProvider.shutdown();
    await this.closing;
  }

  private failed(causes: readonly unknown[]): OtelCollectionError {
    this.failures++;
    const error = new OtelCollectionError(causes);
    this.state.recordError(error, 'collecting OpenTelemetry metrics');
    return error;
  }
}

/** The `backendFactory` body for `backend: 'otel'`. */
export function createOtelBackend(view: () => ScrapeView, state: Pick<SyncState, 'recordError'>, options: OtelBackendOptions = {}): OtelBackend {
  return new OtelBackend(view, state, options);
}
