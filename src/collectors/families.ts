import { F, type FamilyDef } from '../catalogue.js';
import { labelSet, NO_LABELS, type LabelSet } from '../exposition/labels.js';
import { PEER_STATUSES, PEER_TYPES, REJECT_REASONS, type RejectReason } from '../model.js';
import type { HistogramData } from './histogram.js';
import type { PeerEntry, Snapshot } from './snapshot.js';

/** Everything one scrape reports, captured at once so a scrape never sees half an update. */
export interface ScrapeView {
  /** Unix seconds: "now" for every age in this scrape. */
  readonly now: number;
  readonly snapshot: Snapshot | undefined;
  /** max(tracked commits, every row's synced commit id). */
  readonly localCommitId: bigint | undefined;
  readonly unackedCommits: number;
  readonly oldestUnackedAt: number | undefined;
  readonly trackedCommitsDropped: number;
  readonly ackLatency: HistogramData;
  readonly up: boolean;
  readonly ticks: number;
  readonly errors: number;
  readonly refreshes: number;
  readonly rejected: ReadonlyMap<RejectReason, number>;
  readonly futureTimestamps: number;
  /** Present only for the replay source. */
  readonly replayLinesSkipped: ReadonlyMap<string, number> | undefined;
  readonly build: { readonly version: string; readonly dittoSdkVersion: string };
}

/** Receives samples; text writers, prom-client and OpenTelemetry each implement it. */
export interface SampleSink {
  sample(def: FamilyDef, name: string, labels: LabelSet, value: number | bigint, extra?: LabelSet): void;
}

interface AggregateFamily {
  readonly def: FamilyDef;
  readonly perPeer?: false;
  emit(view: ScrapeView, out: SampleSink): void;
}

interface PerPeerFamily {
  readonly def: FamilyDef;
  readonly perPeer: true;
  emitPeer(view: ScrapeView, peer: PeerEntry, out: SampleSink): void;
}

export type FamilyEmitter = AggregateFamily | PerPeerFamily;

const PEERS_LABELS = PEER_TYPES.flatMap((t) => PEER_STATUSES.map((s) => ({ t, s, labels: labelSet({ peer_type: t, status: s }) })));
const STATUS_LABELS = PEER_STATUSES.map((s) => ({ s, labels: labelSet({ status: s }) }));
const REASON_LABELS = new Map(REJECT_REASONS.map((r) => [r, labelSet({ reason: r })] as const));

const nonNegative = (a: bigint, b: bigint): bigint => (a > b ? a - b : 0n);

const aggregate = (def: FamilyDef, get: (v: ScrapeView) => number | bigint | undefined): AggregateFamily => ({
  def,
  emit(view, out) {
    const value = get(view);
    if (value !== undefined) out.sample(def, def.name, NO_LABELS, value);
  },
});

const counterByLabel = (def: FamilyDef, label: string, get: (v: ScrapeView) => ReadonlyMap<string, number> | undefined): AggregateFamily => {
  const cache = new Map<string, LabelSet>();
  return {
    def,
    emit(view, out) {
      const values = get(view);
      if (!values) return;
      for (const [key, value] of values) {
        let labels = cache.get(key);
        if (!labels) cache.set(key, (labels = labelSet({ [label]: key })));
        out.sample(def, def.name, labels, value);
      }
    },
  };
};

/** Every family, in exposition order. */
export function familyEmitters(): readonly FamilyEmitter[] {
  return EMITTERS;
}

