import { checkOption, RANGES, type OptionRange } from '../bounds.js';
import { presenceGraph, storageRows, type SimPresenceGraph, type SimSystemInfoRow } from './mesh-device.js';
import { seededRandom } from './seeded-random.js';

/**
 * A synthetic Ditto mesh: rows shaped exactly as `system:data_sync_info` returns them, for demos,
 * dashboards and tests. Nothing here is real sync data. Pure apart from its seeded random numbers:
 * `step(t)` advances the mesh to time `t` (unix seconds).
 */

export interface MeshOptions {
  readonly devices: number;
  readonly cloudServers: number;
  /** Local writes per second. */
  readonly writeRate: number;
  /** Chance per device per step that it connects or disconnects. */
  readonly churn: number;
  /** Seconds after start when the cloud outage begins. */
  readonly outageAfter: number;
  readonly outageDuration: number;
  /** Outage period in seconds; 0 = a single outage. */
  readonly outageEvery: number;
  readonly seed: number;
}

const MESH_RANGES: Readonly<Record<keyof MeshOptions, OptionRange>> = {
  devices: RANGES.simulateDevices,
  cloudServers: RANGES.simulateCloudServers,
  writeRate: RANGES.simulateWriteRate,
  churn: RANGES.simulateChurn,
  outageAfter: RANGES.simulateOutage,
  outageDuration: RANGES.simulateOutage,
  outageEvery: RANGES.simulateOutage,
  seed: RANGES.simulateSeed,
};

export const DEFAULT_MESH: MeshOptions = Object.freeze({
  devices: 5,
  cloudServers: 1,
  writeRate: 2,
  churn: 0.02,
  outageAfter: 120,
  outageDuration: 90,
  outageEvery: 600,
  seed: 1,
});

export interface SimRow {
  _id: string;
  is_ditto_server: boolean;
  documents: {
    sync_session_status: string;
    synced_up_to_local_commit_id: number;
    last_update_received_time: number | null;
  };
}

export interface MeshStep {
  readonly rows: SimRow[];
  /** The presence graph seen from the local peer: devices while present, never the cloud servers. */
  readonly presence: SimPresenceGraph;
  /** Local commits made during this step, with their time (unix seconds). */
  readonly commits: { id: bigint; at: number }[];
  readonly outage: boolean;
}

interface SimPeer {
  readonly id: string;
  readonly cloud: boolean;
  /** Position among the devices (names, OS, transport in the presence graph). */
  readonly index: number;
  /** Fixed status for the special peers; otherwise driven by churn. */
  readonly pinned?: string;
  connected: boolean;
  synced: bigint;
  lastUpdate: number | null;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A peer key of 40 characters starting with `prefix`. */
function key(prefix: string, random: () => number): string {
  let id = prefix;
  while (id.length < 40) id += ALPHABET[Math.floor(random() * ALPHABET.length)];
  return id;
}

export class MeshSimulator {
  private readonly random: () => number;
  private readonly peers: SimPeer[] = [];
  /** This device's own key and two peers known only over several hops (presence graph only). */
  private readonly localKey: string;
  private readonly relays: string[];
  private localCommit = 0n;
  private writes = 0;
  private startedAt: number | undefined;
  private lastStep: number | undefined;
  private writeCarry = 0;

  constructor(readonly options: MeshOptions = DEFAULT_MESH) {
    // The ranges of the --simulate-* flags: a mesh that memory holds.
    for (const name of Object.keys(MESH_RANGES) as Array<keyof MeshOptions>) checkOption(options[name], `simulate ${name}`, MESH_RANGES[name]);
    this.random = seededRandom(options.seed);
    for (let i = 0; i < options.cloudServers; i++) this.peers.push(this.peer(true, i));
    for (let i = 0; i < options.devices; i++) {
      // Two special devices so every status shows up: one Disabled, one in a state Ditto may add later.
      const pinned = options.devices >= 4 && i === options.devices - 1 ? 'Disabled' : options.devices >= 4 && i === options.devices - 2 ? 'Connecting' : undefined;
      this.peers.push(this.peer(false, i, pinned));
    }
    // A second generator, so the presence graph leaves the rows of a seed as they always were.
    const keys = seededRandom(options.seed ^ 0x5eed);
    this.localKey = key('pkLocal', keys);
    this.relays = [key('pkRelay', keys), key('pkRelay', keys)];
  }

  /** Whether the scripted cloud outage is on at `t`. */
  outageAt(t: number): boolean {
    const { outageAfter, outageDuration, outageEvery } = this.options;
    const elapsed = t - (this.startedAt ?? t);
    if (outageDuration <= 0 || elapsed < outageAfter) return false;
    const since = elapsed - outageAfter;
    return outageEvery > 0 ? since % outageEvery < outageDuration : since < outageDuration;
  }

  step(t: number): MeshStep {
    this.startedAt ??= t;
    const dt = this.lastStep === undefined ? 0 : Math.max(0, t - this.lastStep);
    this.lastStep = t;
    const outage = this.outageAt(t);

    const commits: { id: bigint; at: number }[] = [];
    this.writeCarry += this.options.writeRate * dt;
    while (this.writeCarry >= 1) {
      this.writeCarry -= 1;
      // Commit ids rise but skip: a difference of ids is not a count of commits.
      this.localCommit += 1n + BigInt(Math.floor(this.random() * 3));
      this.writes++;
      commits.push({ id: this.localCommit, at: t - this.random() * dt });
    }

    for (const peer of this.peers) {
      if (peer.pinned) continue;
      if (peer.cloud) peer.connected = !outage;
      else if (this.random() < this.options.churn) peer.connected = !peer.connected;
      if (!peer.connected) continue;
      // Connected peers usually catch up within a step or two and send data back now and then.
      if (this.random() < (peer.cloud ? 0.8 : 0.6)) peer.synced = this.localCommit;
      if (this.random() < 0.7) peer.lastUpdate = t;
    }

    return { rows: this.peers.map((p) => this.row(p)), presence: this.presence(), commits, outage };
  }

  /** This device's storage as system:system_info rows at `t`: the store grows with the writes made so far. */
  storage(t: number): SimSystemInfoRow[] {
    return storageRows(t, this.writes);
  }

  /** Connected devices are in the graph with a direct connection; the two pinned ones are in it without one. */
  private presence(): SimPresenceGraph {
    const devices = this.peers.filter((p) => !p.cloud).map((p) => ({ id: p.id, index: p.index, present: p.connected || p.pinned !== undefined, connected: p.connected && p.pinned === undefined }));
    return presenceGraph(this.localKey, devices, this.relays);
  }

  private peer(cloud: boolean, index: number, pinned?: string): SimPeer {
    return { id: key(cloud ? 'pkCloud' : 'pk', this.random), cloud, index, pinned, connected: pinned === undefined, synced: 0n, lastUpdate: null };
  }

  private row(p: SimPeer): SimRow {
    return {
      _id: p.id,
      is_ditto_server: p.cloud,
      documents: {
        sync_session_status: p.pinned ?? (p.connected ? 'Connected' : 'Not Connected'),
        synced_up_to_local_commit_id: Number(p.synced),
        // Ditto reports milliseconds; the validator accepts both.
        last_update_received_time: p.lastUpdate === null ? null : Math.round(p.lastUpdate * 1000),
      },
    };
  }
}
