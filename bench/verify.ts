import { F } from '../src/catalogue/index.js';

/** The five families whose size grows with the peer count. */
export const PER_PEER_FAMILIES = [F.peerStatus, F.peerCommitLag, F.peerSyncedCommitId, F.peerLastUpdate, F.peerSecondsSince].map((f) => f.name);
const PREFIXES = PER_PEER_FAMILIES.map((name) => `${name}{`);
const KEPT_LABELS = new Set(['peer_id', 'peer_type', 'status']);

/** The per-peer sample lines of a body, in body order. */
export function perPeerLines(body: string): string[] {
  return body.split('\n').filter((line) => PREFIXES.some((p) => line.startsWith(p)));
}

/**
 * A per-peer sample as name + its peer labels (sorted) → value, so bodies from different writers
 * (label order, extra resource labels, number spelling) can be compared by meaning.
 */
export function perPeerSamples(body: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of perPeerLines(body)) {
    const open = line.indexOf('{');
    const close = line.lastIndexOf('}');
    const name = line.slice(0, open);
    const labels = [...line.slice(open + 1, close).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .filter((m) => KEPT_LABELS.has(m[1]!))
      .map((m) => `${m[1]}=${m[2]}`)
      .sort()
      .join(',');
    samples.set(`${name}{${labels}}`, Number(line.slice(close + 1).trim().split(' ')[0]));
  }
  return samples;
}

export interface Comparison {
  readonly ok: boolean;
  readonly samples: number;
  readonly problem?: string;
}

/** Our per-peer lines must be exactly the floor's: same text, same order. */
export function compareLines(ours: string, floor: string): Comparison {
  const a = perPeerLines(ours);
  const b = perPeerLines(floor);
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return { ok: false, samples: a.length, problem: `line ${i}: ours ${JSON.stringify(a[i])} vs floor ${JSON.stringify(b[i])} (${a.length} vs ${b.length} lines)` };
  }
  return { ok: a.length > 0, samples: a.length, ...(a.length === 0 ? { problem: 'no per-peer samples' } : {}) };
}

/** Same per-peer samples and values as the floor, whatever the text looks like. */
export function compareSamples(ours: string, floor: string): Comparison {
  const a = perPeerSamples(ours);
  const b = perPeerSamples(floor);
  for (const [key, value] of b) {
    if (!a.has(key)) return { ok: false, samples: a.size, problem: `missing ${key} (${a.size} vs ${b.size} samples)` };
    if (a.get(key) !== value) return { ok: false, samples: a.size, problem: `${key}: ${a.get(key)} vs floor ${value}` };
  }
  if (a.size !== b.size) return { ok: false, samples: a.size, problem: `${a.size} samples vs floor ${b.size}` };
  return { ok: a.size > 0, samples: a.size };
}
