import { F } from '../../catalogue/index.js';
import { byLabel, single, type FamilyEmitter } from './kit.js';

/** The beacon publisher's families; absent unless the beacon is published. */
export const BEACON_EMITTERS: readonly FamilyEmitter[] = [
  byLabel(F.beaconPublishes, 'reason', (v) => v.beacon?.publishes),
  single(F.beaconPublishFailures, (v) => v.beacon?.failures),
  single(F.beaconLastPublish, (v) => v.beacon?.lastPublishAt),
];
