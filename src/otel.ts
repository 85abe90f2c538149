/**
 * ditto-sync-exporter/otel: the OpenTelemetry backend and OTLP push. A subpath of its own, so the
 * main entry never loads the OpenTelemetry SDK; `attachSyncExporter(ditto, { backend: 'otel' })`
 * loads it on start without this import.
 */
export { createOtelBackend, OtelBackend, OtelCollectionError, type OtelBackendOptions } from './backends/otel.js';
export { OTEL_SCOPE, ViewMetricProducer } from './backends/otel-producer.js';
export { exporterResource, OTEL_SERVICE_NAME, type ExporterResourceOptions } from './backends/otel-resource.js';
export { startOtlpPush, type OtlpPush, type OtlpPushOptions, type OtlpPushStats, type PushTarget } from './backends/otlp-push.js';
export { resolveOtlpEndpoint } from './backends/otlp-endpoint.js';
