import { F } from '../../../src/catalogue/index.js';
import { GRAFANA, type StackConfig } from '../config.js';
import type { DashboardSpec, Threshold, ValueMapping } from '../dashboard-kit.js';
import { series } from '../promql.js';

/** Every selector on this dashboard: the job and instance variables. */
const SEL = ['job=~"$job"', 'instance=~"$instance"'];
const m = (name: string, ...extra: string[]) => series(name, ...SEL, ...extra);

const UP_MAPPING: ValueMapping = { '0': { text: 'Failing', color: 'red' }, '1': { text: 'Read', color: 'green' } };

export function deviceDashboard(c: StackConfig): DashboardSpec {
  const disk = c.deviceDisk;
  const freeRatio = `${m(F.filesystemAvail.name)} / ${m(F.filesystemSize.name)}`;
  const freeSteps: Threshold[] = [
    { color: 'red', value: null },
    { color: 'orange', value: disk.freePercent / 100 },
    { color: 'green', value: disk.predictBelowPercent / 100 },
  ];
  return {
    uid: GRAFANA.deviceUid,
    title: 'Ditto sync / Device',
    description: 'This device as a whole: the peers it knows and how it is connected to them (presence graph), and the disk space Ditto uses and has left.',
    variables: [
      { name: 'datasource', label: 'Data source' },
      { name: 'job', label: 'Job', query: `label_values(${F.up.name}, job)`, multi: true },
      { name: 'instance', label: 'Instance', query: `label_values(${series(F.up.name, 'job=~"$job"')}, instance)`, multi: true },
    ],
    panels: [
      { type: 'row', title: 'Presence' },
      {
        type: 'stat',
        title: 'Remote peers known',
        description: 'Peers in the presence graph: every peer this device knows, directly or over several hops. Cloud servers are not in the graph.',
        unit: 'none',
        decimals: 0,
        thresholds: [{ color: 'blue', value: null }],
        queries: [{ expr: m(F.presenceRemotePeers.name), legend: '{{instance}}' }],
        w: 6,
        h: 4,
      },
      {
        type: 'stat',
        title: 'Direct connections',
        description: 'Connections between this device and another peer, over any transport, each counted once. 0 with peers known means every peer is reached through another one.',
        unit: 'none',
        decimals: 0,
        thresholds: [{ color: 'blue', value: null }],
        queries: [{ expr: `sum by (job, instance) (${m(F.presenceConnections.name)})`, legend: '{{instance}}' }],
        w: 6,
        h: 4,
      },
      {
        type: 'stat',
        title: 'Unusable presence entries',
        description: 'Peers without a usable peer key and connections without an id, transport or ends in the latest presence graph; they are left out of the counts. Anything above 0 means the SDK reports something this exporter does not expect (peers on old SDKs have no key).',
        unit: 'none',
        decimals: 0,
        thresholds: [
          { color: 'green', value: null },
          { color: 'orange', value: 1 },
        ],
        queries: [{ expr: `sum by (job, instance) (${m(F.presenceItemsUnusable.name)})`, legend: '{{instance}}' }],
        w: 6,
        h: 4,
      },
      {
        type: 'stat',
        title: 'Storage read',
        description: "Whether the last scrape read this device's storage figures (system:system_info); also Failing while the sync source is down. While Failing, the storage panels below have no data rather than old figures, and DittoDeviceDiskFillingUp is silent; DittoDeviceStorageUnreadable fires when reads keep failing.",
        unit: 'none',
        thresholds: [
          { color: 'red', value: null },
          { color: 'green', value: 1 },
        ],
        mappings: UP_MAPPING,
        queries: [{ expr: m(F.storageUp.name), legend: '{{instance}}' }],
        w: 6,
        h: 4,
      },
      {
        type: 'timeseries',
        title: 'Connections by transport',
        description: 'Direct connections of this device by transport (Bluetooth, access point Wi-Fi, peer-to-peer Wi-Fi, WebSocket, multicast, other), stacked. A connection both ends report counts once.',
        unit: 'none',
        min: 0,
        stacked: true,
        queries: [{ expr: `sum by (job, instance, transport) (${m(F.presenceConnections.name)})`, legend: '{{transport}} {{instance}}' }],
        w: 12,
        h: 8,
      },
      {
        type: 'timeseries',
        title: 'Remote peers over time',
        description: 'Peers in the presence graph over time, against the direct connections: peers come and go as devices move in and out of range.',
        unit: 'none',
        min: 0,
        queries: [
          { expr: m(F.presenceRemotePeers.name), legend: 'peers known {{instance}}' },
          { expr: `sum by (job, instance) (${m(F.presenceConnections.name)})`, legend: 'direct connections {{instance}}' },
        ],
        w: 12,
        h: 8,
      },
      { type: 'row', title: 'Storage' },
      {
        type: 'stat',
        title: 'Filesystem free',
        description: `Free share of the filesystem holding the Ditto store. Red below ${disk.freePercent} %, where DittoDeviceDiskFillingUp fires whatever the rate; orange below ${disk.predictBelowPercent} %, where it fires if the disk would fill within ${disk.horizon / 3600} hours.`,
        unit: 'percentunit',
        decimals: 1,
        thresholds: freeSteps,
        queries: [{ expr: freeRatio, legend: '{{instance}}' }],
        w: 6,
        h: 4,
      },
      {
        type: 'stat',
        title: 'Ditto total on disk',
        description: "Ditto's own total of the disk space it uses on this device (store, attachments, replication, auth and its other files, such as logs).",
        unit: 'bytes',
        thresholds: [{ color: 'blue', value: null }],
        queries: [{ expr: m(F.storeSize.name, 'component="total"'), legend: '{{instance}}' }],
        w: 6,
        h: 4,
      },
      {
        type: 'stat',
        title: 'Filesystem size',
        description: 'Size of the filesystem holding the Ditto store.',
        unit: 'bytes',
        thresholds: [{ color: 'blue', value: null }],
        queries: [{ expr: m(F.filesystemSize.name), legend: '{{instance}}' }],
        w: 6,
        h: 4,
      },
      {
        type: 'stat',
        title: 'Storage figures age',
        description: 'How long ago Ditto measured the storage figures shown (it samples them about every second). Minutes here mean Ditto stopped sampling.',
        unit: 's',
        thresholds: [
          { color: 'green', value: null },
          { color: 'orange', value: 60 },
        ],
        queries: [{ expr: `time() - ${m(F.storageTimestamp.name)}`, legend: '{{instance}}' }],
        w: 6,
        h: 4,
      },
      {
        type: 'timeseries',
        title: 'Ditto storage by component',
        description: 'Disk space Ditto uses by component: store (documents), attachments, replication (sync metadata), auth, and its own total. A component that only grows points at what fills the disk.',
        unit: 'bytes',
        min: 0,
        queries: [{ expr: m(F.storeSize.name), legend: '{{component}} {{instance}}' }],
        w: 12,
        h: 8,
      },
      {
        type: 'timeseries',
        title: 'Filesystem free over time',
        description: `Free space on the filesystem holding the Ditto store, and where the linear fit of the last ${disk.predictWindow / 3600} hours puts it ${disk.horizon / 3600} hours ahead (below 0: full within that time, as DittoDeviceDiskFillingUp predicts).`,
        unit: 'bytes',
        queries: [
          { expr: m(F.filesystemAvail.name), legend: 'free {{instance}}' },
          { expr: `predict_linear(${m(F.filesystemAvail.name)}[${disk.predictWindow / 3600}h], ${disk.horizon})`, legend: `free in ${disk.horizon / 3600} h at this rate {{instance}}` },
        ],
        w: 12,
        h: 8,
      },
      {
        type: 'timeseries',
        title: 'Storage read errors',
        description: 'Scrape-time reads of system:system_info that failed or took longer than --refresh-timeout, per second; figures unusable in the latest read. Both should be 0 (DittoDeviceStorageUnreadable).',
        unit: 'none',
        min: 0,
        queries: [
          { expr: `rate(${m(F.storageReadErrors.name)}[$__rate_interval])`, legend: 'read errors/s {{instance}}' },
          { expr: m(F.storageValuesUnusable.name), legend: 'unusable figures {{instance}}' },
        ],
        w: 24,
        h: 6,
      },
    ],
  };
}
