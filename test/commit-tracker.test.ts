import { describe, expect, it } from 'vitest';
import { CommitTracker } from '../src/state/commit-tracker.js';

const acks = (tracker: CommitTracker, cloud: bigint, at: number) => {
  const seen: number[] = [];
  tracker.ack(cloud, at, (l) => seen.push(l));
  return seen;
};
const noObserve = () => {
  throw new Error('nothing should be observed');
};
const track = (t: CommitTracker, id: bigint, at: number, now = at) => {
  const seen: number[] = [];
  t.track(id, at, now, (l) => seen.push(l));
  return seen;
};

describe('CommitTracker', () => {
  it('reports each commit once, when the cloud first covers it, with its wait', () => {
    const t = new CommitTracker(100);
    track(t, 5n, 100);
    track(t, 7n, 102);
    track(t, 9n, 104);
    expect(t.maxTracked).toBe(9n);
    expect(t.unacked).toBe(3);
    expect(t.tracked).toBe(3);
    expect(t.oldestUnackedAt).toBe(100);
    expect(acks(t, 7n, 110)).toEqual([10, 8]);
    expect(acks(t, 7n, 120)).toEqual([]);
    expect(t.unacked).toBe(1);
    expect(t.oldestUnackedAt).toBe(104);
    expect(acks(t, 100n, 105)).toEqual([1]);
    expect(t.unacked).toBe(0);
    expect(t.oldestUnackedAt).toBeUndefined();
  });

  it('drops the lowest ids past its bound and counts them', () => {
    const t = new CommitTracker(2);
    for (const [id, at] of [[1n, 1], [2n, 2], [3n, 3], [4n, 4]] as const) track(t, id, at);
    expect(t.unacked).toBe(2);
    expect(t.dropped).toBe(2);
    expect(t.oldestUnackedAt).toBe(3);
  });

  it('sorts late arrivals in and ignores a repeat of a waiting id', () => {
    const t = new CommitTracker(10);
    track(t, 10n, 1);
    track(t, 8n, 2);
    track(t, 10n, 3);
    expect(t.unacked).toBe(2);
    expect(t.tracked).toBe(2);
    expect(acks(t, 9n, 5)).toEqual([3]);
    expect(t.maxTracked).toBe(10n);
  });

  it('observes a commit the cloud already has when it is tracked, with the wait up to now', () => {
    const t = new CommitTracker(10);
    expect(acks(t, 50n, 100)).toEqual([]);
    // Made at 90, tracked at 100, and the cloud reported 50 before: it waited at most 10 s.
    expect(track(t, 40n, 90, 100)).toEqual([10]);
    // Made "after" now (clock skew): never a negative wait.
    expect(track(t, 41n, 105, 100)).toEqual([0]);
    expect(t.unacked).toBe(0);
    expect(t.tracked).toBe(2);
  });

  it('finds the oldest waiting commit by time, not by id', () => {
    const t = new CommitTracker(10);
    t.track(5n, 200, 200, noObserve);
    t.track(6n, 100, 200, noObserve);
    expect(t.oldestUnackedAt).toBe(100);
    expect(acks(t, 6n, 300)).toEqual([100, 200]);
  });

  it('never reports a negative wait and keeps its memory bounded while it works', () => {
    const t = new CommitTracker(5000);
    for (let i = 1; i <= 4000; i++) track(t, BigInt(i), 50);
    expect(acks(t, 3000n, 40).every((l) => l === 0)).toBe(true);
    expect(t.unacked).toBe(1000);
    track(t, 4001n, 60);
    expect(acks(t, 4001n, 70)).toHaveLength(1001);
    expect(t.oldestUnackedAt).toBeUndefined();
  });

  it('tracks 100,000 ids in reverse order and acks them in one pass, each once', () => {
    const t = new CommitTracker(1_000_000);
    for (let i = 100_000; i >= 1; i--) t.track(BigInt(i * 3), i, 100_001, noObserve);
    expect(t.unacked).toBe(100_000);
    expect(t.oldestUnackedAt).toBe(1);
    const seen = acks(t, 150_000n, 200_000);
    expect(seen).toHaveLength(50_000);
    // Acked lowest id first: the wait of id 3·k is 200,000 − k.
    expect(seen[0]).toBe(199_999);
    expect(seen[49_999]).toBe(150_000);
    expect(t.oldestUnackedAt).toBe(50_001);
  });

  it('rejects a nonsensical bound', () => {
    expect(() => new CommitTracker(0)).toThrow(/positive integer/);
  });
});
