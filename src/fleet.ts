/**
 * ditto-sync-exporter/fleet: the fleet source (every device's __small_peer_info from a Ditto
 * Server's HTTP API, docs/fleet.md). Its own subpath: an application embedding the exporter next
 * to its Ditto instance never loads it.
 */
export { FleetSource, FLEET_DEFAULTS, type FleetSourceOptions } from './sources/fleet/fleet-source.js';
