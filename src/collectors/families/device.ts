import type { FamilyEmitter } from './kit.js';

/** The device area's families (presence graph, storage, engine, beacon), in exposition order. */
export const DEVICE_EMITTERS: readonly FamilyEmitter[] = [];
