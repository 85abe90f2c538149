/**
 * The presence graph (`ditto.presence.graph`, or a replay line's `presence`) as an immutable
 * snapshot: the remote peers this device knows, its own direct connections by transport, and what
 * each peer says about itself. Pure and total: every input gives a snapshot or a reason.
 */
import { TRANSPORTS, type PresenceItem, type Transport } from '../catalogue/device.js';
import { labelText, MAX_DEVICE_NAME_LENGTH, MAX_SHORT_TEXT_LENGTH } from './label-text.js';
import { peerIdProblem } from './rows.js';
import { transportOf } from './transports.js';

/** What a peer says about itself, as label values ("" when it does not say). */
export interface PeerDescription {
  readonly deviceName: string;
  readonly os: string;
  readonly sdkVersion: string;
}

export interface PresenceSnapshot {
  /** Unix seconds on the source clock. */
  readonly readAt: number;
  readonly localPeerKey: string;
  /** Distinct remote peers with a usable key, reached directly or over several hops. */
  readonly remotePeers: number;
  /** The local peer's direct connections by transport, each connection counted once. */
  readonly connections: Readonly<Record<Transport, number>>;
  /** Remote peers by peer key: the join key of system:data_sync_info's `_id`. */
  readonly peers: ReadonlyMap<string, PeerDescription>;
  readonly unusable: ReadonlyMap<PresenceItem, number>;
}

export type PresenceResult = { readonly ok: true; readonly snapshot: PresenceSnapshot } | { readonly ok: false; readonly reason: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function describePeer(peer: Record<string, unknown>): PeerDescription {
  return {
    deviceName: labelText(peer['deviceName'], MAX_DEVICE_NAME_LENGTH),
    os: labelText(peer['os'], MAX_SHORT_TEXT_LENGTH),
    sdkVersion: labelText(peer['dittoSdkVersion'], MAX_SHORT_TEXT_LENGTH),
  };
}

/**
 * Pure: a presence graph shaped as the SDK's `PresenceGraph` → snapshot. A graph without a local
 * peer key or a remotePeers array is unusable as a whole. Otherwise bad entries are left out and
 * counted: a peer that is not an object or has no usable key, a connection without a string id,
 * transport and ends. A connection both ends report (same id) counts once, and only connections
 * with the local peer at one end count.
 */
export function buildPresence(graph: unknown, readAt: number): PresenceResult {
  if (!isRecord(graph)) return { ok: false, reason: 'the presence graph is not an object' };
  const local = graph['localPeer'];
  if (!isRecord(local)) return { ok: false, reason: 'the presence graph has no localPeer object' };
  const localKey = local['peerKey'];
  if (typeof localKey !== 'string' || peerIdProblem(localKey)) return { ok: false, reason: 'the presence graph has no usable local peerKey' };
  const remote = graph['remotePeers'];
  if (!Array.isArray(remote)) return { ok: false, reason: 'the presence graph has no remotePeers array' };

  let badPeers = 0;
  let badConnections = 0;
  const peers = new Map<string, PeerDescription>();
  const connections = Object.fromEntries(TRANSPORTS.map((t) => [t, 0])) as Record<Transport, number>;
  const seenConnections = new Set<string>();

  const addConnections = (list: unknown) => {
    if (list === undefined) return;
    if (!Array.isArray(list)) {
      badConnections++;
      return;
    }
    for (const c of list) {
      if (!isRecord(c)) {
        badConnections++;
        continue;
      }
      const { id, connectionType, peer1, peer2 } = c;
      if (typeof id !== 'string' || id === '' || typeof connectionType !== 'string' || typeof peer1 !== 'string' || typeof peer2 !== 'string') {
        badConnections++;
        continue;
      }
      if (seenConnections.has(id)) continue;
      seenConnections.add(id);
      if (peer1 === localKey || peer2 === localKey) connections[transportOf(connectionType)]++;
    }
  };

  addConnections(local['connections']);
  for (const peer of remote) {
    if (!isRecord(peer)) {
      badPeers++;
      continue;
    }
    addConnections(peer['connections']);
    const key = peer['peerKey'];
    if (typeof key !== 'string' || peerIdProblem(key)) {
      badPeers++;
      continue;
    }
    if (key === localKey || peers.has(key)) continue;
    peers.set(key, Object.freeze(describePeer(peer)));
  }

  const unusable = new Map<PresenceItem, number>([
    ['peer', badPeers],
    ['connection', badConnections],
  ]);
  return {
    ok: true,
    snapshot: Object.freeze({
      readAt,
      localPeerKey: localKey,
      remotePeers: peers.size,
      connections: Object.freeze(connections),
      peers,
      unusable,
    }),
  };
}
