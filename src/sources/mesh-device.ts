/**
 * The simulated mesh's presence graph and storage figures, shaped exactly as the SDK returns them
 * (`ditto.presence.graph`, `system:system_info` rows). Simulated data, never real. Pure: the same
 * mesh state gives the same output.
 */

export interface SimConnection {
  id: string;
  connectionType: string;
  peer1: string;
  peer2: string;
}

export interface SimPresencePeer {
  peerKey: string;
  deviceName: string;
  os: string;
  dittoSdkVersion: string;
  isConnectedToDittoServer: boolean;
  connections: SimConnection[];
}

export interface SimPresenceGraph {
  localPeer: SimPresencePeer;
  remotePeers: SimPresencePeer[];
}

/** What the presence graph needs to know about a simulated device. */
export interface SimDevice {
  readonly id: string;
  /** Position among the devices: picks its name, OS, SDK version and transport. */
  readonly index: number;
  /** In the graph at all (reachable directly or over hops). */
  readonly present: boolean;
  /** Connected to this device directly. */
  readonly connected: boolean;
}

// User text, as device names are: an apostrophe, a non-ASCII letter, quotes and a backslash.
const NAMES = ["Alice's iPad", 'Front desk', 'Zoë\'s phone', 'Till "2" \\ back', 'Warehouse scanner', 'Kitchen display', 'Van 7 tablet'];
const OSES = ['iOS', 'Android', 'Linux', 'Windows', 'macOS'];
const SDK_VERSIONS = ['5.1.0', '4.14.4', '5.0.2'];
/** Every transport the SDK names, one per device in turn. */
export const SIM_TRANSPORTS = ['Bluetooth', 'AccessPoint', 'P2PWiFi', 'WebSocket', 'Multicast'] as const;

export const LOCAL_DEVICE_NAME = 'simulated-exporter';

const pick = <T>(list: readonly T[], i: number): T => list[i % list.length]!;
const nameOf = (i: number) => (i < NAMES.length ? NAMES[i]! : `${pick(NAMES, i)} ${Math.floor(i / NAMES.length) + 1}`);

/** Ditto's connection ids are deterministic per pair and transport ("1<->2:Bluetooth"). */
function connection(a: string, b: string, connectionType: string): SimConnection {
  const [peer1, peer2] = a < b ? [a, b] : [b, a];
  return { id: `${peer1}<->${peer2}:${connectionType}`, connectionType, peer1, peer2 };
}

function peer(peerKey: string, deviceName: string, os: string, sdk: string): SimPresencePeer {
  return { peerKey, deviceName, os, dittoSdkVersion: sdk, isConnectedToDittoServer: false, connections: [] };
}

/**
 * The graph seen from `localKey`: each connected device with one direct connection (transports in
 * turn), reported by both ends as the SDK does; present but unconnected devices with none; and
 * `relays`, peers known only over several hops (through the first connected device), whose
 * connection to it involves neither end of this device. Cloud servers are never in the graph.
 */
export function presenceGraph(localKey: string, devices: readonly SimDevice[], relays: readonly string[]): SimPresenceGraph {
  const local = peer(localKey, LOCAL_DEVICE_NAME, 'Linux', '5.1.0');
  const remote: SimPresencePeer[] = [];
  let hub: SimPresencePeer | undefined;
  for (const d of devices) {
    if (!d.present) continue;
    const p = peer(d.id, nameOf(d.index), pick(OSES, d.index), pick(SDK_VERSIONS, d.index));
    if (d.connected) {
      const c = connection(localKey, d.id, pick(SIM_TRANSPORTS, d.index));
      local.connections.push(c);
      p.connections.push({ ...c });
      hub ??= p;
    }
    remote.push(p);
  }
  if (hub) {
    relays.forEach((key, i) => {
      const r = peer(key, `Relay ${i + 1}`, pick(OSES, i + 1), pick(SDK_VERSIONS, i));
      const c = connection(hub!.peerKey, key, 'Bluetooth');
      hub!.connections.push(c);
      r.connections.push({ ...c });
      remote.push(r);
    });
  }
  return { localPeer: local, remotePeers: remote };
}

export interface SimSystemInfoRow {
  key: string;
  namespace: 'core';
  timestamp: number;
  value: number;
}

const GIB = 1024 ** 3;
/** Bytes the simulated store grows by per local write. */
export const SIM_BYTES_PER_WRITE = 300;
/** Samples of each key kept in the simulated history, newest first (Ditto keeps a short history too). */
const HISTORY = 3;

/**
 * This device's storage as system:system_info rows at `t` (unix seconds): a 64 GiB filesystem with
 * 40 GiB free at the start, and a store that grows with the local writes, sampled every second
 * with a short history per key as Ditto keeps it (older samples first in the list, so a reader
 * must pick by timestamp).
 */
export function storageRows(t: number, writes: number): SimSystemInfoRow[] {
  const rows: SimSystemInfoRow[] = [];
  for (let age = HISTORY - 1; age >= 0; age--) {
    const at = Math.floor(t) - age;
    // Older samples saw fewer writes (about two a second by default).
    const store = 2_000_000 + SIM_BYTES_PER_WRITE * Math.max(0, writes - 2 * age);
    const attachments = 5_000_000;
    const replication = 64_000 + Math.floor(store / 50);
    const auth = 4_215;
    const total = store + attachments + replication + auth + 1_000_000;
    const values: Record<string, number> = {
      fs_usage_store: store,
      fs_usage_attachment: attachments,
      fs_usage_replication: replication,
      fs_usage_auth: auth,
      fs_usage_total: total,
      fs_device_total: 64 * GIB,
      fs_device_available: 40 * GIB - total,
    };
    for (const [key, value] of Object.entries(values)) rows.push({ key, namespace: 'core', timestamp: at, value });
  }
  return rows;
}
