import { createHmac, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BcryptPool, type CompareResult } from './bcrypt-pool.js';

/**
 * The answer to one login: `throttled` (this client has too many checks waiting: 429),
 * `overloaded` (too many checks wait in all: 503) and `unavailable` (the comparison itself failed,
 * e.g. its worker died twice: 503) say nothing about the credentials, so a correct login is never
 * told it is wrong because of a flood or a failure.
 */
export type VerifyOutcome = 'ok' | 'denied' | 'throttled' | 'overloaded' | 'unavailable';

export interface BasicAuthVerifierOptions {
  /** Successful checks remembered (default 100). */
  readonly maxCached?: number;
  /** bcrypt checks allowed to wait, all clients together; beyond that: `overloaded` (default 32). */
  readonly maxQueued?: number;
  /** bcrypt checks one client (remote address) may have waiting; beyond that: `throttled` (default 8). */
  readonly maxQueuedPerClient?: number;
  /** Worker threads doing the comparisons (default: one per core but one, at most four). */
  readonly pool?: BcryptPool;
  /** A comparison run on the main thread instead of the pool, one at a time; tests count calls through it. A rejection means "no answer" (`unavailable`), not "no match". */
  readonly compare?: (password: string, hash: string) => Promise<boolean>;
  /** How the equal-timing wait sleeps (tests). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The clock (ms) that times a main-thread compare (tests). */
  readonly now?: () => number;
}

/** bcrypt reads only the first 72 bytes; longer passwords are refused rather than silently cut. */
export const MAX_PASSWORD_BYTES = 72;

/** The equal-timing wait never exceeds this, whatever the configured costs (ms). */
export const MAX_TIMING_PAD_MS = 30_000;

interface Waiting {
  readonly password: string;
  readonly hash: string;
  /** `undefined`: no answer could be had. */
  readonly resolve: (result: CompareResult | undefined) => void;
}

/**
 * Checks a user and password against bcrypt hashes, as exporter-toolkit does, with these
 * guarantees:
 *
 * - bcrypt runs on worker threads, never on the event loop that serves scrapes.
 * - Waiting checks are served round-robin across clients (remote addresses), and each client
 *   may have only a few waiting: a flood from one address cannot starve a login from another.
 *   When the queue is full the answer is `throttled`/`overloaded`, never a wrong `denied`.
 * - Equal timing: an unknown user is checked against the costliest configured hash, and a check
 *   against a cheaper hash is followed by a wait scaled from its measured duration (bcrypt's work
 *   doubles with each cost step), so every check takes about as long as one at the highest cost.
 *   The check keeps its turn through that wait, so queued checks also wait as if every check
 *   cost the highest: under concurrency too, time tells neither the user nor its hash's cost.
 * - A cache of successful checks, so a scraper does not pay bcrypt's cost on every scrape. It
 *   holds keyed hashes of the credentials, never the credentials.
 */
export class BasicAuthVerifier {
  private readonly cacheKey = randomBytes(32);
  private readonly verified = new Set<string>();
  private readonly maxCached: number;
  private readonly maxQueued: number;
  private readonly maxQueuedPerClient: number;
  private readonly pool: BcryptPool | undefined;
  private readonly compare: ((password: string, hash: string) => Promise<boolean>) | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly parallel: number;
  private readonly costs = new Map<string, number>();
  private readonly maxCost: number;
  /** Stands in for unknown users: the costliest configured hash; its result is ignored. */
  private readonly decoyHash: string | undefined;
  /** Waiting checks by client, in round-robin order (a served client moves to the back). */
  private readonly queues = new Map<string, Waiting[]>();
  private waiting = 0;
  private running = 0;

