import { seededRandom } from '../src/sources/seeded-random.js';

/**
 * Realistic `system:data_sync_info` rows for the benchmark, shaped exactly as the SDK returns them
 * (see the Ditto docs: `_id`, `is_ditto_server`, `documents.{sync_session_status,
 * synced_up_to_local_commit_id, last_update_received_time}`). Seeded, so every run sees the same mesh.
 */

export interface SdkRow {
  _id: string;
  is_ditto_server: boolean;
  documents: {
    sync_session_status: string;
    synced_up_to_local_commit_id: number | null;
    last_update_received_time: number | null;
  };
}

export type Status = 'Connected' | 'Not Connected' | 'Disabled';

/** One peer of the mesh; each tick renders it as a fresh SDK row. */
export interface PeerSpec {
  readonly id: string;
  readonly cloud: boolean;
  readonly status: Status;
  /** Connects and disconnects every few ticks. */
  readonly flaps: boolean;
  /** Local commit id minus what the peer has; null when the peer never synced. */
  readonly lag: number | null;
  /** Seconds before the tick's read time; null when nothing was ever received. */
  readonly age: number | null;
}

export interface Mesh {
  readonly peers: PeerSpec[];
  /** Unix seconds of the first tick. */
  readonly startAt: number;
  /** Local commit id at the first tick. */
  readonly startCommit: number;
}

/** A tick as a source hands it over: fresh row objects, as the SDK decodes them each callback. */
export interface FixtureTick {
  readonly rows: SdkRow[];
  readonly readAt: number;
  readonly localCommitId: number;
  /** Local commits the app made since the previous tick (the app writes a few times a second). */
  readonly commits: { id: number; at: number }[];
}

export const PEER_ID_LENGTH = 40;
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const START_AT = 1_750_000_000;
const START_COMMIT = 48_213_907;
/** Ditto's documented refresh while syncing. */
export const TICK_INTERVAL_SECONDS = 0.5;

export { seededRandom };

/** A few cloud servers (Big Peer nodes), more for bigger meshes, the rest devices. */
export function cloudServerCount(peers: number): number {
  return Math.min(8, Math.max(1, Math.ceil(peers / 200)));
}

export function createMesh(peerCount: number, seed = 42): Mesh {
  const random = seededRandom(seed + peerCount);
  const ids = new Set<string>();
  const newId = () => {
    for (;;) {
      let id = '';
      for (let i = 0; i < PEER_ID_LENGTH; i++) id += ID_ALPHABET[Math.floor(random() * ID_ALPHABET.length)];
      if (!ids.has(id)) {
        ids.add(id);
        return id;
      }
    }
  };
  const clouds = cloudServerCount(peerCount);
  const peers: PeerSpec[] = [];
  for (let i = 0; i < peerCount; i++) {
    const cloud = i < clouds;
    const r = random();
    const status: Status = cloud
      ? r < 0.9 ? 'Connected' : 'Not Connected'
      : r < 0.55 ? 'Connected' : r < 0.9 ? 'Not Connected' : 'Disabled';
    const neverSynced = !cloud && random() < 0.01;
    let lag: number | null;
    let age: number | null;
    if (neverSynced) {
      lag = null;
      age = null;
    } else if (status === 'Connected') {
      lag = random() < 0.6 ? 0 : Math.floor(random() * 40);
      age = Math.floor(random() * 5);
    } else if (status === 'Not Connected') {
      lag = Math.floor(random() * 500_000);
      age = 60 + Math.floor(random() * 7 * 86_400);
    } else {
      lag = Math.floor(random() * 2_000_000);
      age = 86_400 + Math.floor(random() * 30 * 86_400);
    }
    peers.push({ id: newId(), cloud, status, flaps: !cloud && random() < 0.01, lag, age });
  }
  // Interleave the cloud rows as Ditto would list them (no particular order).
  for (let i = peers.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [peers[i], peers[j]] = [peers[j]!, peers[i]!];
  }
  return { peers, startAt: START_AT, startCommit: START_COMMIT };
}

const FLAP_TICKS = 4;

/** A flapping peer's status, flipped every FLAP_TICKS ticks. */
export function statusAt(p: PeerSpec, k: number): Status {
  if (!p.flaps || Math.floor(k / FLAP_TICKS) % 2 === 0) return p.status;
  return p.status === 'Connected' ? 'Not Connected' : 'Connected';
}

/**
 * Tick `k` of the mesh (pure): time moves on by 500 ms, the local commit id grows, connected
 * peers keep up, flapping peers change status. Every row, document and id string is a new object,
 * as the native module hands them over, so nothing is cached by identity.
 */
export function renderTick(mesh: Mesh, k: number): FixtureTick {
  const readAt = mesh.startAt + k * TICK_INTERVAL_SECONDS;
  const localCommitId = mesh.startCommit + k * 3;
  const rows: SdkRow[] = new Array(mesh.peers.length);
  for (let i = 0; i < mesh.peers.length; i++) {
    const p = mesh.peers[i]!;
    const status = statusAt(p, k);
    const synced = p.lag === null ? null : Math.max(0, localCommitId - (status === 'Connected' ? p.lag : p.lag + k * 3));
    const lastUpdate = p.age === null ? null : Math.floor(readAt) - (status === 'Connected' ? p.age % 5 : p.age + k);
    rows[i] = {
      _id: freshString(p.id),
      is_ditto_server: p.cloud,
      documents: {
        sync_session_status: freshString(status),
        synced_up_to_local_commit_id: synced,
        last_update_received_time: lastUpdate,
      },
    };
  }
  const commits = [2, 1, 0].map((back) => ({ id: localCommitId - back, at: readAt - back * 0.1 }));
  return { rows, readAt, localCommitId, commits };
}

/** `count` consecutive ticks, built ahead so measuring them costs nothing but the exporter's work. */
export function renderTicks(mesh: Mesh, count: number): FixtureTick[] {
  return Array.from({ length: count }, (_, k) => renderTick(mesh, k));
}

/** A new flat string with the same characters (a decoder would allocate one per row). */
function freshString(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}
