import { ACK_BUCKETS_SECONDS } from '../catalogue/index.js';
import type { SyncView } from '../collectors/families/index.js';
import { Histogram } from '../collectors/histogram.js';
import { parseCommitId, parseRows } from '../collectors/rows.js';
import { NO_IDS } from '../collectors/selection.js';
import { buildSnapshot, type Snapshot } from '../collectors/snapshot.js';
import { readTime } from '../collectors/timestamps.js';
import type { RawTick, TrackedCommitInput } from '../model.js';
import { CommitTracker } from './commit-tracker.js';
import { PeerLabelCache } from './peer-label-cache.js';
import type { PeerLabeler } from './peer-labels.js';

export interface SyncStateOptions {
  readonly maxPeers: number;
  readonly maxTrackedCommits: number;
  readonly peerLabels: PeerLabeler;
  readonly ackBuckets?: readonly number[];
  /** Called with every error the state swallows, so it can be logged. */
  readonly onError?: (error: unknown, context: string) => void;
  /** Called with each commit that could not be tracked (it is counted either way). */
  readonly onUnusableCommit?: (detail: string) => void;
  /** Called with each snapshot applied (the device state follows the per-peer set). */
  readonly onSnapshot?: (snapshot: Snapshot) => void;
}


/**
 * The exporter's memory of system:data_sync_info: the latest snapshot, tracked commits and health
 * counters. Every method is synchronous, so a scrape that captures `view()` sees one whole state.
 */
export class SyncState {
  private current: Snapshot | undefined;
  private readonly tracker: CommitTracker;
  private readonly ackLatency: Histogram;
  private applied = 0;
  private errors = 0;
  private refreshes = 0;
  private unusableCommits = 0;
  private healthy = true;
  private replaySkipped: Map<string, number> | undefined;
  private readonly peerLabels: PeerLabelCache;
  private readonly observeAck: (latency: number) => void;

  constructor(private readonly options: SyncStateOptions) {
    this.tracker = new CommitTracker(options.maxTrackedCommits);
    this.ackLatency = new Histogram(options.ackBuckets ?? ACK_BUCKETS_SECONDS);
    this.peerLabels = new PeerLabelCache(options.peerLabels);
    this.observeAck = (latency) => this.ackLatency.observe(latency);
  }

  get snapshot(): Snapshot | undefined {
    return this.current;
  }

  /** Snapshots applied so far: a read that started at a lower count is older than the current snapshot. */
  get sequence(): number {
    return this.applied;
  }

  /** Applies one tick. Never throws: a failure is counted and the previous snapshot kept. */
  ingest(tick: RawTick): boolean {
    try {
      if (!Array.isArray(tick.rows) || !Number.isFinite(tick.readAt) || tick.readAt <= 0) {
        throw new TypeError('tick needs rows[] and a positive, finite readAt');
      }
      for (const commit of tick.commits ?? []) this.trackInput(commit, tick.readAt, tick.readAt);
      const parsed = parseRows(tick.rows, tick.readAt);
      this.peerLabels.beginTick();
      const snapshot = buildSnapshot(parsed, tick.readAt, {
        maxPeers: this.options.maxPeers,
        previousKept: this.current?.kept ?? NO_IDS,
        labelsFor: this.peerLabels.lookup,
        labelsMayCollide: this.options.peerLabels.mayCollide !== false,
      });
      this.peerLabels.endTick();
      if (snapshot.cloudSyncedCommitId !== undefined) this.tracker.ack(snapshot.cloudSyncedCommitId, tick.readAt, this.observeAck);
      this.current = snapshot;
      this.applied++;
      this.healthy = true;
      this.options.onSnapshot?.(snapshot);
      return true;
    } catch (error) {
      this.recordError(error, 'applying a snapshot');
      return false;
    }
  }

  /** Tracks a local commit the application made at `at`, seen at `now`. Unusable ones are counted, not thrown. */
  trackCommit(id: unknown, at: unknown, now: number): boolean {
    return this.trackInput({ id, at }, now, now);
  }

  private trackInput(commit: TrackedCommitInput, defaultAt: number, now: number): boolean {
    const id = parseCommitId(commit?.id);
    const time = commit?.at === undefined ? readTime(defaultAt, now) : readTime(commit.at, now);
    if (id === undefined || id === null || time.kind !== 'time') {
      this.unusableCommits++;
      try {
        this.options.onUnusableCommit?.(`commit id ${describe(commit?.id)} at ${describe(commit?.at)}`);
      } catch {
        // A failing logger must not take the exporter down with it.
      }
      return false;
    }
    this.tracker.track(id, time.seconds, now, this.observeAck);
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

  view(sourceOpen: boolean): SyncView {
    const latest = this.current;
    const up = sourceOpen && this.healthy && latest !== undefined;
    const tracked = this.tracker.maxTracked;
    const rowMax = latest?.maxSyncedCommitId;
    // Without a tracked commit nothing says where the local commit id is: the best-synced peer
    // would read as lag 0 by construction, so no local id (and no lags) at all.
    const localCommitId = tracked === undefined ? undefined : rowMax !== undefined && rowMax > tracked ? rowMax : tracked;
    return {
      snapshot: up ? latest : undefined,
      latestReadAt: latest?.readAt,
      localCommitId,
      unackedCommits: this.tracker.unacked,
      oldestUnackedAt: this.tracker.oldestUnackedAt,
      trackedCommits: this.tracker.tracked,
      trackedCommitsDropped: this.tracker.dropped,
      commitsUnusable: this.unusableCommits,
      ackLatency: this.ackLatency.data(),
      up,
      ticks: this.applied,
      errors: this.errors,
      refreshes: this.refreshes,
      replayLinesSkipped: this.replaySkipped && new Map(this.replaySkipped),
    };
  }
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value)?.slice(0, 80) ?? String(value);
  } catch {
    return typeof value;
  }
}
