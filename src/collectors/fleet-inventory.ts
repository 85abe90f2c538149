/**
 * One complete inventory of the fleet, built page by page from `__small_peer_info` documents and
 * frozen once every page is in: scrapes read the last complete inventory whole, never a half-read one.
 */
import { labelSet, type LabelSet } from '../exposition/labels.js';
import { LoopSlicer } from '../exposition/loop-slicer.js';
import type { DeviceLabels } from '../state/device-labels.js';
import { MinHeap } from '../state/min-heap.js';
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
  /** Devices with per-device series: those kept before, in the order the server paged them, then the newly admitted. */
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

export interface BuilderOptions {
  readonly shard: Shard;
  /** Per-device series for at most this many devices. */
  readonly maxDevices: number;
  /** Whether per-device series exist at all (not under --fleet-device-id-label none). */
  readonly perDevice: boolean;
  /** The previous inventory's kept ids: they stay kept while they exist. */
  readonly previousKept: ReadonlySet<string>;
}

export interface FinishOptions {
  /** The previous inventory's SDK series: they stay while they have devices. */
  readonly previousSdkKept: ReadonlySet<string>;
  /** Label sets for a kept device, or null when per-device series are switched off. */
  readonly labelsFor: (device: DeviceRecord) => DeviceLabels | null;
  /** Label set for an aggregate (cached by the caller across inventories). */
  readonly sdkLabels: (platform: string, version: string) => LabelSet;
}

const ITEMS_PER_PACE = 256;

/** Most recently seen first (an active device matters more than a long-gone one), then by id: every shard replica picks the same. */
export const byAdmission = (a: DeviceRecord, b: DeviceRecord): number => (b.lastSeen ?? -Infinity) - (a.lastSeen ?? -Infinity) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

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
 * Collects the pages of one read. `add` validates each document as it arrives and keeps only what
 * the inventory needs: counts for the aggregates, and whole records only for devices that can get
 * per-device series (kept before, or among the best `maxDevices` candidates so far), so a page's
 * raw JSON and most records are garbage at once. `finish` builds the frozen inventory, handing the
 * event loop back as it goes.
 *
 * Per-device selection is stable under `maxDevices`: a device kept before stays kept while it
 * exists, whatever its freshness does, so series do not churn from one refresh to the next; free
 * slots go in admission order.
 */
export class InventoryBuilder {
  private readonly seen = new Set<string>();
  private readonly sdkCounts = new Map<string, number>();
  private readonly seenTimes: number[] = [];
  private readonly keptBefore: DeviceRecord[] = [];
  /** Candidates for free slots, the worst on top so it is the one dropped. */
  private readonly candidates = new MinHeap<DeviceRecord>((a, b) => byAdmission(a, b) > 0);
  private readonly documentsUnusable = new Map<DocumentUnusableReason, number>(DOCUMENT_UNUSABLE_REASONS.map((r) => [r, 0]));
  private readonly fieldsUnusable = new Map<DeviceField, number>(DEVICE_FIELDS.map((f) => [f, 0]));
  private readonly beacons = new Map<BeaconState, number>(BEACON_STATES.map((b) => [b, 0]));

  /** `clock` is the unix time (seconds) the read started at: times are judged against it. */
  constructor(
    private readonly clock: number,
    private readonly options: BuilderOptions,
  ) {}

  add(items: readonly unknown[]): void {
    const { shard, perDevice, previousKept, maxDevices } = this.options;
    for (const raw of items) {
      const device = parseDevice(raw, this.clock);
      if (typeof device === 'string') {
        // Without a usable id a document has no shard: shard 0 counts it, so the shards' union counts it once.
        if (shard.index === 0) this.documentsUnusable.set(device, this.documentsUnusable.get(device)! + 1);
        continue;
      }
      if (!inShard(device.id, shard)) continue;
      if (this.seen.has(device.id)) {
        this.documentsUnusable.set('duplicate_id', this.documentsUnusable.get('duplicate_id')! + 1);
        continue;
      }
      this.seen.add(device.id);
      const key = sdkKey(device);
      this.sdkCounts.set(key, (this.sdkCounts.get(key) ?? 0) + 1);
      if (device.lastSeen !== undefined) this.seenTimes.push(device.lastSeen);
      for (const field of device.unusable) this.fieldsUnusable.set(field, this.fieldsUnusable.get(field)! + 1);
      this.beacons.set(device.beacon.kind, this.beacons.get(device.beacon.kind)! + 1);
      if (!perDevice) continue;
      if (previousKept.has(device.id)) this.keptBefore.push(device);
      else {
        this.candidates.push(device);
        // At most this many free slots remain, whatever else arrives.
        while (this.candidates.size > Math.max(0, maxDevices - this.keptBefore.length)) this.candidates.pop();
      }
    }
  }

  async finish(readAt: number, readSeconds: number, options: FinishOptions): Promise<FleetInventory> {
    const slicer = new LoopSlicer();
    const lastSeenSorted = Float64Array.from(this.seenTimes).sort();
    await slicer.pace();

    const sdkKept = selectKeys(this.sdkCounts, options.previousSdkKept, MAX_SDK_SERIES);
    const bySdk: SdkCount[] = [];
    let folded = 0;
    for (const [key, n] of this.sdkCounts) {
      if (!sdkKept.has(key)) {
        folded += n;
        continue;
      }
      const [platform, version] = key.split(SEP) as [string, string];
      bySdk.push({ labels: options.sdkLabels(platform, version), devices: n });
    }
    if (folded > 0) bySdk.push({ labels: options.sdkLabels(OTHER_VALUE, OTHER_VALUE), devices: folded });

    // Kept before first (in the order the server paged them), then the best candidates.
    const admitted: DeviceRecord[] = [];
    for (let i = 0; this.candidates.size > 0; i++) {
      admitted.push(this.candidates.pop()!);
      if (i % ITEMS_PER_PACE === 0) await slicer.pace();
    }
    admitted.reverse();
    const chosen = this.keptBefore.concat(admitted);
    const kept = new Set<string>();
    const entries: DeviceEntry[] = [];
    // A keyed hash can collide; a repeated series would make the whole body unparseable.
    const texts = new Set<string>();
    for (let i = 0; i < chosen.length; i++) {
      const device = chosen[i]!;
      kept.add(device.id);
      const labels = options.labelsFor(device);
      if (labels && !texts.has(labels.id.text)) {
        texts.add(labels.id.text);
        entries.push({ device, labels });
      }
      if (i % ITEMS_PER_PACE === 0) await slicer.pace();
    }
    const devices = this.seen.size;

    return Object.freeze({
      readAt,
      readSeconds,
      devices,
      entries: Object.freeze(entries),
      kept,
      omitted: devices - entries.length,
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
