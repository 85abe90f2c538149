/** Families read from a Ditto Server's HTTP API about every device of the fleet (source fleet). */
import { family } from './family.js';

const f = family('fleet');

export const FLEET = {
  fleetUp: f('ditto_fleet_up', 'gauge', '1 while the latest inventory read from the Ditto Server succeeded, else 0 (key refused, server failing, answers unusable). Meanwhile the other fleet families keep showing the last complete inventory.'),
  fleetInventoryAge: f('ditto_fleet_inventory_age_seconds', 'gauge', 'Seconds since the last complete inventory was read, computed at scrape time; absent before the first. A half-read inventory is never served.', [], 's'),
  fleetInventoryReadDuration: f('ditto_fleet_inventory_read_duration_seconds', 'gauge', 'How long reading the last complete inventory took, every page included.', [], 's'),
  fleetInventoryReads: f('ditto_fleet_inventory_reads_total', 'counter', 'Complete inventory reads (every page of __small_peer_info read and validated).'),
  fleetReadFailures: f('ditto_fleet_read_failures_total', 'counter', 'Reads that failed, by read (inventory, live) and reason (unauthorized, timeout, network, http_4xx, http_5xx, error_envelope, malformed); retries that succeeded are not failures.', ['read', 'reason']),
  fleetRequestRetries: f('ditto_fleet_request_retries_total', 'counter', 'HTTP requests to the Ditto Server repeated after a 408, 429 or 503 answer.'),
  fleetDevices: f('ditto_fleet_devices', 'gauge', 'Devices in the last complete inventory (this shard), by SDK platform and version, every device counted past --max-devices; rare values beyond the series bound are counted under "other", unusable ones under "unknown".', ['sdk_platform', 'sdk_version']),
  fleetDevicesNotSeen: f('ditto_fleet_devices_not_seen', 'gauge', 'Devices whose last_updated_at is older than 1h or 24h at scrape time (older_than), every device counted; devices without a usable last_updated_at are in neither.', ['older_than']),
  fleetDevicesOmitted: f('ditto_fleet_devices_omitted', 'gauge', 'Devices counted in the aggregates but without per-device series: the --max-devices cap, --fleet-device-id-label none, or a label that would repeat another device\'s.'),
  fleetBeaconDevices: f('ditto_fleet_beacon_devices', 'gauge', 'Devices by the sync-health beacon in their metadata (metadata.ditto_sync_health): v1, absent, or unsupported (another version or not an object).', ['beacon']),
  fleetDocumentsUnusable: f('ditto_fleet_documents_unusable', 'gauge', 'Documents of the last complete inventory left out entirely, by reason: not an object, no usable _id, or an _id already seen. Documents without a usable _id are counted by shard 0 only.', ['reason']),
  fleetFieldsUnusable: f('ditto_fleet_fields_unusable', 'gauge', 'Devices of the last complete inventory in which a field could not be used and counts as unknown, by field; the rest of each document is used.', ['field']),
  fleetDeviceInfo: f('ditto_fleet_device_info', 'gauge', 'Always 1; labels describe the device (device_name is left out under --fleet-device-id-label hash; unusable values read "unknown").', ['device_id', 'device_name', 'sdk_language', 'sdk_platform', 'sdk_version']),
  fleetDeviceLastSeen: f('ditto_fleet_device_last_seen_timestamp_seconds', 'gauge', 'When the device last published its __small_peer_info document (last_updated_at), unix seconds.', ['device_id'], 's'),
  fleetDeviceStoreSize: f('ditto_fleet_device_store_size_bytes', 'gauge', 'Bytes Ditto uses on the device: store, attachments, auth and replication (device_disk_usage.ditto_total).', ['device_id']),
  fleetDeviceFsAvail: f('ditto_fleet_device_filesystem_avail_bytes', 'gauge', 'Bytes free on the device\'s file system (device_disk_usage.device_available).', ['device_id']),
  fleetDeviceFsSize: f('ditto_fleet_device_filesystem_size_bytes', 'gauge', 'Size of the device\'s file system in bytes (device_disk_usage.device_total).', ['device_id']),
  fleetDeviceConnections: f('ditto_fleet_device_connections', 'gauge', 'Connections of the device by transport (connections_by_transport), with the transport values of ditto_presence_connections: bluetooth, access_point, p2p_wifi, web_socket, multicast or other; transports the device reports as null are left out.', ['device_id', 'transport']),
  fleetDeviceHealthReport: f('ditto_fleet_device_health_report_timestamp_seconds', 'gauge', 'When the device made its sync-health beacon (beacon at), unix seconds; absent without a v1 beacon.', ['device_id'], 's'),
  fleetDeviceCloudUnacked: f('ditto_fleet_device_cloud_unacked_commits', 'gauge', 'Tracked local commits no cloud server had received when the device made its beacon (beacon unacked_commits); left out when the beacon tracks no commits (local_commit_id null).', ['device_id']),
  fleetDeviceOldestUnacked: f('ditto_fleet_device_oldest_unacked_commit_timestamp_seconds', 'gauge', 'When the device\'s oldest commit not yet received by a cloud server was made (beacon oldest_unacked_commit_at), unix seconds; absent when it had none.', ['device_id'], 's'),
  fleetDeviceCloudLastUpdate: f('ditto_fleet_device_cloud_last_update_timestamp_seconds', 'gauge', 'When data last arrived on the device from its freshest cloud server session (beacon cloud_last_update_at), unix seconds; absent when never.', ['device_id'], 's'),
  fleetDeviceLiveSessions: f('ditto_fleet_device_live_sessions', 'gauge', 'Sessions in the device\'s own system:data_sync_info by peer type and status, read live over remote execute (--fleet-live) in the last round; absent for devices that did not answer.', ['device_id', 'peer_type', 'status']),
  fleetDeviceLiveCloudLastUpdate: f('ditto_fleet_device_live_cloud_last_update_timestamp_seconds', 'gauge', 'When data last arrived on the device from its freshest cloud server session, read live (--fleet-live), unix seconds.', ['device_id'], 's'),
  fleetLiveDevices: f('ditto_fleet_live_devices', 'gauge', 'Devices asked in the last live round (--fleet-live) by outcome: answered, error (the device answered with an error) or not_answered (not connected); unattributed counts answers that named no device asked.', ['outcome']),
  fleetLiveAge: f('ditto_fleet_live_age_seconds', 'gauge', 'Seconds since the last live round (--fleet-live) completed, at scrape time; absent before the first.', [], 's'),
  fleetLiveRowsUnusable: f('ditto_fleet_live_rows_unusable', 'gauge', 'Live system:data_sync_info rows of the last round left out entirely, by reason (as ditto_sync_rows_unusable).', ['reason']),
  fleetLiveFieldsUnusable: f('ditto_fleet_live_fields_unusable', 'gauge', 'Live system:data_sync_info rows of the last round with an unusable field, by field (as ditto_sync_fields_unusable).', ['field']),
} as const;
