/**
 * The one mapping from the SDK's transport names (a presence-graph `connectionType`, a
 * `connections_by_transport` key in `__small_peer_info`) to the `transport` label values of both
 * `ditto_presence_connections` and `ditto_fleet_device_connections`.
 */
import type { Transport } from '../catalogue/device.js';

// A Map, not an object literal: text from Ditto must never reach Object.prototype.
const TRANSPORT_BY_SDK_NAME: ReadonlyMap<string, Transport> = new Map([
  ['Bluetooth', 'bluetooth'],
  ['AccessPoint', 'access_point'],
  ['P2PWiFi', 'p2p_wifi'],
  ['WebSocket', 'web_socket'],
  ['Multicast', 'multicast'],
]);

/** The label value for an SDK transport name: a known transport, else `other`. */
export const transportOf = (sdkName: string): Transport => TRANSPORT_BY_SDK_NAME.get(sdkName) ?? 'other';
