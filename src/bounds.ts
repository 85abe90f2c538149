/**
 * The accepted range of every numeric setting, shared by the CLI flags (config.ts turns them into
 * value parsers) and the library options (checked with checkOption, which throws a RangeError
 * naming the option). Durations a timer waits for stay within what Node's timers hold; counts
 * stay within what memory holds. No imports: the library's main entry loads this.
 */

/** Node timers hold at most 2^31-1 ms; a longer delay silently becomes 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
export const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

export interface OptionRange {
  readonly min: number;
  readonly max: number;
  /** Only whole numbers. */
  readonly integer?: boolean;
  /** A timer waits this long (in `unit`): the range must stay within MAX_TIMER_MS. */
  readonly timer?: boolean;
  readonly unit?: 's' | 'ms';
}

const range = <R extends OptionRange>(r: R): R => {
  const ms = r.unit === 's' ? r.max * 1000 : r.max;
  if (r.timer && ms > MAX_TIMER_MS) throw new RangeError(`a timer cannot wait ${r.max} ${r.unit ?? ''} (at most ${MAX_TIMER_MS} ms)`);
  if (!(Number.isFinite(r.min) && Number.isFinite(r.max) && r.min <= r.max)) throw new RangeError(`bad range ${r.min}..${r.max}`);
  return Object.freeze(r);
};

const seconds = (min: number, max: number, timer = false) => range({ min, max, unit: 's', timer });
const count = (min: number, max: number) => range({ min, max, integer: true });

export const RANGES = Object.freeze({
  // About 1 kB of state and 1 kB of body per peer: 100,000 peers is a 100 MB body per scrape.
  maxPeers: count(1, 100_000),
  // Under 100 bytes per tracked commit: a million is under 100 MB.
  maxTrackedCommits: count(1, 1_000_000),
  maxSnapshotAge: seconds(0.1, 86_400),
  refreshTimeout: seconds(0.1, 600, true),
  stallAfter: seconds(1, 604_800),
  otlpInterval: seconds(0.1, 86_400, true),
  shutdownGrace: seconds(0, 3_600, true),
  maxConnections: count(1, 65_536),
  maxConcurrentScrapes: count(1, 10_000),
  // Render and send of one /metrics response; Prometheus' own scrape timeout is at most its interval.
  scrapeSendTimeout: seconds(1, 3_600, true),
  // V8 strings hold at most 2^29-24 characters; a line is decoded into one.
  replayMaxLineBytes: count(1, 256 * 1024 * 1024),
  simulateDevices: count(0, 100_000),
  simulateCloudServers: count(0, 1_000),
  simulateWriteRate: range({ min: 0, max: 1_000 }),
  simulateChurn: range({ min: 0, max: 1 }),
  // SimulateSource refuses ticks under 10 ms; a day is plenty for a demo.
  simulateTickMs: range({ min: 10, max: 86_400_000, integer: true, unit: 'ms', timer: true }),
  simulateOutage: seconds(0, 31_536_000),
  simulateSeed: count(0, 2 ** 32 - 1),
  // The beacon is a write into the store: from ten times a second (tests) to once a day.
  publishInterval: seconds(0.1, 86_400, true),
  // Library only: Ditto's engine exporter answers on loopback; a read has up to this long.
  engineTimeout: seconds(0.1, 600, true),
  // Library only: the engine body is read into one string.
  engineMaxBytes: count(1, 256 * 1024 * 1024),
  fleetInterval: seconds(0.1, 86_400, true),
  // One page's JSON is parsed in one go (about 25 ms per 500 documents here).
  fleetPageSize: count(1, 10_000),
  fleetRequestTimeout: seconds(0.1, 600, true),
  fleetRetries: count(0, 10),
  // About 1.5 kB of heap and 1.2 kB of body per device with series.
  maxDevices: count(1, 1_000_000),
  shard: count(0, 9_999),
  totalShards: count(1, 10_000),
  fleetLiveTimeout: seconds(0.1, 600, true),
});

const show = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 6 });

/** `value` when it is within `r`; otherwise a RangeError naming the option, its range and the value. */
export function checkOption(value: number, name: string, r: OptionRange): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= r.min && value <= r.max && (!r.integer || Number.isInteger(value))) return value;
  const what = r.integer ? 'an integer' : 'a number';
  const unit = r.unit === 's' ? ' (seconds)' : r.unit === 'ms' ? ' (milliseconds)' : '';
  throw new RangeError(`${name} must be ${what} from ${show(r.min)} to ${show(r.max)}${unit}, got ${String(value)}`);
}
