import { F } from '../../catalogue/index.js';
import { labelSet, NO_LABELS } from '../../exposition/labels.js';
import { PEER_STATUSES, PEER_TYPES } from '../../model.js';
import type { PeerEntry } from '../snapshot.js';
import { byLabel, nonNegative, single, type FamilyEmitter, type ItemFamily } from './kit.js';
import type { ScrapeView, SyncView } from './view.js';

const PEERS_LABELS = PEER_TYPES.flatMap((t) => PEER_STATUSES.map((s) => ({ t, s, labels: labelSet({ peer_type: t, status: s }) })));
const STATUS_LABELS = PEER_STATUSES.map((s) => ({ s, labels: labelSet({ status: s }) }));

/** The served snapshot's sync view; undefined before the first snapshot and while the source is down. */
const current = (v: ScrapeView): SyncView | undefined => (v.sync?.snapshot ? v.sync : undefined);
const snap = (v: ScrapeView) => v.sync?.snapshot;

const perPeer = (def: ItemFamily<PeerEntry>['def'], emitItem: ItemFamily<PeerEntry>['emitItem']): ItemFamily<PeerEntry> => ({
  def,
  items: (v) => v.sync?.snapshot?.peers ?? [],
  emitItem,
});

/** The sync area's families, in exposition order. */
export const SYNC_EMITTERS: readonly FamilyEmitter[] = [
  single(F.up, (v) => (v.sync ? (v.sync.up ? 1 : 0) : undefined)),
  {
    def: F.peers,
    emit(view, out) {
      const counts = snap(view)?.counts;
      if (!counts) return;
      for (const { t, s, labels } of PEERS_LABELS) out.value(F.peers, labels, counts[t][s]);
    },
  },
  single(F.connectedPeers, (v) => snap(v)?.connected),
  single(F.cloudServers, (v) => snap(v)?.cloudServers),
  single(F.cloudServersConnected, (v) => snap(v)?.cloudConnected),
  single(F.peersOmitted, (v) => snap(v)?.omitted),
  perPeer(F.peerStatus, (_view, peer, out) => {
    for (const { s, labels } of STATUS_LABELS) out.value(F.peerStatus, peer.labels, peer.row.status === s ? 1 : 0, labels);
  }),
  perPeer(F.peerCommitLag, (view, peer, out) => {
    const synced = peer.row.syncedCommitId;
    const local = view.sync!.localCommitId;
    // A peer that never received a commit (0) would report the whole local commit id as its lag.
    if (synced === undefined || synced === 0n || local === undefined) return;
    out.value(F.peerCommitLag, peer.labels, nonNegative(local, synced));
  }),
  perPeer(F.peerSyncedCommitId, (_view, peer, out) => {
    if (peer.row.syncedCommitId !== undefined) out.value(F.peerSyncedCommitId, peer.labels, peer.row.syncedCommitId);
  }),
  perPeer(F.peerLastUpdate, (_view, peer, out) => {
    if (peer.row.lastUpdate !== undefined) out.value(F.peerLastUpdate, peer.labels, peer.row.lastUpdate);
  }),
  perPeer(F.peerSecondsSince, (view, peer, out) => {
    const t = peer.row.lastUpdate;
    if (t !== undefined) out.value(F.peerSecondsSince, peer.labels, Math.max(0, view.now - t));
  }),
  single(F.localCommitId, (v) => current(v)?.localCommitId),
  single(F.cloudCommitLag, (v) => {
    const cloud = snap(v)?.cloudSyncedCommitId;
    const local = current(v)?.localCommitId;
    return cloud === undefined || local === undefined ? undefined : nonNegative(local, cloud);
  }),
  single(F.cloudLastUpdate, (v) => snap(v)?.cloudLastUpdate),
  single(F.cloudSecondsSince, (v) => {
    const t = snap(v)?.cloudLastUpdate;
    return t === undefined ? undefined : Math.max(0, v.now - t);
  }),
  // Without a tracked commit these would read 0, "nothing waits", where the truth is "not known".
  single(F.cloudUnacked, (v) => {
    const sync = current(v);
    return sync?.localCommitId === undefined ? undefined : sync.unackedCommits;
  }),
  single(F.cloudOldestUnackedAge, (v) => {
    const sync = current(v);
    if (sync?.localCommitId === undefined) return undefined;
    return sync.oldestUnackedAt === undefined ? 0 : Math.max(0, v.now - sync.oldestUnackedAt);
  }),
  {
    def: F.commitCloudAck,
    emit(view, out) {
      if (view.sync) out.histogram(F.commitCloudAck, NO_LABELS, view.sync.ackLatency);
    },
  },
  single(F.trackedCommits, (v) => v.sync?.trackedCommits),
  single(F.trackedCommitsDropped, (v) => v.sync?.trackedCommitsDropped),
  single(F.commitsUnusable, (v) => v.sync?.commitsUnusable),
  single(F.observerTicks, (v) => v.sync?.ticks),
  single(F.observerErrors, (v) => v.sync?.errors),
  single(F.snapshotRefreshes, (v) => v.sync?.refreshes),
  single(F.snapshotAge, (v) => (v.sync?.latestReadAt === undefined ? undefined : Math.max(0, v.now - v.sync.latestReadAt))),
  byLabel(F.rowsUnusable, 'reason', (v) => snap(v)?.rowsUnusable),
  byLabel(F.fieldsUnusable, 'field', (v) => snap(v)?.fieldsUnusable),
  single(F.rowsAheadOfClock, (v) => snap(v)?.aheadOfClock),
  byLabel(F.replayLinesSkipped, 'reason', (v) => v.sync?.replayLinesSkipped),
];
