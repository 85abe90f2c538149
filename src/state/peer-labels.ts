import { createHmac } from 'node:crypto';
import { labelSet, type LabelSet } from '../exposition/labels.js';
import type { PeerType } from '../model.js';

export const PEER_ID_MODES = ['full', 'hash', 'none'] as const;
export type PeerIdMode = (typeof PEER_ID_MODES)[number];

/**
 * Label set for a peer's series, or null when per-peer series are switched off. `mayCollide` is
 * false when two ids can never get one label text (the id itself is the label).
 */
export type PeerLabeler = ((id: string, type: PeerType) => LabelSet | null) & { readonly mayCollide?: boolean };

/** Hex characters of the keyed hash kept as the label value (64 bits). */
export const HASH_LABEL_LENGTH = 16;

/**
 * `full` exports the peer id as it is; `hash` a stable keyed hash of it (dashboards keep working
 * without revealing ids); `none` keeps peers out of per-peer series, leaving only aggregates.
 * `hash` needs a non-empty key: a hash under a known (empty) key can be reversed by hashing
 * candidate ids.
 */
export function peerLabeler(mode: PeerIdMode, hashKey?: string): PeerLabeler {
  if (mode === 'none') return Object.assign(() => null, { mayCollide: false });
  if (mode === 'hash') {
    if (typeof hashKey !== 'string' || hashKey.length === 0) throw new RangeError('peer id hashing needs a non-empty hash key (peerIdHashKey)');
    return (id, type) => labelSet({ peer_id: hashId(id, hashKey), peer_type: type });
  }
  if (mode !== 'full') throw new RangeError(`peerIdLabel must be one of ${PEER_ID_MODES.join(', ')}, got ${String(mode)}`);
  return Object.assign((id: string, type: PeerType) => labelSet({ peer_id: id, peer_type: type }), { mayCollide: false });
}

/** The keyed hash that stands in for an id under `hash` mode. */
export function hashId(id: string, key: string): string {
  return createHmac('sha256', key).update(id).digest('hex').slice(0, HASH_LABEL_LENGTH);
}
