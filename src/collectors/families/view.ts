import type { LabelSet } from '../../exposition/labels.js';
import type { EngineReading } from '../engine.js';
import type { FleetView } from '../fleet-view.js';
import type { HistogramData } from '../histogram.js';
import type { PresenceSnapshot } from '../presence.js';
import type { Snapshot } from '../snapshot.js';
import type { StorageReading } from '../storage.js';

/** What the sync area reports in one scrape. */
export interface SyncView {
  /**
   * The snapshot this scrape serves, or undefined before the first one and while the source is
   * closed or failing: a frozen snapshot is never served as current.
   */
  readonly snapshot: Snapshot | undefined;
  /** When the latest snapshot was read, served or not (for its age). */
  readonly latestReadAt: number | undefined;
  /** Highest tracked commit raised by the rows' synced ids; undefined until a commit is tracked. */
  readonly localCommitId: bigint | undefined;
  readonly unackedCommits: number;
  readonly oldestUnackedAt: number | undefined;
  readonly trackedCommits: number;
  readonly trackedCommitsDropped: number;
  readonly commitsUnusable: number;
  readonly ackLatency: HistogramData;
  readonly up: boolean;
  readonly ticks: number;
  readonly errors: number;
  readonly refreshes: number;
  /** Present only for the replay source. */
  readonly replayLinesSkipped: ReadonlyMap<string, number> | undefined;
}

/** What the storage part reports in one scrape. */
export interface StorageView {
  /** Whether the latest read succeeded; undefined before the first read finished. */
  readonly up: boolean | undefined;
  /** The latest reading, only while it is served: a failed read never leaves old figures served as current. */
  readonly reading: StorageReading | undefined;
  readonly readErrors: number;
}

/** What the device area reports in one scrape. */
export interface DeviceView {
  /**
   * The presence graph this scrape serves; undefined before the first usable graph, after an
   * unusable one, and while the sync view serves no snapshot (the same freshness rule).
   */
  readonly presence: PresenceSnapshot | undefined;
  /** ditto_sync_peer_info label sets: one per peer of the served snapshot's per-peer set. */
  readonly peerInfo: readonly LabelSet[];
  /** Undefined for sources that cannot read storage; its reading is undefined while not served. */
  readonly storage: StorageView | undefined;
}

/** How this exporter runs, for its info families. */
export interface ExporterInfo {
  readonly version: string;
  /** The SDK the source runs, or "none" for sources without Ditto. */
  readonly dittoSdkVersion: string;
  readonly source: string;
  readonly backend: string;
  /** "true" / "false" for the ditto source, "none" without Ditto. */
  readonly strictMode: string;
  readonly peerIdLabel: string;
}

/** What reading Ditto's engine metrics gave (only when they are configured). */
export interface EngineView {
  /** The latest read succeeded and its body named at least one family. */
  readonly up: boolean;
  /** How long the latest read took; undefined before the first. */
  readonly durationSeconds: number | undefined;
  /** Failed reads so far, by reason (every reason present from 0). */
  readonly errors: ReadonlyMap<string, number>;
  /** The latest body as read, when the latest read returned one; its families are served only while up. */
  readonly reading: EngineReading | undefined;
}

/** What the sync-health beacon publisher has done (only with publishHealth). */
export interface BeaconView {
  /** Writes by reason (`refresh`, `restore`), every reason present from 0. */
  readonly publishes: ReadonlyMap<string, number>;
  readonly failures: number;
  /** The `at` of the beacon now in the metadata; undefined before the first publish. */
  readonly lastPublishAt: number | undefined;
}

/** Everything one scrape reports, captured at once so a scrape never sees half an update. */
export interface ScrapeView {
  /** Unix seconds: "now" for every age in this scrape. */
  readonly now: number;
  /** Undefined for sources that read no system:data_sync_info. */
  readonly sync: SyncView | undefined;
  readonly device: DeviceView;
  /** Present only for the fleet source. */
  readonly fleet?: FleetView | undefined;
  readonly info: ExporterInfo;
  /** Undefined unless engine metrics are configured. */
  readonly engine?: EngineView;
  /** Undefined unless the beacon is published. */
  readonly beacon?: BeaconView;
}
