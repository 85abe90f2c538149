import type { FleetInventory } from './fleet-inventory.js';
import type { LiveRound } from './fleet-live.js';

export const FLEET_READS = ['inventory', 'live'] as const;
export type FleetRead = (typeof FLEET_READS)[number];

/** Why a read of the Ditto Server failed (after any retries). */
export const FLEET_FAILURE_REASONS = ['unauthorized', 'timeout', 'network', 'http_4xx', 'http_5xx', 'error_envelope', 'malformed'] as const;
export type FleetFailureReason = (typeof FLEET_FAILURE_REASONS)[number];

/** What the fleet area reports in one scrape (source fleet). */
export interface FleetView {
  /** The latest inventory read succeeded. */
  readonly up: boolean;
  /** The last complete inventory, served until a newer one is complete; undefined before the first. */
  readonly inventory: FleetInventory | undefined;
  /** The last complete live round, for the devices of the current inventory; undefined without --fleet-live. */
  readonly live: LiveRound | undefined;
  readonly liveEnabled: boolean;
  /** Complete inventory reads. */
  readonly reads: number;
  readonly failures: Readonly<Record<FleetRead, Readonly<Record<FleetFailureReason, number>>>>;
  readonly retries: number;
}
