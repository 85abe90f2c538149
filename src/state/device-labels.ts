import type { DeviceRecord } from '../collectors/fleet-documents.js';
import { UNKNOWN_VALUE } from '../collectors/fleet-inventory.js';
import { labelSet, type LabelSet } from '../exposition/labels.js';
import { hashId, PEER_ID_MODES, type PeerIdMode } from './peer-labels.js';

/** `full`, `hash` or `none`, as for peer ids. */
export type DeviceIdMode = PeerIdMode;
export const DEVICE_ID_MODES = PEER_ID_MODES;

/** The label sets of one device's series, built once while the device and its description stay the same. */
export interface DeviceLabels {
  /** `device_id` only: every value series. */
  readonly id: LabelSet;
  /** The ditto_fleet_device_info labels. */
  readonly info: LabelSet;
}

interface Entry {
  readonly labels: DeviceLabels;
  /** The description the info labels were built from. */
  readonly describedAs: string;
  generation: number;
}


const describe = (d: DeviceRecord) => `${d.name ?? ''}\u0000${d.language ?? ''}\u0000${d.platform ?? ''}\u0000${d.version ?? ''}`;

/**
 * Per-device label sets, reused across inventories: a device that comes back with the same
 * description only has its entry stamped, so a refresh of 100,000 devices builds no label text for
 * devices that did not change (and, in hash mode, computes no HMAC). Devices the latest inventory
 * did not ask for are forgotten.
 */
export class DeviceLabelCache {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;
  private readonly label: ((id: string) => string) | undefined;
  private readonly withName: boolean;

  constructor(
    readonly mode: DeviceIdMode,
    hashKey?: string,
  ) {
    if (!(DEVICE_ID_MODES as readonly string[]).includes(mode)) throw new RangeError(`device id label must be one of ${DEVICE_ID_MODES.join(', ')}, got ${String(mode)}`);
    if (mode === 'hash') {
      if (typeof hashKey !== 'string' || hashKey.length === 0) throw new RangeError('device id hashing needs a non-empty hash key (the peer id hash key)');
      this.label = (id) => hashId(id, hashKey);
    } else if (mode === 'full') this.label = (id) => id;
    // A device name says more about who holds the device than its id does: hash mode hides both.
    this.withName = mode === 'full';
  }

  /** Whether per-device series exist at all (`none` keeps only the aggregates). */
  get perDevice(): boolean {
    return this.label !== undefined;
  }

  begin(): void {
    this.generation++;
  }

  /** The device's label sets, or null under `none`. */
  lookup(device: DeviceRecord): DeviceLabels | null {
    if (!this.label) return null;
    const describedAs = describe(device);
    let entry = this.entries.get(device.id);
    if (entry === undefined || entry.describedAs !== describedAs) {
      const id = entry?.labels.id ?? labelSet({ device_id: this.label(device.id) });
      const info = labelSet({
        device_id: id.pairs['device_id']!,
        ...(this.withName ? { device_name: device.name ?? '' } : {}),
        sdk_language: device.language ?? UNKNOWN_VALUE,
        sdk_platform: device.platform ?? UNKNOWN_VALUE,
        sdk_version: device.version ?? UNKNOWN_VALUE,
      });
      entry = { labels: { id, info }, describedAs, generation: this.generation };
      this.entries.set(device.id, entry);
    } else entry.generation = this.generation;
    return entry.labels;
  }

  /** Forgets the devices this inventory did not look up. */
  end(): void {
    for (const [id, entry] of this.entries) if (entry.generation !== this.generation) this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}
