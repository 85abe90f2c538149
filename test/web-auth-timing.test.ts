import { describe, expect, it } from 'vitest';
import { BasicAuthVerifier } from '../src/web/basic-auth.js';

/**
 * Virtual time: a sleep resolves only when the test moves the clock to it, so the totals below are
 * exact whatever the machine's load (no wall-clock window at all).
 */
function virtualTime() {
  let now = 0;
  const timers: Array<{ at: number; resolve: () => void }> = [];
  const sleep = (ms: number) => new Promise<void>((resolve) => void timers.push({ at: now + ms, resolve }));
  /** Lets every promise chain settle, then jumps to the earliest timer; until `done` says so. */
  async function runUntil(done: () => boolean): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (done()) return;
      timers.sort((a, b) => a.at - b.at);
      const next = timers.shift();
      if (!next) throw new Error('nothing left to wait for, and not done');
      now = next.at;
      next.resolve();
    }
  }
  return { now: () => now, sleep, runUntil };
}

/** A hash string of `cost` (the verifier reads only the cost; the compare below is fake). */
const fakeHash = (cost: number) => `$2b$${String(cost).padStart(2, '0')}$${'.'.repeat(53)}`;
const costOf = (hash: string) => Number(hash.slice(4, 6));

/** alice's hash is three cost steps cheaper than bob's: bcrypt does 8 times less work for her. */
const users = new Map([
  ['alice', fakeHash(4)],
  ['bob', fakeHash(7)],
]);
/** Virtual ms a fake comparison at cost 4 takes; each cost step doubles it, as in bcrypt. */
const UNIT = 10;
const N = 8;

/** N concurrent wrong-password checks for `user`, each from its own address: when the last is answered. */
async function batchTotal(user: string): Promise<number> {
  const time = virtualTime();
  const verifier = new BasicAuthVerifier(users, {
    compare: async (password, hash) => {
      await time.sleep(UNIT * 2 ** (costOf(hash) - 4));
      return password === 'right';
    },
    sleep: time.sleep,
    now: time.now,
    maxQueuedPerClient: N,
  });
  const outcomes: string[] = [];
  for (let i = 0; i < N; i++) void verifier.verify(user, `wrong-${i}`, `10.0.0.${i}`).then((o) => outcomes.push(o));
  await time.runUntil(() => outcomes.length === N);
  expect(outcomes).toEqual(Array(N).fill('denied'));
  return time.now();
}

describe('equal timing under concurrency', () => {
  it('N concurrent checks take as long for a cheap-hash user, a costly-hash user and an unknown user', async () => {
    const totals = { alice: await batchTotal('alice'), bob: await batchTotal('bob'), ghost: await batchTotal('ghost') };
    // Every check holds its turn for as long as one at the highest cost: N × 80 virtual ms each.
    // Before, alice's checks gave their turn back before the equal-timing wait, so her N took
    // 8 × 10 + 70 = 150 against bob's and the unknown user's 640: her cheap hash showed.
    expect(totals.bob).toBe(N * UNIT * 8);
    for (const [user, total] of Object.entries(totals)) {
      expect(total / totals.bob, `${user}: ${total} virtual ms against bob's ${totals.bob}`).toBeGreaterThan(0.8);
      expect(total / totals.bob, `${user}: ${total} virtual ms against bob's ${totals.bob}`).toBeLessThan(1.25);
    }
  });
});
