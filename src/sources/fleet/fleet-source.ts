import { performance } from 'node:perf_hooks';
import { checkOption, RANGES } from '../../bounds.js';
import { LoopSlicer } from '../../exposition/loop-slicer.js';
import type { FleetInventory } from '../../collectors/fleet-inventory.js';
import { ONE_SHARD, checkShard, type Shard } from '../../collectors/fleet-shard.js';
import type { FleetFailureReason, FleetView } from '../../collectors/fleet-view.js';
import type { Logger } from '../../logger.js';
import type { DeviceIdMode } from '../../state/device-labels.js';
import { FleetState } from '../../state/fleet-state.js';
import { wallClock, type SourceSink, type SyncSource } from '../source.js';
import { DittoServerClient, FleetReadError } from './client.js';
import { FLEET_DEFAULTS } from './defaults.js';
import { readInventory } from './inventory-reader.js';
import { liveTargets, readLive } from './live-reader.js';

export interface FleetSourceOptions {
  /** The Ditto Server HTTP API base from the portal (it may include a path). */
  readonly url: string;
  /** The API key; called at the start of every read, so a rotated key file is picked up. */
  readonly apiKey: () => string;
  /** Seconds from the start of one read to the start of the next (default 60). */
  readonly intervalSeconds?: number;
  /** Documents per request (default 500). */
  readonly pageSize?: number;
  /** Per-request timeout, seconds (default 10). */
  readonly requestTimeoutSeconds?: number;
  /** Retries of a 408, 429 or 503 answer (default 3). */
  readonly retries?: number;
  /** Per-device series for at most this many devices (default 10000). */
  readonly maxDevices?: number;
  readonly deviceIdLabel?: DeviceIdMode;
  /** Key for `deviceIdLabel: 'hash'` (the same key as for peer ids, so the hashes match). */
  readonly hashKey?: string;
  readonly shard?: Shard;
  /** Read live sessions over remote execute after each inventory (not in Ditto's public reference). */
  readonly live?: boolean;
  /** Per-request timeout of a live read, seconds (default 30). */
  readonly liveTimeoutSeconds?: number;
  readonly logger?: Logger;
  /** Unix seconds (default the wall clock). */
  readonly clock?: () => number;
  readonly fetch?: typeof fetch;
  /** First retry backoff step in ms (default 500). */
  readonly backoffMs?: number;
  readonly random?: () => number;
}

export { FLEET_DEFAULTS };

/** Documents validated between two looks at the clock. */
const DOCUMENTS_PER_PACE = 50;

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

const ADVICE: Partial<Record<FleetFailureReason, string>> = {
  unauthorized: 'check the key (--fleet-api-key-file or DITTO_EXPORTER_FLEET_API_KEY): it may be revoked, expired or lack read access to __small_peer_info',
  timeout: 'raise --fleet-request-timeout or lower --fleet-page-size if the server is slow',
  malformed: 'check that --fleet-url is the HTTP API base from the Ditto portal (a proxy or login page may be answering)',
};

/**
 * The fleet source: every `intervalSeconds` it reads the whole `__small_peer_info` inventory from
 * a Ditto Server's HTTP API, page by page, and serves the last complete one. It reads no
 * system:data_sync_info, so the sync families are left out for it. A read that fails part-way
 * leaves the previous inventory in place (its age keeps growing) and ditto_fleet_up at 0.
 */
export class FleetSource implements SyncSource {
  readonly kind = 'fleet' as const;
  readonly readsSyncInfo = false;
  readonly state: FleetState;
  private readonly client: DittoServerClient;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly intervalMs: number;
  private readonly pageSize: number;
  private readonly liveTimeoutMs: number;
  private readonly live: boolean;
  private readonly closing = new AbortController();
  private key = '';
  private started = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** performance.now() at which the next read is due (interval from the start of the last one). */
  private nextStart = 0;
  /** The reason of the failure last logged, so a failure that repeats is logged once. */
  private failingWith: FleetFailureReason | undefined;
  private failedReads = 0;
  private liveFailingWith: FleetFailureReason | undefined;

