/**
 * The metric contract: every family the exporter emits, with its help text and labels. README,
 * dashboards, alert rules and tests are all checked against this one list. Each area keeps its
 * families in its own file.
 */
import { BEACON } from './beacon.js';
import { DEVICE } from './device.js';
import { ENGINE } from './engine.js';
import { EXPORTER } from './exporter.js';
import type { FamilyDef } from './family.js';
import { FLEET } from './fleet.js';
import { SYNC } from './sync.js';

export { ACK_BUCKETS_SECONDS } from './sync.js';
export { family, sampleNames, type FamilyArea, type FamilyDef, type FamilyType } from './family.js';

export const F = { ...SYNC, ...DEVICE, ...BEACON, ...ENGINE, ...FLEET, ...EXPORTER } as const;

export type FamilyKey = keyof typeof F;

export const FAMILIES: readonly FamilyDef[] = Object.freeze(Object.values(F));
