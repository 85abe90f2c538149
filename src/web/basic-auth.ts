import { createHmac, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';

export interface BasicAuthVerifierOptions {
  /** Successful checks remembered (default 100). */
  readonly maxCached?: number;
  /** bcrypt checks allowed to wait for their turn; beyond that a request fails at once (default 32). */
  readonly maxQueued?: number;
  /** The bcrypt comparison (default bcryptjs); tests count calls through it. */
  readonly compare?: (password: string, hash: string) => Promise<boolean>;
}

/** bcrypt reads only the first 72 bytes; longer passwords are refused rather than silently cut. */
export const MAX_PASSWORD_BYTES = 72;

/**
 * Checks a user and password against bcrypt hashes, as exporter-toolkit does: one bcrypt check at
 * a time (it is CPU-bound), a real-cost check for unknown users so timing does not tell which users
 * exist, and a cache of successful checks so a scraper does not pay bcrypt's cost on every scrape.
 * The cache holds keyed hashes of the credentials, never the credentials.
 */
export class BasicAuthVerifier {
  private readonly cacheKey = randomBytes(32);
  private readonly verified = new Set<string>();
  private readonly maxCached: number;
  private readonly maxQueued: number;
  private readonly compare: (password: string, hash: string) => Promise<boolean>;
  /** A configured hash stands in for unknown users: same cost, and its result is ignored. */
  private readonly decoyHash: string | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(
    private readonly users: ReadonlyMap<string, string>,
    options: BasicAuthVerifierOptions = {},
  ) {
    this.maxCached = options.maxCached ?? 100;
    this.maxQueued = options.maxQueued ?? 32;
    this.compare = options.compare ?? bcrypt.compare;
    this.decoyHash = users.values().next().value;
  }

  /** Resolves true only for a configured user with the right password; never rejects. */
  async verify(user: string, password: string): Promise<boolean> {
    const hash = this.users.get(user);
    const comparedHash = hash ?? this.decoyHash;
    if (comparedHash === undefined || Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return false;
    const key = createHmac('sha256', this.cacheKey).update(JSON.stringify([user, comparedHash, password])).digest('base64');
    if (hash !== undefined && this.verified.has(key)) return true;
    if (this.waiting >= this.maxQueued) return false;
    const matches = await this.oneAtATime(() => this.compare(password, comparedHash));
    if (!matches || hash === undefined) return false;
    this.remember(key);
    return true;
  }

  private remember(key: string): void {
    this.verified.add(key);
    if (this.verified.size > this.maxCached) this.verified.delete(this.verified.values().next().value as string);
  }

  private async oneAtATime(check: () => Promise<boolean>): Promise<boolean> {
    this.waiting++;
    const safeCheck = () => check().catch(() => false);
    const run = this.tail.then(safeCheck, safeCheck);
    this.tail = run;
    try {
      return await run;
    } finally {
      this.waiting--;
    }
  }
}
