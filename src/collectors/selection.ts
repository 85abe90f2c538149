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

/**
 * Which rows keep per-peer series, at most `maxPeers` of them. A peer kept before stays kept while
 * its row exists, whatever its status or freshness does, so the set does not churn from tick to
 * tick and a connected-but-silent peer is never pushed out by busier ones. Slots freed by vanished
 * peers are filled in admission order. Returns the kept ids; rows are unique by id.
 */
export function selectStable(rows: readonly PeerRow[], previous: ReadonlySet<string>, maxPeers: number): ReadonlySet<string> {
  if (rows.length <= maxPeers) return new Set(rows.map((r) => r.id));
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
  return kept;
}
