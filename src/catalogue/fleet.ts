/** Families read from a Ditto Server's HTTP API about every device of the fleet (source fleet). */
import { family } from './family.js';

// eslint-disable-next-line @typescript-eslint/no-unused-vars
const f = family('fleet');

export const FLEET = {} as const;
