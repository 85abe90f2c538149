import { TRANSPORTS, type Transport } from '../../catalogue/device.js';
import { F } from '../../catalogue/index.js';
import type { FamilyDef } from '../../catalogue/index.js';
import { labelSet, type LabelSet } from '../../exposition/labels.js';
import { PEER_STATUSES, PEER_TYPES, type PeerStatus, type PeerType } from '../../model.js';
import { BEACON_STATES, countBelow, type DeviceEntry, type FleetInventory } from '../fleet-inventory.js';
import { FLEET_FAILURE_REASONS, FLEET_READS, type FleetView } from '../fleet-view.js';
import { byLabel, single, type FamilyEmitter, type ItemFamily } from './kit.js';
import type { ScrapeView } from './view.js';

/** The thresholds of ditto_fleet_devices_not_seen. */
const NOT_SEEN = [
  { labels: labelSet({ older_than: '1h' }), seconds: 3600 },
  { labels: labelSet({ older_than: '24h' }), seconds: 86_400 },
];
const FAILURE_LABELS = FLEET_READS.flatMap((read) => FLEET_FAILURE_REASONS.map((reason) => ({ read, reason, labels: labelSet({ read, reason }) })));
const BEACON_LABELS = new Map(BEACON_STATES.map((b) => [b, labelSet({ beacon: b })]));
const TRANSPORT_LABEL_SETS = new Map<Transport, LabelSet>(TRANSPORTS.map((t) => [t, labelSet({ transport: t })]));
/** Always written per answering device, so "no cloud session connected" reads 0; other combinations only when present. */
const SESSION_ALWAYS = new Set(['cloud/connected', 'cloud/not_connected', 'device/connected', 'device/not_connected']);
const SESSION_LABELS = PEER_TYPES.flatMap((t: PeerType) =>
  PEER_STATUSES.map((s: PeerStatus) => ({ t, s, always: SESSION_ALWAYS.has(`${t}/${s}`), labels: labelSet({ peer_type: t, status: s }) })),
);

const fleet = (v: ScrapeView): FleetView | undefined => v.fleet;
const inventory = (v: ScrapeView): FleetInventory | undefined => v.fleet?.inventory;
const live = (v: ScrapeView) => v.fleet?.live;
const age = (now: number, at: number | undefined) => (at === undefined ? undefined : Math.max(0, now - at));

const perDevice = (def: FamilyDef, emitItem: ItemFamily<DeviceEntry>['emitItem']): ItemFamily<DeviceEntry> => ({
  def,
  items: (v) => v.fleet?.inventory?.entries ?? [],
  emitItem,
});

const deviceValue = (def: FamilyDef, get: (e: DeviceEntry) => number | null | undefined): ItemFamily<DeviceEntry> =>
  perDevice(def, (_view, entry, out) => {
    const value = get(entry);
    if (typeof value === 'number') out.value(def, entry.labels.id, value);
  });

const beacon = (e: DeviceEntry) => (e.device.beacon.kind === 'v1' ? e.device.beacon : undefined);

/** The fleet area's families, in exposition order. */
export const FLEET_EMITTERS: readonly FamilyEmitter[] = [
  single(F.fleetUp, (v) => (fleet(v) ? (fleet(v)!.up ? 1 : 0) : undefined)),
  single(F.fleetInventoryAge, (v) => age(v.now, inventory(v)?.readAt)),
  single(F.fleetInventoryReadDuration, (v) => inventory(v)?.readSeconds),
  single(F.fleetInventoryReads, (v) => fleet(v)?.reads),
  {
    def: F.fleetReadFailures,
    emit(view, out) {
      const f = fleet(view);
      if (!f) return;
      for (const { read, reason, labels } of FAILURE_LABELS) {
        if (read === 'live' && !f.liveEnabled) continue;
        out.value(F.fleetReadFailures, labels, f.failures[read][reason]);
      }
    },
  },
  single(F.fleetRequestRetries, (v) => fleet(v)?.retries),
  {
    def: F.fleetDevices,
    emit(view, out) {
      for (const { labels, devices } of inventory(view)?.bySdk ?? []) out.value(F.fleetDevices, labels, devices);
    },
  },
  {
    def: F.fleetDevicesNotSeen,
    emit(view, out) {
      const inv = inventory(view);
      if (!inv) return;
      for (const { labels, seconds } of NOT_SEEN) out.value(F.fleetDevicesNotSeen, labels, countBelow(inv.lastSeenSorted, view.now - seconds));
    },
  },
  single(F.fleetDevicesOmitted, (v) => inventory(v)?.omitted),
  {
    def: F.fleetBeaconDevices,
    emit(view, out) {
      const inv = inventory(view);
      if (!inv) return;
      for (const state of BEACON_STATES) out.value(F.fleetBeaconDevices, BEACON_LABELS.get(state)!, inv.beacons.get(state) ?? 0);
    },
  },
  byLabel(F.fleetDocumentsUnusable, 'reason', (v) => inventory(v)?.documentsUnusable),
  byLabel(F.fleetFieldsUnusable, 'field', (v) => inventory(v)?.fieldsUnusable),
  perDevice(F.fleetDeviceInfo, (_view, entry, out) => out.value(F.fleetDeviceInfo, entry.labels.info, 1)),
  deviceValue(F.fleetDeviceLastSeen, (e) => e.device.lastSeen),
  deviceValue(F.fleetDeviceStoreSize, (e) => e.device.storeBytes),
  deviceValue(F.fleetDeviceFsAvail, (e) => e.device.availBytes),
  deviceValue(F.fleetDeviceFsSize, (e) => e.device.sizeBytes),
  perDevice(F.fleetDeviceConnections, (_view, entry, out) => {
    for (const c of entry.device.connections) out.value(F.fleetDeviceConnections, entry.labels.id, c.connections, TRANSPORT_LABEL_SETS.get(c.transport));
  }),
  deviceValue(F.fleetDeviceHealthReport, (e) => beacon(e)?.at),
  deviceValue(F.fleetDeviceCloudUnacked, (e) => beacon(e)?.unackedCommits),
  deviceValue(F.fleetDeviceOldestUnacked, (e) => beacon(e)?.oldestUnackedAt),
  deviceValue(F.fleetDeviceCloudLastUpdate, (e) => beacon(e)?.cloudLastUpdateAt),
  perDevice(F.fleetDeviceLiveSessions, (view, entry, out) => {
    const device = live(view)?.byDevice.get(entry.device.id);
    if (!device) return;
    for (const { t, s, always, labels } of SESSION_LABELS) {
      const n = device.sessions[t][s];
      if (always || n > 0) out.value(F.fleetDeviceLiveSessions, entry.labels.id, n, labels);
    }
  }),
  perDevice(F.fleetDeviceLiveCloudLastUpdate, (view, entry, out) => {
    const t = live(view)?.byDevice.get(entry.device.id)?.cloudLastUpdate;
    if (t !== undefined) out.value(F.fleetDeviceLiveCloudLastUpdate, entry.labels.id, t);
  }),
  byLabel(F.fleetLiveDevices, 'outcome', (v) => live(v)?.outcomes),
  single(F.fleetLiveAge, (v) => age(v.now, live(v)?.readAt)),
  byLabel(F.fleetLiveRowsUnusable, 'reason', (v) => live(v)?.rowsUnusable),
  byLabel(F.fleetLiveFieldsUnusable, 'field', (v) => live(v)?.fieldsUnusable),
];
