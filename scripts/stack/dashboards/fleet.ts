import { F } from '../../../src/catalogue/index.js';
import type { StackConfig } from '../config.js';
import type { DashboardSpec, Threshold, ValueMapping } from '../dashboard-kit.js';
import { DEFAULT_FLEET_CONFIG, FLEET_DASHBOARD_UID, type FleetStackConfig } from '../fleet-config.js';
import { series } from '../promql.js';

/** Every selector on this dashboard: the job and instance variables (instances are fleet exporters, or their shards). */
const SEL = ['job=~"$job"', 'instance=~"$instance"'];
const m = (name: string, ...extra: string[]) => series(name, ...SEL, ...extra);
const sum = (name: string, ...extra: string[]) => `sum(${m(name, ...extra)})`;
const DEVICE = 'instance, device_id';

const UP_MAPPING: ValueMapping = { '0': { text: 'Down', color: 'red' }, '1': { text: 'Up', color: 'green' } };
const NEUTRAL: Threshold[] = [{ color: 'blue', value: null }];

export function fleetDashboard(_c: StackConfig, f: FleetStackConfig = DEFAULT_FLEET_CONFIG): DashboardSpec {
  const devices = sum(F.fleetDevices.name);
  return {
    uid: FLEET_DASHBOARD_UID,
    title: 'Ditto sync / Fleet',
    description: 'Every device of the fleet, read from the Ditto Server (--source fleet): platforms and versions, silent devices, the worst cloud sync gaps, storage and transports.',
    variables: [
      { name: 'datasource', label: 'Data source' },
      { name: 'job', label: 'Job', query: `label_values(${F.fleetUp.name}, job)`, multi: true },
      { name: 'instance', label: 'Fleet exporter', query: `label_values(${series(F.fleetUp.name, 'job=~"$job"')}, instance)`, multi: true },
    ],
    panels: [
      { type: 'row', title: 'Fleet' },
      {
        type: 'stat',
        title: 'Devices',
        description: 'Devices in the last complete inventory of the selected fleet exporters (their shards add up), every device counted whatever --max-devices is.',
        unit: 'none',
        decimals: 0,
        thresholds: NEUTRAL,
        queries: [{ expr: devices }],
        w: 5,
        h: 4,
      },
      {
        type: 'stat',
        title: 'Inventory read',
        description: 'Whether each fleet exporter\'s latest read of the Ditto Server succeeded. Down: DittoFleetSourceDown follows if it lasts; the other panels show the last complete inventory meanwhile.',
        unit: 'none',
        mappings: UP_MAPPING,
        thresholds: [
          { color: 'red', value: null },
          { color: 'green', value: 1 },
        ],
        queries: [{ expr: m(F.fleetUp.name), legend: '{{instance}}' }],
        w: 5,
        h: 4,
      },
      {
        type: 'stat',
        title: 'Inventory age',
        description: `Seconds since each fleet exporter's last complete inventory. It restarts every --fleet-interval; red from ${f.sourceDown.inventoryAge} s, where DittoFleetSourceDown starts counting.`,
        unit: 's',
        thresholds: [
          { color: 'green', value: null },
          { color: 'red', value: f.sourceDown.inventoryAge },
        ],
        queries: [{ expr: m(F.fleetInventoryAge.name), legend: '{{instance}}' }],
        w: 5,
        h: 4,
      },
      {
        type: 'stat',
        title: 'Devices reporting sync health',
        description: 'Share of devices whose metadata carries a v1 sync-health beacon. Only these can show a cloud sync gap; the others need the beacon publisher (docs/fleet.md).',
        unit: 'percentunit',
        thresholds: NEUTRAL,
        queries: [{ expr: `${sum(F.fleetBeaconDevices.name, 'beacon="v1"')} / ${devices}` }],
        w: 4,
        h: 4,
      },
      {
        type: 'stat',
        title: 'Not seen for 24 h',
        description: 'Share of devices whose last __small_peer_info document is more than a day old. DittoFleetDevicesSilent fires when it rises sharply.',
        unit: 'percentunit',
        thresholds: [
          { color: 'green', value: null },
          { color: 'orange', value: f.silent.rise },
        ],
        queries: [{ expr: `${sum(F.fleetDevicesNotSeen.name, 'older_than="24h"')} / ${devices}` }],
        w: 5,
        h: 4,
      },
      {
        type: 'timeseries',
        title: 'Devices by platform and version',
        description: 'Devices by SDK platform and version. Rare values beyond the series bound are counted under "other", unusable ones under "unknown".',
        unit: 'none',
        stacked: true,
        min: 0,
        queries: [{ expr: `sum by (sdk_platform, sdk_version) (${m(F.fleetDevices.name)})`, legend: '{{sdk_platform}} {{sdk_version}}' }],
        w: 12,
        h: 8,
      },
      {
        type: 'timeseries',
        title: 'Devices not seen for 1 h and for 24 h',
        description: 'Devices whose last __small_peer_info document is older than 1 h and than 24 h. A device connected to the cloud publishes every 300 s by default; one not seen for an hour is offline or cannot reach the Ditto Server.',
        unit: 'none',
        min: 0,
        queries: [{ expr: `sum by (older_than) (${m(F.fleetDevicesNotSeen.name)})`, legend: 'not seen for {{older_than}}' }],
        w: 12,
        h: 8,
      },
      { type: 'row', title: 'Devices' },
      {
        type: 'table',
        title: 'Worst devices by oldest unacked commit',
        description: `The 20 devices whose beacon reports the oldest local commit the cloud has not received, with how many such commits and how old their latest report is. DittoFleetDeviceSyncGapGrowing fires above ${f.syncGap.unackedAge} s while the device keeps reporting.`,
        unit: 's',
        queries: [
          { expr: `topk(20, max by (${DEVICE}) (time() - ${m(F.fleetDeviceOldestUnacked.name)}))`, table: true },
          { expr: `max by (${DEVICE}) (${m(F.fleetDeviceCloudUnacked.name)}) and on (${DEVICE}) topk(20, max by (${DEVICE}) (time() - ${m(F.fleetDeviceOldestUnacked.name)}))`, table: true },
          { expr: `max by (${DEVICE}) (time() - ${m(F.fleetDeviceHealthReport.name)}) and on (${DEVICE}) topk(20, max by (${DEVICE}) (time() - ${m(F.fleetDeviceOldestUnacked.name)}))`, table: true },
        ],
        columns: { values: ['Oldest unacked commit', 'Unacked commits', 'Report age'], labels: { instance: 'Fleet exporter', device_id: 'Device' } },
        columnUnits: { 'Unacked commits': 'none' },
        w: 24,
        h: 8,
      },
      {
        type: 'table',
        title: 'Devices with the least free disk',
        description: `The 20 devices with the smallest share of their file system free, with the bytes Ditto uses there. DittoFleetDeviceDiskAlmostFull fires below ${Math.round(f.disk.availRatio * 100)} %.`,
        unit: 'percentunit',
        queries: [
          { expr: `bottomk(20, max by (${DEVICE}) (${m(F.fleetDeviceFsAvail.name)}) / max by (${DEVICE}) (${m(F.fleetDeviceFsSize.name)}))`, table: true },
          { expr: `max by (${DEVICE}) (${m(F.fleetDeviceFsAvail.name)}) and on (${DEVICE}) bottomk(20, max by (${DEVICE}) (${m(F.fleetDeviceFsAvail.name)}) / max by (${DEVICE}) (${m(F.fleetDeviceFsSize.name)}))`, table: true },
          { expr: `max by (${DEVICE}) (${m(F.fleetDeviceStoreSize.name)}) and on (${DEVICE}) bottomk(20, max by (${DEVICE}) (${m(F.fleetDeviceFsAvail.name)}) / max by (${DEVICE}) (${m(F.fleetDeviceFsSize.name)}))`, table: true },
        ],
        columns: { values: ['Free', 'Free bytes', 'Ditto uses'], labels: { instance: 'Fleet exporter', device_id: 'Device' } },
        columnUnits: { 'Free bytes': 'bytes', 'Ditto uses': 'bytes' },
        w: 24,
        h: 8,
      },
      {
        type: 'timeseries',
        title: 'Ditto storage on devices',
        description: 'Bytes Ditto uses on the devices with per-device series (store, attachments, auth, replication): the largest one, and the mean.',
        unit: 'bytes',
        min: 0,
        queries: [
          { expr: `max(${m(F.fleetDeviceStoreSize.name)})`, legend: 'largest' },
          { expr: `avg(${m(F.fleetDeviceStoreSize.name)})`, legend: 'mean' },
        ],
        w: 12,
        h: 8,
      },
      {
        type: 'timeseries',
        title: 'Connections by transport',
        description: 'Connections the devices with per-device series report, by transport (connections_by_transport: bluetooth, access_point, p2p_wifi, web_socket, multicast, other, as on the Device dashboard). Transports a device reports as null are left out.',
        unit: 'none',
        stacked: true,
        min: 0,
        queries: [{ expr: `sum by (transport) (${m(F.fleetDeviceConnections.name)})`, legend: '{{transport}}' }],
        w: 12,
        h: 8,
      },
      { type: 'row', title: 'Fleet exporter' },
      {
        type: 'timeseries',
        title: 'Inventory read time',
        description: 'How long each fleet exporter took to read every page of the inventory. Approaching --fleet-interval means reads overlap their schedule: raise the interval, or shard.',
        unit: 's',
        min: 0,
        queries: [{ expr: m(F.fleetInventoryReadDuration.name), legend: '{{instance}}' }],
        w: 12,
        h: 8,
      },
      {
        type: 'timeseries',
        title: 'Read failures and retries',
        description: 'Failed reads of the Ditto Server per second by read and reason, and requests retried after 408, 429 or 503. unauthorized means the API key was refused.',
        unit: 'ops',
        min: 0,
        queries: [
          { expr: `sum by (read, reason) (rate(${m(F.fleetReadFailures.name)}[$__rate_interval]))`, legend: '{{read}} {{reason}}' },
          { expr: `sum(rate(${m(F.fleetRequestRetries.name)}[$__rate_interval]))`, legend: 'retries' },
        ],
        w: 12,
        h: 8,
      },
    ],
  };
}
