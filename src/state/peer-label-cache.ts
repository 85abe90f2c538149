import type { LabelSet } from '../exposition/labels.js';
import type { PeerRow, PeerType } from '../model.js';
import type { PeerLabeler } from './peer-labels.js';

interface Entry {
  readonly labels: LabelSet | null;
  /** The last tick that asked for this peer. */
  tick: number;
}

/**
 * Each peer's label set, built once and reused while the peer keeps appearing; peers the latest
 * tick did not ask for are forgotten.
 *
 * Why not a fresh Map per tick: that re-inserted every peer on every tick (10,000 inserts and a
 * `type + id` key string per row), the largest part of a tick's cost. Here a tick where the same
 * peers come back only looks them up and stamps them.
 */
export class PeerLabelCache {
  // One map per peer type, keyed by the id itself, so no key string is built per row.
  private readonly byType: Record<PeerType, Map<string, Entry>> = { cloud: new Map(), device: new Map(), unknown: new Map() };
  private tick = 0;
  private asked = 0;

  constructor(private readonly labeler: PeerLabeler) {}

  /** Starts a tick; `lookup` then answers for its rows. */
  beginTick(): void {
    this.tick++;
    this.asked = 0;
  }

  readonly lookup = (row: PeerRow): LabelSet | null => {
    const cache = this.byType[row.type];
    let entry = cache.get(row.id);
    if (entry === undefined) cache.set(row.id, (entry = { labels: this.labeler(row.id, row.type), tick: this.tick }));
    else entry.tick = this.tick;
    this.asked++;
    return entry.labels;
  };

  /** Forgets the peers this tick did not ask for. Rows are unique, so equal counts mean none to forget. */
  endTick(): void {
    if (this.byType.cloud.size + this.byType.device.size + this.byType.unknown.size === this.asked) return;
    for (const cache of Object.values(this.byType)) {
      for (const [id, entry] of cache) if (entry.tick !== this.tick) cache.delete(id);
    }
  }
}
