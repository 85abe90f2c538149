/**
 * One complete inventory of the fleet, built page by page from `__small_peer_info` documents and
 * frozen once every page is in: scrapes read the last complete inventory whole, never a half-read one.
 */
import { labelSet, type LabelSet } from '../exposition/labels.js';
import { LoopSlicer } from '../exposition/loop-slicer.js';
import type { DeviceLabels } from '../state/device-labels.js';
import { DEVICE_FIELDS, DOCUMENT_UNUSABLE_REASONS, parseDevice, type DeviceField, type DeviceRecord, type DocumentUnusableReason } from './fleet-documents.js';
import { inShard, type Shard } from './fleet-shard.js';

/** A device with per-device series. */
export interface DeviceEntry {
  readonly device: DeviceRecord;
  readonly labels: DeviceLabels;
}

export const BEACON_STATES = ['v1', 'absent', 'unsupported'] as const;
export type BeaconState = (typeof BEACON_STATES)[number];

/** At most this many (sdk_platform, sdk_version) series; the rest are counted under `other`. */
export const MAX_SDK_SERIES = 200;
export const OTHER_VALUE = 'other';
export const UNKNOWN_VALUE = 'unknown';

export interface SdkCount {
  readonly labels: LabelSet;
  readonly devices: number;
}

export interface FleetInventory {
  /** When the read finished, unix seconds on the source clock. */
  readonly readAt: number;
  /** How long reading every page took, seconds. */
  readonly readSeconds: number;
  /** Devices in this shard. */
  readonly devices: number;
  /** Devices with per-device series, in the order the server returned them (by _id). */
  readonly entries: readonly DeviceEntry[];
  /** Ids chosen for per-device series; the next inventory starts from them. */
  readonly kept: ReadonlySet<string>;
  readonly omitted: number;
  /** Every device, by SDK platform and version (bounded, folded). */
  readonly bySdk: readonly SdkCount[];
  /** Keys of the SDK series kept; the next inventory keeps them while they have devices. */
  readonly sdkKept: ReadonlySet<string>;
  /** Every usable last_updated_at of the shard, ascending: "not seen since" is counted at scrape time. */
  readonly lastSeenSorted: Float64Array;
  readonly beacons: ReadonlyMap<BeaconState, number>;
  readonly documentsUnusable: ReadonlyMap<DocumentUnusableReason, number>;
  readonly fieldsUnusable: ReadonlyMap<DeviceField, number>;
}

export interface InventoryOptions {
  readonly shard: Shard;
  /** Per-device series for at most this many devices. */
  readonly maxDevices: number;
  /** The previous inventory's kept ids and SDK keys: they stay kept while they exist. */
  readonly previous: Pick<FleetInventory, 'kept' | 'sdkKept'> | undefined;
  /** Label sets for a kept device, or null when per-device series are switched off. */
  readonly labelsFor: (device: DeviceRecord) => DeviceLabels | null;
  /** Label set for an aggregate (cached by the caller across inventories). */
  readonly sdkLabels: (platform: string, version: string) => LabelSet;
}

const EMPTY: ReadonlySet<string> = new Set();
const ITEMS_PER_PACE = 256;

/** Most recently seen first (an active device matters more than a long-gone one), then by id: every shard replica picks the same. */
const byAdmission = (a: DeviceRecord, b: DeviceRecord): number => (b.lastSeen ?? -Infinity) - (a.lastSeen ?? -Infinity) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The ids that keep per-device series, at most `max`: kept before stays kept while the device
 * exists, so series do not churn from one refresh to the next; free slots go in admission order.
 */
export function selectDevices(devices: readonly DeviceRecord[], previous: ReadonlySet<string>, max: number): ReadonlySet<string> {
  if (devices.length <= max) return new Set(devices.map((d) => d.id));
  const kept = new Set<string>();
  const candidates: DeviceRecord[] = [];
  for (const d of devices) {
    if (previous.has(d.id) && kept.size < max) kept.add(d.id);
    else candidates.push(d);
  }
  if (kept.size < max) {
    candidates.sort(byAdmission);
    for (const d of candidates) {
      if (kept.size >= max) break;
      kept.add(d.id);
    }
  }
  return kept;
}

/** The same rule for label values of an aggregate: at most `max` keys, previous ones first, then the most common. */
export function selectKeys(counts: ReadonlyMap<string, number>, previous: ReadonlySet<string>, max: number): ReadonlySet<string> {
  if (counts.size <= max) return new Set(counts.keys());
  const kept = new Set<string>();
  for (const key of previous) if (counts.has(key) && kept.size < max) kept.add(key);
  const rest = [...counts].filter(([k]) => !kept.has(k)).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [key] of rest) {
    if (kept.size >= max) break;
    kept.add(key);
  }
  return kept;
}

const SEP = '\u0000';
const sdkKey = (d: DeviceRecord) => `${d.platform ?? UNKNOWN_VALUE}${SEP}${d.version ?? UNKNOWN_VALUE}`;

