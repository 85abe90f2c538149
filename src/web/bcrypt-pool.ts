import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** One bcrypt comparison: whether it matched and how long the work took (ms, inside the worker). */
export interface CompareResult {
  readonly matches: boolean;
  readonly ms: number;
}

/**
 * The worker's whole program. It is evaluated as CommonJS and requires bcryptjs by the path the
 * main thread resolved, so it works the same from dist/ and from the TypeScript sources.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const bcrypt = require(workerData.bcryptjs);
parentPort.on('message', ({ id, password, hash }) => {
  const started = performance.now();
  let matches = false;
  try { matches = bcrypt.compareSync(password, hash); } catch { matches = false; }
  parentPort.postMessage({ id, matches, ms: performance.now() - started });
});
`;

/**
 * A comparison that could not be made: its worker died (crashed, was terminated) on two workers in
 * a row, or the pool is closed. It says nothing about the password, so it must never become a 401.
 */
export class BcryptCheckError extends Error {
  override readonly name = 'BcryptCheckError';
}

interface Job {
  readonly id: number;
  readonly password: string;
  readonly hash: string;
  readonly resolve: (result: CompareResult) => void;
  readonly reject: (error: BcryptCheckError) => void;
  /** Workers this job was given to so far. */
  attempts: number;
}

interface Slot {
  readonly worker: Worker;
  job: Job | undefined;
  idle: NodeJS.Timeout | undefined;
}

/** A worker with nothing to do for this long exits; the next check starts another (ms). */
const IDLE_MS = 30_000;

/** A job whose worker dies is given to one more worker; if that one dies too, the job fails. */
const MAX_ATTEMPTS = 2;

/**
 * bcrypt comparisons on worker threads, so a flood of logins never blocks the event loop that
 * serves scrapes. At most `size` comparisons run at once; the caller queues the rest (see
 * BasicAuthVerifier for the fair queue). Workers start on first use, exit after 30 s without
 * work, and never keep the process alive. A worker that exits, for whatever reason, leaves the
 * pool at once, so no check is ever given to a dying worker; a check whose worker dies under it is
 * retried once on another.
 */
export class BcryptPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;

  constructor(size: number = defaultPoolSize()) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`bcrypt pool size must be a positive integer, got ${size}`);
    this.size = size;
  }

  /** Comparisons running now. */
  get busy(): number {
    return this.slots.filter((s) => s.job).length;
  }

  /** The live workers (diagnostics and tests). */
  get workers(): readonly Worker[] {
    return this.slots.map((s) => s.worker);
  }

  /**
   * Runs one comparison on a free worker; call only while `busy < size`. Rejects only with
   * BcryptCheckError (no answer could be had), never for a wrong password.
   */
  compare(password: string, hash: string): Promise<CompareResult> {
    return new Promise((resolve, reject) => this.dispatch({ id: this.nextId++, password, hash, resolve, reject, attempts: 0 }));
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const slot of slots) {
      clearTimeout(slot.idle);
      const job = slot.job;
      slot.job = undefined;
      job?.reject(new BcryptCheckError('the bcrypt pool closed during the check'));
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private dispatch(job: Job): void {
    if (this.closed) return job.reject(new BcryptCheckError('the bcrypt pool is closed'));
    let slot: Slot | undefined;
    try {
      slot = this.slots.find((s) => !s.job) ?? this.spawn();
    } catch (error) {
      return job.reject(new BcryptCheckError('cannot start a bcrypt worker', { cause: error }));
    }
    if (!slot) return job.reject(new BcryptCheckError('no free bcrypt worker'));
    job.attempts++;
    clearTimeout(slot.idle);
    slot.idle = undefined;
    slot.job = job;
    slot.worker.postMessage({ id: job.id, password: job.password, hash: job.hash });
  }

  /** Takes the slot out of the pool (so nothing new is given to it) and stops its worker. */
  private retire(slot: Slot): void {
    clearTimeout(slot.idle);
    slot.idle = undefined;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.worker.terminate();
  }

  private spawn(): Slot | undefined {
    if (this.slots.length >= this.size) return undefined;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptjs: bcryptjsPath() } });
    worker.unref();
    const slot: Slot = { worker, job: undefined, idle: undefined };
    worker.on('message', (message: { id: number; matches: boolean; ms: number }) => {
      const job = slot.job;
      if (!job || job.id !== message.id) return;
      slot.job = undefined;
      slot.idle = setTimeout(() => this.retire(slot), IDLE_MS).unref();
      job.resolve({ matches: message.matches === true, ms: message.ms });
    });
    const fail = (error?: unknown) => {
      // Crashed, terminated, or exited: out of the pool, and its job (if any) to another worker once.
      const job = slot.job;
      slot.job = undefined;
      this.retire(slot);
      if (!job) return;
      if (job.attempts < MAX_ATTEMPTS) this.dispatch(job);
      else job.reject(new BcryptCheckError(`the bcrypt worker died during the check, ${job.attempts} times`, { cause: error }));
    };
    worker.on('error', fail);
    worker.on('exit', () => fail());
    this.slots.push(slot);
    return slot;
  }
}

/** Leave a core for the event loop: one worker on a 2-core machine, at most four. */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

let resolvedBcryptjs: string | undefined;
function bcryptjsPath(): string {
  resolvedBcryptjs ??= createRequire(import.meta.url).resolve('bcryptjs');
  return resolvedBcryptjs;
}
