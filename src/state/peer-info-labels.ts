import type { PeerDescription } from '../collectors/presence.js';
import type { Snapshot } from '../collectors/snapshot.js';
import { joinLabels, labelSet, type LabelSet } from '../exposition/labels.js';

interface Entry {
  /** The peer's per-peer label set this entry was built from (peer_id, peer_type). */
  peer: LabelSet;
  description: PeerDescription | undefined;
  labels: LabelSet;
  generation: number;
}

const UNKNOWN: PeerDescription = Object.freeze({ deviceName: '', os: '', sdkVersion: '' });
const EMPTY: readonly LabelSet[] = Object.freeze([]);

const same = (a: PeerDescription | undefined, b: PeerDescription | undefined) =>
  a === b || (a !== undefined && b !== undefined && a.deviceName === b.deviceName && a.os === b.os && a.sdkVersion === b.sdkVersion);

/**
 * The label sets of ditto_sync_peer_info: one per peer of the snapshot's per-peer set, with that
 * peer's own label set (so --max-peers and --peer-id-label apply exactly as to the other per-peer
 * families) joined by `_id` == presence `peerKey` to what the peer says about itself.
 *
 * Built only when the snapshot or the descriptions changed, and then only for peers whose labels
 * or description changed: a scrape at 10,000 peers reuses every set. A peer without a description
 * (a cloud server, never in the presence graph) has empty descriptive labels.
 */
export class PeerInfoLabels {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;
  private snapshot: Snapshot | undefined;
  private descriptionsVersion = -1;
  private result: readonly LabelSet[] = EMPTY;

  /** @param deviceNames false leaves the device_name label out (names can be personal). */
  constructor(private readonly deviceNames: boolean) {}

  /**
   * @param describe what each peer says about itself, by peer key
   * @param version changes whenever `describe` would answer differently
   */
  resolve(snapshot: Snapshot | undefined, describe: (id: string) => PeerDescription | undefined, version: number): readonly LabelSet[] {
    if (!snapshot) return EMPTY;
    if (snapshot === this.snapshot && version === this.descriptionsVersion) return this.result;
    const generation = ++this.generation;
    const out: LabelSet[] = new Array(snapshot.peers.length);
    let i = 0;
    for (const { row, labels } of snapshot.peers) {
      const description = describe(row.id);
      let entry = this.entries.get(row.id);
      if (!entry) this.entries.set(row.id, (entry = { peer: labels, description, labels: this.build(labels, description), generation }));
      else {
        if (entry.peer !== labels || !same(entry.description, description)) {
          entry.peer = labels;
          entry.description = description;
          entry.labels = this.build(labels, description);
        }
        entry.generation = generation;
      }
      out[i++] = entry.labels;
    }
    // Rows are unique by id, so equal sizes mean nothing to forget.
    if (this.entries.size > out.length) for (const [id, entry] of this.entries) if (entry.generation !== generation) this.entries.delete(id);
    this.snapshot = snapshot;
    this.descriptionsVersion = version;
    this.result = Object.freeze(out);
    return this.result;
  }

  private build(peer: LabelSet, description = UNKNOWN): LabelSet {
    const extra = this.deviceNames
      ? labelSet({ device_name: description.deviceName, os: description.os, sdk_version: description.sdkVersion })
      : labelSet({ os: description.os, sdk_version: description.sdkVersion });
    return joinLabels(peer, extra);
  }
}