  constructor(
    private readonly users: ReadonlyMap<string, string>,
    options: BasicAuthVerifierOptions = {},
  ) {
    this.maxCached = options.maxCached ?? 100;
    this.maxQueued = options.maxQueued ?? 32;
    this.maxQueuedPerClient = options.maxQueuedPerClient ?? 8;
    this.compare = options.compare;
    this.pool = this.compare ? undefined : (options.pool ?? new BcryptPool());
    this.parallel = this.pool?.size ?? 1;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? (() => performance.now());
    let maxCost = 0;
    for (const hash of users.values()) {
      const cost = bcryptCost(hash);
      this.costs.set(hash, cost);
      if (cost > maxCost || this.decoyHash === undefined) [maxCost, this.decoyHash] = [cost, hash];
    }
    this.maxCost = maxCost;
  }

  /** Whether the configured hashes differ in cost (timing is equalised by waiting). */
  get mixedCosts(): boolean {
    return new Set(this.costs.values()).size > 1;
  }

  /** The outcome for `user` and `password` from `client` (its remote address); never rejects. */
  async verify(user: string, password: string, client = ''): Promise<VerifyOutcome> {
    const hash = this.users.get(user);
    const comparedHash = hash ?? this.decoyHash;
    if (comparedHash === undefined || Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return 'denied';
    const key = createHmac('sha256', this.cacheKey).update(JSON.stringify([user, comparedHash, password])).digest('base64');
    if (hash !== undefined && this.verified.has(key)) return 'ok';
    if (this.waiting >= this.maxQueued) return 'overloaded';
    const queue = this.queues.get(client);
    if ((queue?.length ?? 0) >= this.maxQueuedPerClient) return 'throttled';

    const result = await new Promise<CompareResult | undefined>((resolve) => {
      const waiting = { password, hash: comparedHash, resolve };
      if (queue) queue.push(waiting);
      else this.queues.set(client, [waiting]);
      this.waiting++;
      this.pump();
    });
    if (!result) return 'unavailable';
    if (!result.matches || hash === undefined) return 'denied';
    this.remember(key);
    return 'ok';
  }

  /** Stops the worker threads (they never keep the process alive either way). */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  private pump(): void {
    while (this.running < this.parallel && this.waiting > 0) {
      const [client, queue] = this.queues.entries().next().value as [string, Waiting[]];
      const next = queue.shift()!;
      this.queues.delete(client);
      if (queue.length > 0) this.queues.set(client, queue); // to the back of the rotation
      this.waiting--;
      this.running++;
      void this.check(next.password, next.hash).then((result) => {
        this.running--;
        next.resolve(result);
        this.pump();
      });
    }
  }

  /**
   * One check, holding its turn through the equal-timing wait. Were the turn given back before
   * the wait, cheap-hash checks would free their worker early and, under concurrency, a batch of
   * them would finish sooner than a batch for a costly-hash or unknown user.
   */
  private async check(password: string, hash: string): Promise<CompareResult | undefined> {
    const result = await this.run(password, hash);
    if (result) await this.padToMaxCost(hash, result.ms).catch(() => undefined);
    return result;
  }

  /** The comparison's result, or undefined when it failed (the pool's worker died twice, the compare threw). */
  private async run(password: string, hash: string): Promise<CompareResult | undefined> {
    try {
      if (!this.compare) return await this.pool!.compare(password, hash);
      const started = this.now();
      const matches = await this.compare(password, hash);
      return { matches, ms: this.now() - started };
    } catch {
      return undefined;
    }
  }

  /** A check against a cheaper hash waits as long as the costliest one would have worked. */
  private async padToMaxCost(hash: string, ms: number): Promise<void> {
    const steps = this.maxCost - (this.costs.get(hash) ?? this.maxCost);
    if (steps <= 0 || !(ms > 0)) return;
    await this.sleep(Math.min(MAX_TIMING_PAD_MS, ms * (2 ** steps - 1)));
  }

  private remember(key: string): void {
    this.verified.add(key);
    if (this.verified.size > this.maxCached) this.verified.delete(this.verified.values().next().value as string);
  }
}

/** The cost of a `$2?$NN$…` hash (validated by the web config parser). */
function bcryptCost(hash: string): number {
  const cost = Number(/^\$2[aby]?\$(\d\d)\$/.exec(hash)?.[1]);
  return Number.isInteger(cost) ? cost : 0;
}
