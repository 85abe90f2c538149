import type { Worker } from 'node:worker_threads';
import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BcryptCheckError, BcryptPool } from '../src/web/bcrypt-pool.js';

const PASSWORD = 'the-right-password';
const HASH = bcrypt.hashSync(PASSWORD, 4);

/** Resolves when `worker` has exited (events.once would reject on the crash's 'error'). */
const exit = (worker: Worker) => new Promise<void>((resolve) => worker.once('exit', () => resolve()));

/** Makes `worker` throw on its next message: an uncaught error inside it, as a real crash. */
const crash = (worker: Worker) => worker.postMessage(null);

describe('BcryptPool when a worker goes away', () => {
  const pools: BcryptPool[] = [];
  const pool = (size = 1) => {
    const p = new BcryptPool(size);
    pools.push(p);
    return p;
  };
  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });

  it('does not reuse a worker that idled out: the right password still matches, and the pool shrinks to none', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const p = pool();
    expect((await p.compare(PASSWORD, HASH)).matches).toBe(true);
    const [idle] = p.workers;
    const exited = exit(idle!);
    vi.advanceTimersByTime(30_000); // the idle timeout: the worker is told to exit
    // Asked before the dying worker has exited: before, it took the job and answered "no match".
    const answer = p.compare(PASSWORD, HASH);
    expect((await answer).matches).toBe(true);
    await exited;
    expect(p.workers).toHaveLength(1);
    expect(p.workers[0]).not.toBe(idle);
    vi.advanceTimersByTime(30_000);
    expect(p.workers).toEqual([]);
  });

  it('retries a check whose worker crashed on another worker, and still says no to a wrong password', async () => {
    const p = pool();
    expect((await p.compare('wrong', HASH)).matches).toBe(false);
    const [first] = p.workers;
    const exited = exit(first!);
    crash(first!); // queued ahead of the next job: the worker dies before it gets to it
    expect((await p.compare(PASSWORD, HASH)).matches).toBe(true);
    await exited;
    expect(p.workers).toHaveLength(1);
    expect(p.workers[0]).not.toBe(first);
    crash(p.workers[0]!);
    expect((await p.compare('wrong', HASH)).matches).toBe(false);
    expect(p.workers).toHaveLength(1);
  });

  it('retries a check whose worker was terminated while it worked', async () => {
    const p = pool();
    const answer = p.compare(PASSWORD, HASH); // starts a worker; it cannot have answered yet
    const [first] = p.workers;
    void first!.terminate();
    expect((await answer).matches).toBe(true);
    expect(p.workers).toHaveLength(1);
    expect(p.workers[0]).not.toBe(first);
  });

  it('rejects with BcryptCheckError, never "no match", when the retry fails too', async () => {
    const p = pool();
    expect((await p.compare(PASSWORD, HASH)).matches).toBe(true);
    const [first] = p.workers;
    // The pool's own listener runs first and moves the job to a fresh worker; kill that one too.
    first!.once('error', () => void p.workers[0]?.terminate());
    crash(first!);
    const answer = p.compare(PASSWORD, HASH);
    await expect(answer).rejects.toBeInstanceOf(BcryptCheckError);
    // Nothing left behind: the next check starts a healthy worker.
    await vi.waitFor(() => expect(p.workers).toEqual([]));
    expect((await p.compare(PASSWORD, HASH)).matches).toBe(true);
    expect(p.workers).toHaveLength(1);
  });

  it('answers checks still running at close with BcryptCheckError, and any after it', async () => {
    const p = pool();
    const running = p.compare(PASSWORD, HASH); // its worker has not even started
    const refused = expect(running).rejects.toBeInstanceOf(BcryptCheckError);
    await p.close();
    await refused;
    await expect(p.compare(PASSWORD, HASH)).rejects.toBeInstanceOf(BcryptCheckError);
    expect(p.workers).toEqual([]);
  });
});
