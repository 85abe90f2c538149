import { describe, expect, it } from 'vitest';
import { CommitTracker } from '../src/state/commit-tracker.js';

const acks = (tracker: CommitTracker, cloud: bigint, at: number) => {
  const seen: number[] = [];
  tracker.ack(cloud, at, (l) => seen.push(l));
  return seen;
};

describe('CommitTracker', () => {
  it('reports each commit once, when the cloud first covers it, with its wait', () => {
    const t = new CommitTracker(100);
    t.track(5n, 100);
    t.track(7n, 102);
    t.track(9n, 104);
    expect(t.maxTracked).toBe(9n);
    expect(t.unacked).toBe(3);
    expect(t.oldestUnackedAt).toBe(100);
    expect(acks(t, 7n, 110)).toEqual([10, 8]);
    expect(acks(t, 7n, 120)).toEqual([]);
    expect(t.unacked).toBe(1);
    expect(t.oldestUnackedAt).toBe(104);
    expect(acks(t, 100n, 105)).toEqual([1]);
    expect(t.unacked).toBe(0);
    expect(t.oldestUnackedAt).toBeUndefined();
  });

  it('drops the oldest past its bound and counts them', () => {
    const t = new CommitTracker(2);
    for (const [id, at] of [[1n, 1], [2n, 2], [3n, 3], [4n, 4]] as const) t.track(id, at);
    expect(t.unacked).toBe(2);
    expect(t.dropped).toBe(2);
    expect(t.oldestUnackedAt).toBe(3);
  });

  it('sorts late arrivals in, ignores duplicates and commits the cloud already has', () => {
    const t = new CommitTracker(10);
    t.track(10n, 1);
    t.track(8n, 2);
    t.track(10n, 3);
    expect(t.unacked).toBe(2);
    expect(acks(t, 9n, 5)).toEqual([3]);
    t.track(9n, 6);
    expect(t.unacked).toBe(1);
    expect(t.maxTracked).toBe(10n);
  });

  it('never reports a negative wait and keeps working across compaction', () => {
    const t = new CommitTracker(5000);
    for (let i = 1; i <= 4000; i++) t.track(BigInt(i), 50);
    expect(acks(t, 3000n, 40).every((l) => l === 0)).toBe(true);
    expect(t.unacked).toBe(1000);
    t.track(4001n, 60);
    expect(acks(t, 4001n, 70)).toHaveLength(1001);
  });

  it('rejects a nonsensical bound', () => {
    expect(() => new CommitTracker(0)).toThrow(/positive integer/);
  });
});
