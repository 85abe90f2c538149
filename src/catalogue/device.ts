/** Families about this device as a whole: the presence graph, storage, Ditto's engine, the health beacon. */
import { family } from './family.js';

const f = family('device');

/** Transports of ditto.presence connections, as label values; anything else is `other`. */
export const TRANSPORTS = ['bluetooth', 'access_point', 'p2p_wifi', 'web_socket', 'multicast', 'other'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** Components of ditto_store_size_bytes. */
export const STORE_COMPONENTS = ['store', 'attachments', 'replication', 'auth', 'total'] as const;
export type StoreComponent = (typeof STORE_COMPONENTS)[number];

/** What in a presence graph can be left out as unusable. */
export const PRESENCE_ITEMS = ['peer', 'connection'] as const;
export type PresenceItem = (typeof PRESENCE_ITEMS)[number];

export const DEVICE = {
  peerInfo: f(
    'ditto_sync_peer_info',
    'gauge',
    'Always 1, one per peer with per-peer series: its device name, OS and Ditto SDK version from the presence graph (empty while the peer has not been in the graph, as for cloud servers). Join on peer_id and peer_type.',
    ['peer_id', 'peer_type', 'device_name', 'os', 'sdk_version'],
  ),
  presenceRemotePeers: f('ditto_presence_remote_peers', 'gauge', 'Remote peers in the presence graph: every peer this device knows, directly or over several hops.'),
  presenceConnections: f(
    'ditto_presence_connections',
    'gauge',
    "This device's direct connections in the presence graph by transport, each counted once however many ends report it.",
    ['transport'],
  ),
  presenceItemsUnusable: f(
    'ditto_presence_items_unusable',
    'gauge',
    'Entries of the latest presence graph left out, by item: a peer that is not an object or has no usable peer key, a connection without a usable id, transport or ends.',
    ['item'],
  ),
  storeSize: f(
    'ditto_store_size_bytes',
    'gauge',
    "Disk space Ditto uses on this device by component (store, attachments, replication, auth, and Ditto's own total), as Ditto last measured it (system:system_info).",
    ['component'],
    'By',
  ),
  filesystemAvail: f('ditto_device_filesystem_avail_bytes', 'gauge', 'Free space on the filesystem holding the Ditto store, as Ditto last measured it.', [], 'By'),
  filesystemSize: f('ditto_device_filesystem_size_bytes', 'gauge', 'Size of the filesystem holding the Ditto store, as Ditto last measured it.', [], 'By'),
  storageTimestamp: f('ditto_device_storage_timestamp_seconds', 'gauge', 'When Ditto measured the storage figures served (the oldest of them), unix seconds.', [], 's'),
  storageUp: f(
    'ditto_device_storage_up',
    'gauge',
    "1 while this device's storage figures are served: the latest scrape-time read of system:system_info succeeded and ditto_sync_up is 1. While 0, the storage families are left out.",
  ),
  storageReadErrors: f('ditto_device_storage_read_errors_total', 'counter', 'Scrape-time reads of system:system_info that failed or outlasted --refresh-timeout.'),
  storageValuesUnusable: f(
    'ditto_device_storage_values_unusable',
    'gauge',
    'Storage figures missing from the latest read of system:system_info or not a usable number of bytes; each is left out.',
  ),
} as const;
