import { ACK_BUCKETS_SECONDS } from '../catalogue.js';
import type { ScrapeView } from '../collectors/families.js';
import { Histogram } from '../collectors/histogram.js';
import { parseCommitId, parseRows } from '../collectors/rows.js';
import { buildSnapshot, type Snapshot } from '../collectors/snapshot.js';
import type { RawTick, RejectReason, TrackedCommitInput } from '../model.js';
import { CommitTracker } from './commit-tracker.js';
import { PeerLabelCache } from './peer-label-cache.js';
import type { PeerLabeler } from './peer-labels.js';

export interface SyncStateOptions {
  readonly maxPeers: number;
  readonly maxTrackedCommits: number;
  readonly peerLabels: PeerLabeler;
  readonly build: { readonly version: string; readonly dittoSdkVersion: string };
  readonly ackBuckets?: readonly number[];
  /** Called with every error the state swallows, so it can be logged. */
  readonly onError?: (error: unknown, context: string) => void;
}

/**
 * The exporter's memory: the latest snapshot, tracked commits and health counters. Every method
 * is synchronous, so a scrape that captures `view()` sees one whole state.
 */
export class SyncState {
  private current: Snapshot | undefined;
  private readonly tracker: CommitTracker;
  private readonly ackLatency: Histogram;
  private readonly rejected = new Map<RejectReason, number>();
  private ticks = 0;
  private errors = 0;
  private refreshes = 0;
  private futureTimestamps = 0;
  private healthy = true;
  private replaySkipped: Map<string, number> | undefined;
  private readonly peerLabels: PeerLabelCache;

  constructor(private readonly options: SyncStateOptions) {
    this.tracker = new CommitTracker(options.maxTrackedCommits);
    this.ackLatency = new Histogram(options.ackBuckets ?? ACK_BUCKETS_SECONDS);
    this.peerLabels = new PeerLabelCache(options.peerLabels);
  }

  get snapshot(): Snapshot | undefined {
    return this.current;
  }

  /** Applies one tick. Never throws: a failure is counted and the previous snapshot kept. */
  ingest(tick: RawTick): boolean {
    try {
      if (!Array.isArray(tick.rows) || !Number.isFinite(tick.readAt)) throw new TypeError('tick needs rows[] and a finite readAt');
      for (const commit of tick.commits ?? []) this.trackInput(commit, tick.readAt);
      const parsed = parseRows(tick.rows);
      for (const [reason, n] of parsed.rejected) this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + n);
      this.peerLabels.beginTick();
      const snapshot = buildSnapshot(parsed.rows, tick.readAt, {
        maxPeers: this.options.maxPeers,
        labelsFor: this.peerLabels.lookup,
      });
      this.peerLabels.endTick();
      if (snapshot.cloudSyncedCommitId !== undefined) {
        this.tracker.ack(snapshot.cloudSyncedCommitId, tick.readAt, (latency) => this.ackLatency.observe(latency));
      }
      this.futureTimestamps += snapshot.futureRows;
      this.current = snapshot;
      this.ticks++;
      this.healthy = true;
      return true;
    } catch (error) {
      this.recordError(error, 'applying a snapshot');
      return false;
    }
  }

  /** Tracks a local commit the application made. Bad ids are counted as errors, not thrown. */
  trackCommit(id: bigint | number | string, at: number): boolean {
    return this.trackInput({ id, at }, at);
  }

  private trackInput(commit: TrackedCommitInput, defaultAt: number): boolean {
    const id = parseCommitId(commit?.id);
    const at = commit?.at ?? defaultAt;
    if (id === undefined || id === null || !Number.isFinite(at)) {
      this.recordError(new TypeError(`unusable commit id ${String(commit?.id)}`), 'tracking a commit');
      return false;
    }
    this.tracker.track(id, at);
    return true;
  }

  recordError(error: unknown, context: string): void {
    this.errors++;
    try {
      this.options.onError?.(error, context);
    } catch {
      // A failing logger must not take the exporter down with it.
    }
  }

  /** The source failed or closed: ditto_sync_up goes 0 until the next good snapshot. */
  markDown(): void {
    this.healthy = false;
  }

  markRefresh(): void {
    this.refreshes++;
  }

  countReplaySkip(reason: string): void {
    this.replaySkipped ??= new Map();
    this.replaySkipped.set(reason, (this.replaySkipped.get(reason) ?? 0) + 1);
  }

  /** Declares the replay source so its skip counter is exported from 0. */
  enableReplayCounters(reasons: readonly string[]): void {
    this.replaySkipped ??= new Map();
    for (const r of reasons) if (!this.replaySkipped.has(r)) this.replaySkipped.set(r, 0);
  }

  view(now: number, sourceOpen: boolean): ScrapeView {
    const snapshot = this.current;
    const tracked = this.tracker.maxTracked;
    const rowMax = snapshot?.maxSyncedCommitId;
    const localCommitId = tracked === undefined ? rowMax : rowMax === undefined || tracked > rowMax ? tracked : rowMax;
    return {
      now,
      snapshot,
      localCommitId,
      unackedCommits: this.tracker.unacked,
      oldestUnackedAt: this.tracker.oldestUnackedAt,
      trackedCommitsDropped: this.tracker.dropped,
      ackLatency: this.ackLatency.data(),
      up: sourceOpen && this.healthy && snapshot !== undefined,
      ticks: this.ticks,
      errors: this.errors,
      refreshes: this.refreshes,
      rejected: new Map(this.rejected),
      futureTimestamps: this.futureTimestamps,
      replayLinesSkipped: this.replaySkipped && new Map(this.replaySkipped),
      build: this.options.build,
    };
  }
}
