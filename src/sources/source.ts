import type { FleetView } from '../collectors/fleet-view.js';
import type { RawStorage, RawTick } from '../model.js';
import type { HealthPublisher, HealthPublisherOptions } from './health-publisher.js';

export const SOURCE_KINDS = ['ditto', 'replay', 'simulate', 'fleet'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** Where a source delivers what it reads. */
export interface SourceSink {
  tick(tick: RawTick): void;
  /** A presence graph (shaped as the SDK's PresenceGraph), read at `readAt` (unix seconds); validated later. */
  presence(graph: unknown, readAt: number): void;
  /** A failure the source survived (a throwing callback, a failed read). */
  error(error: unknown, context: string): void;
  /** A local commit the application made; `at` a unix time (seconds, or ms/µs/ns by magnitude). */
  trackCommit(id: unknown, at: unknown): void;
  /** An input record the source could not use (replay lines), by reason. */
  skip(reason: string): void;
  /** The source can no longer deliver (closed under us, stopped). */
  down(): void;
}

/** A producer of ticks. Only the `ditto` source talks to the Ditto SDK, only `fleet` to a Ditto Server. */
export interface SyncSource {
  readonly kind: SourceKind;
  start(sink: SourceSink): Promise<void>;
  /** One fresh read, for scrapes that find the latest snapshot too old. */
  refresh?(): Promise<RawTick>;
  /** One read of this device's storage figures, at scrape time; absent for sources without storage. */
  readStorage?(): Promise<RawStorage>;
  /** "Now" on this source's clock, unix seconds (replay: the latest applied line's t). */
  now(): number;
  /** Open and able to deliver. */
  readonly open: boolean;
  /** For finite sources: false until every record has been applied. */
  readonly finished?: boolean;
  /** Skip reasons this source can report, exported from 0. */
  readonly skipReasons?: readonly string[];
  /** The SDK version the source runs; absent for sources without Ditto. */
  readonly dittoSdkVersion?: string;
  /** DQL strict mode as the source detected it; absent for sources without Ditto. */
  readonly strictMode?: boolean;
  /** The local Ditto peer's id, where the source knows it (OTLP's service.instance.id). */
  readonly localPeerId?: string;
  /** A publisher of the sync-health beacon into this source's small peer info (the ditto source only); not started. */
  publishHealth?(options: HealthPublisherOptions): HealthPublisher;
  /**
   * False for a source that reads no system:data_sync_info (fleet): the sync families, ditto_sync_up
   * included, are left out for it instead of reporting a source that never ticks.
   */
  readonly readsSyncInfo?: boolean;
  /** The fleet section of a scrape (fleet source only). */
  fleetView?(): FleetView;
  /** Readiness decided by the source itself, for sources without snapshots (fleet). */
  readiness?(): { readonly ready: boolean; readonly reason: string };
  close(): Promise<void>;
}

export const wallClock = (): number => Date.now() / 1000;
