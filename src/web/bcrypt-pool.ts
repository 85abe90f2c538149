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

interface Job {
  readonly id: number;
  readonly password: string;
  readonly hash: string;
  readonly resolve: (result: CompareResult) => void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | undefined;
  idle: NodeJS.Timeout | undefined;
}

/** A worker with nothing to do for this long exits; the next check starts another (ms). */
const IDLE_MS = 30_000;

/**
 * bcrypt comparisons on worker threads, so a flood of logins never blocks the event loop that
 * serves scrapes. At most `size` comparisons run at once; the caller queues the rest (see
 * BasicAuthVerifier for the fair queue). Workers start on first use, exit after 30 s without
 * work, and never keep the process alive.
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

  /** Runs one comparison on a free worker; call only while `busy < size`. Never rejects. */
  compare(password: string, hash: string): Promise<CompareResult> {
    return new Promise((resolve) => {
      if (this.closed) return resolve({ matches: false, ms: 0 });
      const slot = this.slots.find((s) => !s.job) ?? this.spawn();
      if (!slot) return resolve({ matches: false, ms: 0 });
      const job: Job = { id: this.nextId++, password, hash, resolve };
      clearTimeout(slot.idle);
      slot.job = job;
      slot.worker.postMessage({ id: job.id, password, hash });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const slot of slots) {
      clearTimeout(slot.idle);
      slot.job?.resolve({ matches: false, ms: 0 });
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
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
      slot.idle = setTimeout(() => void worker.terminate(), IDLE_MS).unref();
      job.resolve({ matches: message.matches === true, ms: message.ms });
    });
    const fail = () => {
      // A worker that died (or idled out) answers "no match" for its job and is replaced on next use.
      clearTimeout(slot.idle);
      slot.job?.resolve({ matches: false, ms: 0 });
      slot.job = undefined;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
    };
    worker.on('error', fail);
    worker.on('exit', fail);
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
