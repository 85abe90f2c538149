/**
 * ditto-sync-exporter: Prometheus and OpenTelemetry metrics for Ditto's system:data_sync_info.
 *
 * This entry loads neither OpenTelemetry nor the web config stack nor the fleet source (a test
 * records every module it loads); they come from subpaths: `ditto-sync-exporter/otel`,
 * `ditto-sync-exporter/web`, `ditto-sync-exporter/fleet`. The Ditto SDK is the application's own
 * (an optional peer dependency); nothing here loads it.
 */

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
export { MeshSimulator, DEFAULT_MESH, type MeshOptions } from './sources/mesh-simulator.js';
export type { RawTick, PeerRow, PeerType, PeerStatus, RowField, RowUnusableReason } from './model.js';
export type { PeerIdMode } from './state/peer-labels.js';
export type { ExpositionFormat } from './exposition/format.js';

// Backends: the interface. The OpenTelemetry backend and OTLP push are in `ditto-sync-exporter/otel`.
export { CollectionError, type MetricsBackend, type BackendName, type RenderOptions, type Rendered } from './backends/backend.js';

// The Ditto SDK versions supported (the peer dependency's range).
export { SUPPORTED_DITTO_SDK } from './sources/ditto-sdk.js';
