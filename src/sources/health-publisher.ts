/**
 * Publishes the sync-health beacon (schemas/ditto-sync-health.v1.schema.json) into
 * `ditto.smallPeerInfo.metadata` under `ditto_sync_health`, from where Ditto's core syncs it to the
 * Ditto Server inside this device's `__small_peer_info` document (docs/beacon.md).
 *
 * The metadata belongs to the application: the publisher only ever sets its own key, merged into
 * whatever the application set. When the application replaces the metadata (through
 * `metadata = {...}` or `metadataJSONString = "..."`), the setter puts the last beacon back in the
 * same call; a refresh also puts it back if it went missing some other way. Nothing here throws
 * into the application, and the timer never keeps the process alive.
 */
import { BEACON_KEY, type HealthBeacon } from '../collectors/beacon.js';
import type { BeaconView } from '../collectors/families/index.js';
import type { Logger } from '../logger.js';

/** The part of the SDK's `SmallPeerInfo` the publisher uses. */
export interface SmallPeerInfoLike {
  metadataJSONString: string;
  readonly isEnabled?: boolean;
}

export interface HealthPublisherOptions {
  /** The current beacon, or undefined when none can be made (no snapshot served). */
  readonly beacon: () => Promise<HealthBeacon | undefined>;
  /** Milliseconds between refreshes (the beacon is rebuilt at most this often). */
  readonly intervalMs: number;
  readonly logger?: Logger;
}

/** A beacon larger than this is never written (v1 is about 400 bytes; the SDK allows 128 KB of metadata). */
export const MAX_BEACON_BYTES = 2048;

export const PUBLISH_REASONS = ['refresh', 'restore'] as const;
type PublishReason = (typeof PUBLISH_REASONS)[number];

type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The accessor pair of `metadataJSONString` as the SDK defines it (on the prototype). */
function findAccessor(target: object): PropertyDescriptor | undefined {
  for (let o: object | null = target; o; o = Object.getPrototypeOf(o) as object | null) {
    const d = Object.getOwnPropertyDescriptor(o, 'metadataJSONString');
    if (d) return d.get && d.set ? d : undefined;
  }
  return undefined;
}

export class HealthPublisher {
  private readonly publishes = new Map<PublishReason, number>(PUBLISH_REASONS.map((r) => [r, 0]));
  private failures = 0;
  private last: HealthBeacon | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private started = false;
  private failing = false;
  private readonly read: () => string;
  private readonly write: (json: string) => void;
  private installed: PropertyDescriptor | undefined;

  constructor(
    private readonly info: SmallPeerInfoLike,
    private readonly options: HealthPublisherOptions,
  ) {
    if (!Number.isFinite(options.intervalMs) || options.intervalMs <= 0) throw new RangeError(`publish interval must be a positive number of milliseconds, got ${options.intervalMs}`);
    const accessor = findAccessor(info);
    if (!accessor) throw new TypeError('smallPeerInfo has no metadataJSONString accessor: this SDK cannot carry the beacon');
    this.read = () => accessor.get!.call(info) as string;
    this.write = (json) => void accessor.set!.call(info, json);
  }

  get stats(): BeaconView {
    return { publishes: new Map(this.publishes), failures: this.failures, lastPublishAt: this.last?.at };
  }

  /** Wraps the application's setter, publishes once now and then every interval. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.installSetter();
    try {
      if (this.info.isEnabled === false) {
        this.options.logger?.warn('ditto.smallPeerInfo.isEnabled is false: the beacon is written into the metadata but Ditto does not collect it into __small_peer_info, so it never reaches the Ditto Server');
      }
    } catch {
      // A closed instance; the first refresh will count the failure.
    }
    this.schedule(0);
  }

  /** One refresh now (for tests and shutdown paths); resolves when it is done. */
  refreshNow(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.running ??= this.refresh().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops the timer, unwraps the setter and takes the beacon out of the metadata (leaving the rest). Never throws. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    this.uninstallSetter();
    try {
      const current = JSON.parse(this.read()) as unknown;
      if (isObject(current) && Object.prototype.hasOwnProperty.call(current, BEACON_KEY)) {
        const { [BEACON_KEY]: _ours, ...rest } = current;
        this.write(JSON.stringify(rest));
      }
    } catch {
      // The instance may already be closed; there is nothing left to tidy then.
    }
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.refreshNow().finally(() => this.schedule(this.options.intervalMs));
    }, delayMs);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    let beacon: HealthBeacon | undefined;
    try {
      beacon = await this.options.beacon();
    } catch (error) {
      this.failed(error, 'building the beacon');
      return;
    }
    if (this.closed) return;
    // No snapshot served: the last beacon stays as it was (its `at` stops moving), put back if gone.
    const reason: PublishReason = beacon ? 'refresh' : 'restore';
    const next = beacon ?? this.last;
    if (!next) return;
    try {
      const current = JSON.parse(this.read()) as unknown;
      const metadata = isObject(current) ? current : {};
      if (!beacon && JSON.stringify(metadata[BEACON_KEY]) === JSON.stringify(next)) return;
      const size = Buffer.byteLength(JSON.stringify(next));
      if (size > MAX_BEACON_BYTES) throw new RangeError(`beacon is ${size} bytes, over ${MAX_BEACON_BYTES}`);
      this.write(JSON.stringify({ ...metadata, [BEACON_KEY]: next }));
      this.last = next;
      this.count(reason);
    } catch (error) {
      this.failed(error, 'writing the beacon into ditto.smallPeerInfo.metadata');
    }
  }

  /** The application's writes keep their keys exactly and get the last beacon added back. */
  private installSetter(): void {
    const descriptor: PropertyDescriptor = {
      configurable: true,
      enumerable: false,
      get: () => this.read(),
      set: (value: unknown) => this.appWrite(value),
    };
    try {
      Object.defineProperty(this.info, 'metadataJSONString', descriptor);
      this.installed = descriptor;
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'cannot wrap smallPeerInfo.metadataJSONString: a beacon the application overwrites comes back only at the next refresh');
    }
  }

  private uninstallSetter(): void {
    const own = Object.getOwnPropertyDescriptor(this.info, 'metadataJSONString');
    if (this.installed && own && own.set === this.installed.set) delete (this.info as { metadataJSONString?: string }).metadataJSONString;
    this.installed = undefined;
  }

  private appWrite(value: unknown): void {
    const last = this.last;
    if (last && !this.closed && typeof value === 'string') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        parsed = undefined; // The SDK will refuse it with its own error, below.
      }
      if (isObject(parsed) && JSON.stringify(parsed[BEACON_KEY]) !== JSON.stringify(last)) {
        try {
          this.write(JSON.stringify({ ...parsed, [BEACON_KEY]: last }));
          this.count('restore');
          return;
        } catch (error) {
          // With the beacon the metadata is refused (over 128 KB, say): the application's own value wins.
          this.failed(error, 'putting the beacon back into the application\'s metadata');
        }
      }
    }
    this.write(value as string);
  }

  private count(reason: PublishReason): void {
    this.publishes.set(reason, this.publishes.get(reason)! + 1);
    if (this.failing) {
      this.failing = false;
      this.options.logger?.info('publishing the sync-health beacon again');
    }
  }

  /** Counted every time, logged once per run of failures. */
  private failed(error: unknown, context: string): void {
    this.failures++;
    if (this.failing) return;
    this.failing = true;
    try {
      this.options.logger?.warn({ err: error }, `sync-health beacon: ${context} failed (counted in ditto_sync_health_beacon_publish_failures_total)`);
    } catch {
      // A failing logger must not take the application down.
    }
  }
}
