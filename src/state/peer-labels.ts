import { createHmac } from 'node:crypto';
import { labelSet, type LabelSet } from '../exposition/labels.js';
import type { PeerType } from '../model.js';

export const PEER_ID_MODES = ['full', 'hash', 'none'] as const;
export type PeerIdMode = (typeof PEER_ID_MODES)[number];

/** Label set for a peer's series, or null when per-peer series are switched off. */
export type PeerLabeler = (id: string, type: PeerType) => LabelSet | null;

/**
 * `full` exports the peer id as it is; `hash` a stable keyed hash of it (dashboards keep working
 * without revealing ids); `none` keeps peers out of per-peer series, leaving only aggregates.
 */
export function peerLabeler(mode: PeerIdMode, hashKey = ''): PeerLabeler {
  if (mode === 'none') return () => null;
  if (mode === 'hash') {
    return (id, type) => labelSet({ peer_id: createHmac('sha256', hashKey).update(id).digest('hex').slice(0, 16), peer_type: type });
  }
  return (id, type) => labelSet({ peer_id: id, peer_type: type });
}
