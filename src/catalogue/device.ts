/** Families about this device as a whole: the presence graph, storage, Ditto's engine, the health beacon. */
import { family } from './family.js';

// eslint-disable-next-line @typescript-eslint/no-unused-vars
const f = family('device');

export const DEVICE = {} as const;
