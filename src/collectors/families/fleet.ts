import type { FamilyEmitter } from './kit.js';

/** The fleet area's families, in exposition order. */
export const FLEET_EMITTERS: readonly FamilyEmitter[] = [];
