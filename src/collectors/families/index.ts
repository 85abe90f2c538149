import { BEACON_EMITTERS } from './beacon.js';
import { DEVICE_EMITTERS } from './device.js';
import { ENGINE_EMITTERS } from './engine.js';
import { EXPORTER_EMITTERS } from './exporter.js';
import { FLEET_EMITTERS } from './fleet.js';
import type { FamilyEmitter } from './kit.js';
import { SYNC_EMITTERS } from './sync.js';

export { isDynamic, isItemFamily, type CatalogueEmitter, type DynamicFamilies, type Family, type FamilyEmitter, type ItemFamily } from './kit.js';
export type { BeaconView, DeviceView, EngineView, ExporterInfo, ScrapeView, StorageView, SyncView } from './view.js';

/** Every family, in exposition order. Families without samples in a scrape are left out of it. */
export const EMITTERS: readonly FamilyEmitter[] = [...SYNC_EMITTERS, ...DEVICE_EMITTERS, ...BEACON_EMITTERS, ...ENGINE_EMITTERS, ...FLEET_EMITTERS, ...EXPORTER_EMITTERS];
