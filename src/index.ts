/** ditto-sync-exporter: Prometheus and OpenTelemetry metrics for Ditto's system:data_sync_info. */

// Library mode: an application that owns a Ditto instance.
export { attachSyncExporter, type AttachedSyncExporter, type AttachOptions } from './attach.js';
export { instrumentStore, type InstrumentStoreOptions } from './sources/instrument-store.js';
export { enableDittoEngineMetrics, engineExporterSetting, ENGINE_ENABLED_VAR, ENGINE_ADDRESS_VAR } from './sources/engine-exporter-env.js';
export { BEACON_KEY, buildBeacon, readBeacon, type HealthBeacon, type BeaconReading } from './collectors/beacon.js';

// The pieces, for custom set-ups.
export { SyncExporter, DEFAULTS, type ExporterOptions, type EngineMetricsOptions, type Readiness } from './exporter.js';
export { createRouter, createApp, listen, closeServer, boundPort, DEFAULT_PORT, type ListenOptions } from './server.js';
export { F as METRICS, FAMILIES, ACK_BUCKETS_SECONDS, type FamilyDef } from './catalogue/index.js';
export type { SyncSource, SourceSink, SourceKind } from './sources/source.js';
export { DittoSource, type DittoSourceOptions } from './sources/ditto.js';
export { ReplaySource, type ReplayOptions } from './sources/replay.js';
export { SimulateSource, type SimulateOptions } from './sources/simulate.js';
export { FleetSource, FLEET_DEFAULTS, type FleetSourceOptions } from './sources/fleet/fleet-source.js';
export { MeshSimulator, DEFAULT_MESH, type MeshOptions } from './sources/mesh-simulator.js';
export type { RawTick, PeerRow, PeerType, PeerStatus, RowField, RowUnusableReason } from './model.js';
export type { PeerIdMode } from './state/peer-labels.js';
export type { ExpositionFormat } from './exposition/format.js';

// Backends.
export { CollectionError, type MetricsBackend, type BackendName, type RenderOptions, type Rendered } from './backends/backend.js';
export { createOtelBackend, OtelBackend, type OtelBackendOptions } from './backends/otel.js';
export { ViewMetricProducer } from './backends/otel-producer.js';
export { exporterResource } from './backends/otel-resource.js';
export { startOtlpPush, resolveOtlpEndpoint, type OtlpPush, type OtlpPushOptions } from './backends/otlp-push.js';

// Web security (exporter-toolkit web config).
export {
  loadWebConfig,
  WebConfigError,
  webSecurityMiddleware,
  secureRouter,
  createAuthMiddleware,
  createServerFactory,
  type WebConfig,
} from './web/index.js';
