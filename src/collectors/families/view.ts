import type { HttpView } from '../../http/http-stats.js';
import type { HistogramData } from '../histogram.js';
import type { Snapshot } from '../snapshot.js';

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

/** Everything one scrape reports, captured at once so a scrape never sees half an update. */
export interface ScrapeView {
  /** Unix seconds: "now" for every age in this scrape. */
  readonly now: number;
  /** Undefined for sources that read no system:data_sync_info. */
  readonly sync: SyncView | undefined;
  readonly info: ExporterInfo;
  /** The HTTP layer's counters; undefined until a router or server serves this exporter. */
  readonly http?: HttpView;
}
