import type { Request, Response } from 'express';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { Resource } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { ScrapeView } from '../collectors/families.js';
import { CONTENT_TYPES, type ExpositionFormat } from '../exposition/format.js';
import { sendExposition } from '../exposition/send.js';
import type { SyncState } from '../state/sync-state.js';
import type { MetricsBackend } from './backend.js';
import { ViewMetricProducer } from './otel-producer.js';
import { exporterResource } from './otel-resource.js';
import { SlicedPrometheusSerializer } from './otel-serialize.js';

export interface OtelBackendOptions {
  /** Resource for `target_info`; default `exporterResource({ serviceInstanceId })`. */
  readonly resource?: Resource;
  /** service.instance.id when no resource is given: the local Ditto peer id where known. */
  readonly serviceInstanceId?: string;
  /** Serve OpenTelemetry's `target_info` family (default false: /metrics stays the contract). */
  readonly targetInfo?: boolean;
  /** Add `otel_scope_name`/`otel_scope_version` labels to every series (default false). */
  readonly scopeLabels?: boolean;
}

/** A collection that failed or reported errors: the scrape answers 500 instead of OTel's 200. */
export class OtelCollectionError extends Error {
  constructor(readonly causes: readonly unknown[]) {
    super(`OpenTelemetry metrics collection failed: ${causes.map((c) => (c instanceof Error ? c.message : String(c))).join('; ')}`);
    this.name = 'OtelCollectionError';
  }
}

/**
 * The exporter's families through @opentelemetry/sdk-metrics and @opentelemetry/exporter-prometheus.
 *
 * The ditto_sync_* families come from a ViewMetricProducer registered on the PrometheusExporter
 * (a MetricReader started with `preventServerStart`, so it opens no port of its own). The
 * MeterProvider carries the resource and is free for the application's own instruments, which
 * then appear on /metrics too. Process metrics are not included: prom-client's live in the
 * prom-client backend only.
 *
 * /metrics does not go through `PrometheusExporter.getMetricsRequestHandler`: that handler answers
 * 200 even when collection fails (errors go to `diag` only). We run the same two steps it runs,
 * `collect()` then `PrometheusSerializer.serialize()`, and answer 500 when collection fails. The
 * serializer runs in slices that hand the event loop back every 2 ms (otel-serialize.ts), with a
 * body byte for byte that of the single call.
 */
export class OtelBackend implements MetricsBackend {
  readonly name = 'otel' as const;
  readonly meterProvider: MeterProvider;
  readonly reader: PrometheusExporter;
  readonly producer: ViewMetricProducer;
  /** `serializer.whole` is the PrometheusSerializer whose single call the body equals. */
  readonly serializer: SlicedPrometheusSerializer;
  private failures = 0;
  private closing: Promise<void> | undefined;

  constructor(
    view: () => ScrapeView,
    private readonly state: Pick<SyncState, 'recordError'>,
    options: OtelBackendOptions = {},
  ) {
    const withoutTargetInfo = !(options.targetInfo ?? false);
    const withoutScopeInfo = !(options.scopeLabels ?? false);
    this.producer = new ViewMetricProducer(view);
    this.reader = new PrometheusExporter({ preventServerStart: true, withoutTargetInfo, withoutScopeInfo, metricProducers: [this.producer] });
    this.serializer = new SlicedPrometheusSerializer({ withoutTargetInfo, withoutScopeInfo });
    this.meterProvider = new MeterProvider({
      resource: options.resource ?? exporterResource({ serviceInstanceId: options.serviceInstanceId }),
      readers: [this.reader],
    });
  }

  /** Collections that failed since start (each also counted in ditto_sync_observer_errors_total). */
  get collectionFailures(): number {
    return this.failures;
  }

  /** Prometheus text 0.0.4 only: OpenTelemetry's serializer has no OpenMetrics, whatever is asked. */
  async render(_format: ExpositionFormat): Promise<{ contentType: string; body: string }> {
    let result;
    try {
      result = await this.reader.collect();
    } catch (error) {
      throw this.failed([error]);
    }
    if (result.errors.length > 0) throw this.failed(result.errors);
    return { contentType: CONTENT_TYPES.prometheus, body: await this.serializer.serialize(result.resourceMetrics) };
  }

  async handle(req: Request, res: Response): Promise<void> {
    let rendered;
    try {
      rendered = await this.render('prometheus');
    } catch (error) {
      if (!(error instanceof OtelCollectionError)) throw error;
      res.status(500).type('text/plain').set('Cache-Control', 'no-store').send('metrics collection failed\n');
      return;
    }
    await sendExposition(req, res, rendered.contentType, rendered.body);
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