  constructor(private readonly options: FleetSourceOptions) {
    this.logger = options.logger ?? silent;
    this.clock = options.clock ?? wallClock;
    // The ranges of the --fleet-* flags: past 2^31-1 ms a timer would fire after 1 ms.
    this.intervalMs = checkOption(options.intervalSeconds ?? FLEET_DEFAULTS.intervalSeconds, 'intervalSeconds', RANGES.fleetInterval) * 1000;
    this.pageSize = checkOption(options.pageSize ?? FLEET_DEFAULTS.pageSize, 'pageSize', RANGES.fleetPageSize);
    this.live = options.live ?? false;
    this.liveTimeoutMs = checkOption(options.liveTimeoutSeconds ?? FLEET_DEFAULTS.liveTimeoutSeconds, 'liveTimeoutSeconds', RANGES.fleetLiveTimeout) * 1000;
    const requestTimeoutMs = checkOption(options.requestTimeoutSeconds ?? FLEET_DEFAULTS.requestTimeoutSeconds, 'requestTimeoutSeconds', RANGES.fleetRequestTimeout) * 1000;
    const retries = checkOption(options.retries ?? FLEET_DEFAULTS.retries, 'retries', RANGES.fleetRetries);
    const maxDevices = checkOption(options.maxDevices ?? FLEET_DEFAULTS.maxDevices, 'maxDevices', RANGES.maxDevices);
    this.state = new FleetState({
      shard: checkShard(options.shard ?? ONE_SHARD),
      maxDevices,
      deviceIdLabel: options.deviceIdLabel ?? 'full',
      hashKey: options.hashKey,
      liveEnabled: this.live,
    });
    this.client = new DittoServerClient({
      baseUrl: options.url,
      apiKey: () => this.key,
      timeoutMs: requestTimeoutMs,
      retries,
      backoffMs: options.backoffMs,
      random: options.random,
      fetch: options.fetch,
      signal: this.closing.signal,
      onRetry: () => this.state.countRetry(),
    });
  }

  get open(): boolean {
    return this.started && !this.closed;
  }

  now(): number {
    return this.clock();
  }

