/**
 * The sync-health beacon (schema v1, schemas/ditto-sync-health.v1.schema.json): a compact summary
 * of one device's sync health that the device publishes into its `__small_peer_info` metadata
 * under `ditto_sync_health`, and that the fleet source reads back from the Ditto Server. Both
 * directions are pure functions here; only src/sources/ talks to Ditto.
 */
import type { SyncView } from './families/index.js';

/** The metadata key the beacon lives under; every other key belongs to the application. */
export const BEACON_KEY = 'ditto_sync_health';
export const BEACON_VERSION = 1;

export interface HealthBeacon {
  readonly v: 1;
  readonly at: number;
  readonly exporter_version: string;
  readonly peers: number;
  readonly connected_peers: number;
  readonly cloud_servers: number;
  readonly cloud_servers_connected: number;
  readonly cloud_last_update_at: number | null;
  readonly local_commit_id: string | null;
  readonly cloud_synced_commit_id: string | null;
  readonly unacked_commits: number;
  readonly oldest_unacked_commit_at: number | null;
  readonly rows_unusable: number;
}

export const BEACON_FIELDS = [
  'v',
  'at',
  'exporter_version',
  'peers',
  'connected_peers',
  'cloud_servers',
  'cloud_servers_connected',
  'cloud_last_update_at',
  'local_commit_id',
  'cloud_synced_commit_id',
  'unacked_commits',
  'oldest_unacked_commit_at',
  'rows_unusable',
] as const satisfies readonly (keyof HealthBeacon)[];
export type BeaconField = (typeof BEACON_FIELDS)[number];

/**
 * The beacon for a sync view at `now`, or undefined while the view serves no snapshot: a beacon
 * never reports a frozen snapshot as current; its `at` stops moving instead.
 */
export function buildBeacon(sync: SyncView | undefined, now: number, exporterVersion: string): HealthBeacon | undefined {
  const snapshot = sync?.snapshot;
  if (!sync || !snapshot) return undefined;
  let peers = 0;
  for (const byStatus of Object.values(snapshot.counts)) for (const n of Object.values(byStatus)) peers += n;
  let leftOut = 0;
  for (const n of snapshot.rowsUnusable.values()) leftOut += n;
  return {
    v: 1,
    at: round(now),
    exporter_version: exporterVersion.slice(0, 64),
    peers,
    connected_peers: snapshot.connected,
    cloud_servers: snapshot.cloudServers,
    cloud_servers_connected: snapshot.cloudConnected,
    cloud_last_update_at: snapshot.cloudLastUpdate === undefined ? null : round(snapshot.cloudLastUpdate),
    local_commit_id: sync.localCommitId === undefined ? null : sync.localCommitId.toString(),
    cloud_synced_commit_id: snapshot.cloudSyncedCommitId === undefined ? null : snapshot.cloudSyncedCommitId.toString(),
    unacked_commits: sync.unackedCommits,
    oldest_unacked_commit_at: sync.oldestUnackedAt === undefined ? null : round(sync.oldestUnackedAt),
    rows_unusable: leftOut + snapshot.rowsWithUnusableField,
  };
}

/** Millisecond precision is plenty for a summary and keeps the JSON short. */
const round = (t: number) => Math.round(t * 1000) / 1000;

/** What a published beacon says, field by field: an unusable field is undefined and named in `unusable`. */
export interface ReadBeacon {
  readonly at: number | undefined;
  readonly exporterVersion: string | undefined;
  readonly peers: number | undefined;
  readonly connectedPeers: number | undefined;
  readonly cloudServers: number | undefined;
  readonly cloudServersConnected: number | undefined;
  /** null: the device says never; undefined: unusable. */
  readonly cloudLastUpdateAt: number | null | undefined;
  readonly localCommitId: bigint | null | undefined;
  readonly cloudSyncedCommitId: bigint | null | undefined;
  readonly unackedCommits: number | undefined;
  readonly oldestUnackedCommitAt: number | null | undefined;
  readonly rowsUnusable: number | undefined;
  readonly unusable: readonly BeaconField[];
}

export type BeaconReading = { readonly kind: 'absent' } | { readonly kind: 'unsupported'; readonly version: unknown } | { readonly kind: 'beacon'; readonly beacon: ReadBeacon };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads `metadata.ditto_sync_health` from a `__small_peer_info` document's metadata. Never throws:
 * no beacon is `absent`, another version is `unsupported`, and a v1 beacon keeps its usable fields.
 * Times must be positive and no more than a day ahead of `clock` (unix seconds).
 */
export function readBeacon(metadata: unknown, clock: number): BeaconReading {
  if (!isRecord(metadata) || !Object.prototype.hasOwnProperty.call(metadata, BEACON_KEY)) return { kind: 'absent' };
  const raw = metadata[BEACON_KEY];
  if (!isRecord(raw)) return { kind: 'unsupported', version: undefined };
  if (raw['v'] !== BEACON_VERSION) return { kind: 'unsupported', version: raw['v'] };
  const unusable: BeaconField[] = [];
  const count = (field: BeaconField): number | undefined => {
    const value = raw[field];
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
    unusable.push(field);
    return undefined;
  };
  const time = (field: BeaconField, nullable: boolean): number | null | undefined => {
    const value = raw[field];
    if (value === null && nullable) return null;
    if (typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= clock + 86_400) return value;
    unusable.push(field);
    return undefined;
  };
  const commit = (field: BeaconField): bigint | null | undefined => {
    const value = raw[field];
    if (value === null) return null;
    if (typeof value === 'string' && /^[0-9]{1,40}$/.test(value)) return BigInt(value);
    unusable.push(field);
    return undefined;
  };
  const version = raw['exporter_version'];
  const exporterVersion = typeof version === 'string' && version.length <= 64 ? version : (unusable.push('exporter_version'), undefined);
  const beacon: ReadBeacon = {
    at: time('at', false) ?? undefined,
    exporterVersion,
    peers: count('peers'),
    connectedPeers: count('connected_peers'),
    cloudServers: count('cloud_servers'),
    cloudServersConnected: count('cloud_servers_connected'),
    cloudLastUpdateAt: time('cloud_last_update_at', true),
    localCommitId: commit('local_commit_id'),
    cloudSyncedCommitId: commit('cloud_synced_commit_id'),
    unackedCommits: count('unacked_commits'),
    oldestUnackedCommitAt: time('oldest_unacked_commit_at', true),
    rowsUnusable: count('rows_unusable'),
    unusable,
  };
  return { kind: 'beacon', beacon };
}