const EMITTERS: readonly FamilyEmitter[] = [
  aggregate(F.up, (v) => (v.up ? 1 : 0)),
  {
    def: F.peers,
    emit(view, out) {
      const counts = view.snapshot?.counts;
      if (!counts) return;
      for (const { t, s, labels } of PEERS_LABELS) out.sample(F.peers, F.peers.name, labels, counts[t][s]);
    },
  },
  aggregate(F.connectedPeers, (v) => v.snapshot?.connected),
  aggregate(F.cloudServers, (v) => v.snapshot?.cloudServers),
  aggregate(F.cloudServersConnected, (v) => v.snapshot?.cloudConnected),
  aggregate(F.peersOmitted, (v) => v.snapshot?.omitted),
  {
    def: F.peerStatus,
    perPeer: true,
    emitPeer(_view, peer, out) {
      for (const { s, labels } of STATUS_LABELS) {
        out.sample(F.peerStatus, F.peerStatus.name, peer.labels, peer.row.status === s ? 1 : 0, labels);
      }
    },
  },
  {
    def: F.peerCommitLag,
    perPeer: true,
    emitPeer(view, peer, out) {
      const synced = peer.row.syncedCommitId;
      if (synced === undefined || view.localCommitId === undefined) return;
      out.sample(F.peerCommitLag, F.peerCommitLag.name, peer.labels, nonNegative(view.localCommitId, synced));
    },
  },
  {
    def: F.peerSyncedCommitId,
    perPeer: true,
    emitPeer(_view, peer, out) {
      if (peer.row.syncedCommitId !== undefined) out.sample(F.peerSyncedCommitId, F.peerSyncedCommitId.name, peer.labels, peer.row.syncedCommitId);
    },
  },
  {
    def: F.peerLastUpdate,
    perPeer: true,
    emitPeer(_view, peer, out) {
      if (peer.row.lastUpdate !== undefined) out.sample(F.peerLastUpdate, F.peerLastUpdate.name, peer.labels, peer.row.lastUpdate);
    },
  },
  {
    def: F.peerSecondsSince,
    perPeer: true,
    emitPeer(view, peer, out) {
      const t = peer.row.lastUpdate;
      if (t !== undefined) out.sample(F.peerSecondsSince, F.peerSecondsSince.name, peer.labels, Math.max(0, view.now - t));
    },
  },
  aggregate(F.localCommitId, (v) => v.localCommitId),
  aggregate(F.cloudCommitLag, (v) => {
    const cloud = v.snapshot?.cloudSyncedCommitId;
    if (cloud === undefined || v.localCommitId === undefined) return undefined;
    return nonNegative(v.localCommitId, cloud);
  }),
  aggregate(F.cloudSecondsSince, (v) => {
    const t = v.snapshot?.cloudLastUpdate;
    return t === undefined ? undefined : Math.max(0, v.now - t);
  }),
  aggregate(F.cloudUnacked, (v) => v.unackedCommits),
  aggregate(F.cloudOldestUnackedAge, (v) => (v.oldestUnackedAt === undefined ? 0 : Math.max(0, v.now - v.oldestUnackedAt))),
  {
    def: F.commitCloudAck,
    emit(view, out) {
      const h = view.ackLatency;
      const def = F.commitCloudAck;
      let cumulative = 0;
      for (let i = 0; i < h.bounds.length; i++) {
        cumulative += h.counts[i]!;
        out.sample(def, `${def.name}_bucket`, NO_LABELS, cumulative, leLabels(h.bounds[i]!));
      }
      out.sample(def, `${def.name}_bucket`, NO_LABELS, h.count, LE_INF);
      out.sample(def, `${def.name}_sum`, NO_LABELS, h.sum);
      out.sample(def, `${def.name}_count`, NO_LABELS, h.count);
    },
  },
  aggregate(F.trackedCommitsDropped, (v) => v.trackedCommitsDropped),
  aggregate(F.observerTicks, (v) => v.ticks),
  aggregate(F.observerErrors, (v) => v.errors),
  aggregate(F.snapshotRefreshes, (v) => v.refreshes),
  aggregate(F.snapshotAge, (v) => (v.snapshot ? Math.max(0, v.now - v.snapshot.readAt) : undefined)),
  {
    def: F.rowsRejected,
    emit(view, out) {
      for (const [reason, labels] of REASON_LABELS) out.sample(F.rowsRejected, F.rowsRejected.name, labels, view.rejected.get(reason) ?? 0);
    },
  },
  aggregate(F.futureTimestamps, (v) => v.futureTimestamps),
  counterByLabel(F.replayLinesSkipped, 'reason', (v) => v.replayLinesSkipped),
  {
    def: F.buildInfo,
    emit(view, out) {
      out.sample(F.buildInfo, F.buildInfo.name, labelSet({ version: view.build.version, ditto_sdk_version: view.build.dittoSdkVersion }), 1);
    },
  },
];

/** `le` values as Prometheus' Go client writes them. */
export function formatLe(bound: number): string {
  return bound === Infinity ? '+Inf' : String(bound);
}

const LE_LABELS = new Map<number, LabelSet>();
const LE_INF = labelSet({ le: '+Inf' });
function leLabels(bound: number): LabelSet {
  let labels = LE_LABELS.get(bound);
  if (!labels) LE_LABELS.set(bound, (labels = labelSet({ le: formatLe(bound) })));
  return labels;
}