/**
 * Collects the pages of one read. `add` validates each document as it arrives, so a page's raw JSON
 * can be dropped at once; `finish` builds the frozen inventory, handing the event loop back as it goes.
 */
export class InventoryBuilder {
  private readonly devices: DeviceRecord[] = [];
  private readonly seen = new Set<string>();
  private readonly documentsUnusable = new Map<DocumentUnusableReason, number>(DOCUMENT_UNUSABLE_REASONS.map((r) => [r, 0]));
  private readonly fieldsUnusable = new Map<DeviceField, number>(DEVICE_FIELDS.map((f) => [f, 0]));
  private readonly beacons = new Map<BeaconState, number>(BEACON_STATES.map((b) => [b, 0]));
  private documents = 0;

  /** `clock` is the unix time (seconds) the read started at: times are judged against it. */
  constructor(
    private readonly shard: Shard,
    private readonly clock: number,
  ) {}

  /** Documents seen so far, in every shard. */
  get documentCount(): number {
    return this.documents;
  }

  add(items: readonly unknown[]): void {
    for (const raw of items) {
      this.documents++;
      const device = parseDevice(raw, this.clock);
      if (typeof device === 'string') {
        // Without a usable id a document has no shard: shard 0 counts it, so the shards' union counts it once.
        if (this.shard.index === 0) this.documentsUnusable.set(device, this.documentsUnusable.get(device)! + 1);
        continue;
      }
      if (!inShard(device.id, this.shard)) continue;
      if (this.seen.has(device.id)) {
        this.documentsUnusable.set('duplicate_id', this.documentsUnusable.get('duplicate_id')! + 1);
        continue;
      }
      this.seen.add(device.id);
      this.devices.push(device);
      for (const field of device.unusable) this.fieldsUnusable.set(field, this.fieldsUnusable.get(field)! + 1);
      this.beacons.set(device.beacon.kind, this.beacons.get(device.beacon.kind)! + 1);
    }
  }

  async finish(readAt: number, readSeconds: number, options: InventoryOptions): Promise<FleetInventory> {
    const slicer = new LoopSlicer();
    // In the order the server paged them (by _id).
    const devices = this.devices;

    const counts = new Map<string, number>();
    const seenTimes: number[] = [];
    for (let i = 0; i < devices.length; i++) {
      const d = devices[i]!;
      const key = sdkKey(d);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (d.lastSeen !== undefined) seenTimes.push(d.lastSeen);
      if (i % ITEMS_PER_PACE === 0) await slicer.pace();
    }
    const lastSeenSorted = Float64Array.from(seenTimes).sort();
    await slicer.pace();

    const sdkKept = selectKeys(counts, options.previous?.sdkKept ?? EMPTY, MAX_SDK_SERIES);
    const bySdk: SdkCount[] = [];
    let folded = 0;
    for (const [key, n] of counts) {
      if (!sdkKept.has(key)) {
        folded += n;
        continue;
      }
      const [platform, version] = key.split(SEP) as [string, string];
      bySdk.push({ labels: options.sdkLabels(platform, version), devices: n });
    }
    if (folded > 0) bySdk.push({ labels: options.sdkLabels(OTHER_VALUE, OTHER_VALUE), devices: folded });

    const kept = selectDevices(devices, options.previous?.kept ?? EMPTY, options.maxDevices);
    await slicer.pace();
    const entries: DeviceEntry[] = [];
    // A keyed hash can collide; a repeated series would make the whole body unparseable.
    const texts = new Set<string>();
    for (let i = 0; i < devices.length; i++) {
      const device = devices[i]!;
      if (kept.has(device.id)) {
        const labels = options.labelsFor(device);
        if (labels && !texts.has(labels.id.text)) {
          texts.add(labels.id.text);
          entries.push({ device, labels });
        }
      }
      if (i % ITEMS_PER_PACE === 0) await slicer.pace();
    }

    return Object.freeze({
      readAt,
      readSeconds,
      devices: devices.length,
      entries: Object.freeze(entries),
      kept,
      omitted: devices.length - entries.length,
      bySdk: Object.freeze(bySdk),
      sdkKept,
      lastSeenSorted,
      beacons: this.beacons,
      documentsUnusable: this.documentsUnusable,
      fieldsUnusable: this.fieldsUnusable,
    });
  }
}

/** Label sets of the SDK aggregates, built once per distinct pair while it keeps appearing. */
export class SdkLabelCache {
  private entries = new Map<string, LabelSet>();
  private next = new Map<string, LabelSet>();

  readonly lookup = (platform: string, version: string): LabelSet => {
    const key = `${platform}${SEP}${version}`;
    let labels = this.next.get(key) ?? this.entries.get(key);
    if (!labels) labels = labelSet({ sdk_platform: platform, sdk_version: version });
    this.next.set(key, labels);
    return labels;
  };

  /** Keeps what the latest inventory asked for. */
  end(): void {
    this.entries = this.next;
    this.next = new Map();
  }
}

/** How many of the ascending times are below `limit`. */
export function countBelow(sorted: Float64Array, limit: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
