import type { DeviceRecord } from '../collectors/fleet-documents.js';
import { InventoryBuilder, SdkLabelCache, type FleetInventory } from '../collectors/fleet-inventory.js';
import type { LiveRound } from '../collectors/fleet-live.js';
import type { Shard } from '../collectors/fleet-shard.js';
import { FLEET_FAILURE_REASONS, FLEET_READS, type FleetFailureReason, type FleetRead, type FleetView } from '../collectors/fleet-view.js';
import { DeviceLabelCache, type DeviceIdMode } from './device-labels.js';

export interface FleetStateOptions {
  readonly shard: Shard;
  readonly maxDevices: number;
  readonly deviceIdLabel: DeviceIdMode;
  /** Required for `deviceIdLabel: 'hash'`. */
  readonly hashKey?: string;
  readonly liveEnabled?: boolean;
}

const NO_IDS: ReadonlySet<string> = new Set();

type Failures = Record<FleetRead, Record<FleetFailureReason, number>>;

function zeroFailures(): Failures {
  const out = {} as Failures;
  for (const read of FLEET_READS) {
    out[read] = {} as Record<FleetFailureReason, number>;
    for (const reason of FLEET_FAILURE_REASONS) out[read][reason] = 0;
  }
  return out;
}

/**
 * The exporter's memory of the fleet: the last complete inventory, the last live round and the
 * read counters. A read in progress lives in its own InventoryBuilder until `complete`, so a scrape
 * never sees half an inventory; a failed read leaves the last complete one in place.
 */
export class FleetState {
  private inventory: FleetInventory | undefined;
  private live: LiveRound | undefined;
  private healthy = false;
  private reads = 0;
  private retries = 0;
  private readonly failures = zeroFailures();
  private readonly deviceLabels: DeviceLabelCache;
  private readonly sdkLabels = new SdkLabelCache();

  constructor(private readonly options: FleetStateOptions) {
    if (!Number.isInteger(options.maxDevices) || options.maxDevices <= 0) throw new RangeError(`maxDevices must be a positive integer, got ${options.maxDevices}`);
    this.deviceLabels = new DeviceLabelCache(options.deviceIdLabel, options.hashKey);
  }

  get latest(): FleetInventory | undefined {
    return this.inventory;
  }

  /** A builder for a read that starts at `clock` (unix seconds). */
  begin(clock: number): InventoryBuilder {
    return new InventoryBuilder(clock, {
      shard: this.options.shard,
      maxDevices: this.options.maxDevices,
      perDevice: this.deviceLabels.perDevice,
      previousKept: this.inventory?.kept ?? NO_IDS,
    });
  }

  /** Freezes a fully read inventory and serves it from now on. */
  async complete(builder: InventoryBuilder, readAt: number, readSeconds: number): Promise<FleetInventory> {
    this.deviceLabels.begin();
    const inventory = await builder.finish(readAt, readSeconds, {
      previousSdkKept: this.inventory?.sdkKept ?? NO_IDS,
      labelsFor: (device: DeviceRecord) => this.deviceLabels.lookup(device),
      sdkLabels: this.sdkLabels.lookup,
    });
    this.deviceLabels.end();
    this.sdkLabels.end();
    this.inventory = inventory;
    this.reads++;
    this.healthy = true;
    return inventory;
  }

  publishLive(round: LiveRound): void {
    this.live = round;
  }

  /** A failed read; an inventory failure turns ditto_fleet_up to 0 until the next complete read. */
  fail(read: FleetRead, reason: FleetFailureReason): void {
    this.failures[read][reason]++;
    if (read === 'inventory') this.healthy = false;
  }

  countRetry(): void {
    this.retries++;
  }

  /** The up flag alone, for readiness. */
  get up(): boolean {
    return this.healthy && this.inventory !== undefined;
  }

  view(): FleetView {
    return {
      up: this.up,
      inventory: this.inventory,
      live: this.options.liveEnabled ? this.live : undefined,
      liveEnabled: this.options.liveEnabled ?? false,
      reads: this.reads,
      // Copied: a scrape renders in slices, and a read may fail meanwhile.
      failures: { inventory: { ...this.failures.inventory }, live: { ...this.failures.live } },
      retries: this.retries,
    };
  }
}
