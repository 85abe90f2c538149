import type { PeerRow } from '../model.js';

/**
 * Admission order for a free per-peer slot: cloud servers, then rows whose type is unknown (they may
 * be cloud servers), then connected devices, then the rest; ties by id, so every exporter that sees
 * the same rows picks the same peers.
 */
function priority(row: PeerRow): number {
  if (row.type === 'cloud') return 0;
  if (row.type === 'unknown') return 1;
  return row.status === 'connected' ? 2 : 3;
}

const byAdmission = (a: PeerRow, b: PeerRow): number => priority(a) - priority(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The ids chosen for per-peer series. */
export interface KeptIds extends Iterable<string> {
  has(id: string): boolean;
  readonly size: number;
  /** Every row of its tick was kept (under the cap): nothing needs checking against it. */
  readonly all: boolean;
}

/**
 * Every row of a tick, kept: under the cap (the usual case) no set of ids is built per tick, only
 * if a later tick goes over the cap and asks which ids were kept before.
 */
class AllRows implements KeptIds {
  readonly all = true;
  private ids: Set<string> | undefined;

  constructor(private readonly rows: readonly PeerRow[]) {}

  get size(): number {
    return this.rows.length;
  }

  has(id: string): boolean {
    this.ids ??= new Set(this.rows.map((r) => r.id));
    return this.ids.has(id);
  }

  *[Symbol.iterator](): Iterator<string> {
    for (const row of this.rows) yield row.id;
  }
}

class SomeRows implements KeptIds {
  readonly all = false;

  constructor(private readonly ids: ReadonlySet<string>) {}

  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  [Symbol.iterator](): Iterator<string> {
    return this.ids[Symbol.iterator]();
  }
}

export const NO_IDS: KeptIds = new SomeRows(new Set());

/**
 * Which rows keep per-peer series, at most `maxPeers` of them. A peer kept before stays kept while
 * its row exists, whatever its status or freshness does, so the set does not churn from tick to
 * tick and a connected-but-silent peer is never pushed out by busier ones. Slots freed by vanished
 * peers are filled in admission order. Returns the kept ids; rows are unique by id.
 */
export function selectStable(rows: readonly PeerRow[], previous: Pick<KeptIds, 'has'>, maxPeers: number): KeptIds {
  if (rows.length <= maxPeers) return new AllRows(rows);
  const kept = new Set<string>();
  const candidates: PeerRow[] = [];
  for (const row of rows) {
    if (previous.has(row.id) && kept.size < maxPeers) kept.add(row.id);
    else candidates.push(row);
  }
  if (kept.size < maxPeers && candidates.length > 0) {
    candidates.sort(byAdmission);
    for (const row of candidates) {
      if (kept.size >= maxPeers) break;
      kept.add(row.id);
    }
  }
  return new SomeRows(kept);
}