  /** Starts the timed reads; the first begins at once. Resolves without waiting for it. */
  async start(_sink: SourceSink): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { index, total } = this.options.shard ?? ONE_SHARD;
    this.logger.info(
      { url: this.options.url, intervalSeconds: this.intervalMs / 1000, shard: `${index}/${total}`, live: this.live },
      `reading the fleet inventory (__small_peer_info) from the Ditto Server every ${this.intervalMs / 1000} s`,
    );
    void this.readNow();
  }

  /** Runs one read (inventory, then live sessions) now, or joins the one running; never rejects. */
  readNow(): Promise<void> {
    if (this.closed) return Promise.resolve();
    clearTimeout(this.timer);
    this.running ??= this.cycle().finally(() => {
      this.running = undefined;
      this.scheduleNext();
    });
    return this.running;
  }

  fleetView(): FleetView {
    return this.state.view();
  }

  readiness(): { ready: boolean; reason: string } {
    if (!this.open) return { ready: false, reason: 'source closed' };
    const inventory = this.state.latest;
    if (!inventory) return { ready: false, reason: 'no complete fleet inventory yet' };
    if (!this.state.up) return { ready: false, reason: `fleet inventory reads failing (${this.failingWith ?? 'error'})` };
    const age = this.clock() - inventory.readAt;
    if (age * 1000 > 3 * this.intervalMs) return { ready: false, reason: `fleet inventory is ${Math.round(age)}s old` };
    return { ready: true, reason: 'ok' };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.closing.abort();
    await this.running;
  }

  private scheduleNext(): void {
    if (this.closed) return;
    const delay = Math.max(0, this.nextStart - performance.now());
    this.timer = setTimeout(() => void this.readNow(), delay);
    this.timer.unref();
  }

  private async cycle(): Promise<void> {
    const t0 = performance.now();
    this.nextStart = t0 + this.intervalMs;
    this.refreshKey();
    const builder = this.state.begin(this.clock());
    // Validating a page is sliced too: the scrapes and the host app keep the event loop.
    const slicer = new LoopSlicer();
    try {
      await readInventory(this.client, {
        pageSize: this.pageSize,
        onPage: async (items) => {
          for (let i = 0; i < items.length; i += DOCUMENTS_PER_PACE) {
            builder.add(items.slice(i, i + DOCUMENTS_PER_PACE));
            await slicer.pace();
          }
        },
        onWarning: (w) => this.logger.debug({ warning: w }, 'the Ditto Server attached a warning to an inventory page'),
      });
      if (this.closed) return;
      const inventory = await this.state.complete(builder, this.clock(), (performance.now() - t0) / 1000);
      this.recovered(inventory.devices);
      if (this.live && !this.closed) await this.liveRound(inventory);
    } catch (error) {
      if (this.closed) return;
      const failure = error instanceof FleetReadError ? error : new FleetReadError('malformed', `unexpected error while reading the inventory: ${(error as Error)?.message ?? String(error)}`);
      this.state.fail('inventory', failure.reason);
      this.failed(failure);
    }
  }

  /** One live round over the inventory just read; its failures are live failures, never inventory ones. */
  private async liveRound(inventory: FleetInventory): Promise<void> {
    let failures = 0;
    try {
      const round = await readLive(this.client, liveTargets(inventory, this.clock()), {
        timeoutMs: this.liveTimeoutMs,
        now: this.clock,
        onFailure: (error) => (failures++, this.liveFailed(error)),
      });
      if (failures === 0) this.liveFailingWith = undefined;
      if (!this.closed) this.state.publishLive(round);
    } catch (error) {
      this.liveFailed(new FleetReadError('malformed', `unexpected error in a live round: ${(error as Error)?.message ?? String(error)}`));
    }
  }

  private refreshKey(): void {
    try {
      this.key = this.options.apiKey().trim();
    } catch (error) {
      // A key file that went away keeps the last key read; the log says why reads may start failing.
      this.logger.warn({ err: error }, 'cannot read the fleet API key; using the last one read');
    }
  }

  private failed(error: FleetReadError): void {
    this.failedReads++;
    if (this.failingWith === error.reason) {
      this.logger.debug({ reason: error.reason, failedReads: this.failedReads }, error.message);
      return;
    }
    this.failingWith = error.reason;
    const advice = ADVICE[error.reason];
    const line =
      error.reason === 'unauthorized'
        ? `the Ditto Server refused the fleet API key (HTTP ${error.status}): ditto_fleet_up is 0 and the last complete inventory is served until a read succeeds; ${advice}`
        : `fleet inventory read failed (${error.reason}): ${error.message}; ditto_fleet_up is 0 and the last complete inventory is served until a read succeeds${advice ? `; ${advice}` : ''}`;
    this.logger.error({ reason: error.reason, status: error.status }, line);
  }

  private recovered(devices: number): void {
    if (this.failingWith !== undefined) {
      this.logger.info({ failedReads: this.failedReads, devices }, 'fleet inventory read again after failures');
    }
    this.failingWith = undefined;
    this.failedReads = 0;
  }

  private liveFailed(error: FleetReadError): void {
    if (this.closed) return;
    this.state.fail('live', error.reason);
    if (this.liveFailingWith === error.reason) return;
    this.liveFailingWith = error.reason;
    this.logger.warn({ reason: error.reason, status: error.status }, `live session read (remote execute) failed: ${error.message}; its devices count as not answered`);
  }
}
