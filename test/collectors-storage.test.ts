import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStorage, STORAGE_KEYS } from '../src/collectors/storage.js';

const T = 1_796_112_300;
const row = (key: string, timestamp: unknown, value: unknown) => ({ key, namespace: 'core', timestamp, value });

/** The seven keys at one timestamp, with the figures measured on this machine (5.1.0). */
const sample = (at: number, scale = 1) => [
  row('fs_device_available', at, 84_324_462_592 * scale),
  row('fs_device_total', at, 270_553_174_016),
  row('fs_usage_store', at, 255_232 * scale),
  row('fs_usage_attachment', at, 160_382),
  row('fs_usage_replication', at, 4_102),
  row('fs_usage_auth', at, 4_215),
  row('fs_usage_total', at, 1_439_097 * scale),
];

describe('parseStorage', () => {
  it('reads the seven figures of one sample', () => {
    const r = parseStorage(sample(T - 1), T);
    expect(Object.fromEntries(r.bytes)).toEqual({
      filesystem_avail: 84_324_462_592,
      filesystem_size: 270_553_174_016,
      store: 255_232,
      attachments: 160_382,
      replication: 4_102,
      auth: 4_215,
      total: 1_439_097,
    });
    expect(r.measuredAt).toBe(T - 1);
    expect(r.unusable).toBe(0);
    expect(r.readAt).toBe(T);
  });

  it('takes the latest sample of each key, in whatever order the rows come', () => {
    const rows = [...sample(T - 3, 3), ...sample(T - 1, 1), ...sample(T - 2, 2)];
    const r = parseStorage(rows, T);
    expect(r.bytes.get('store')).toBe(255_232);
    expect(r.bytes.get('filesystem_avail')).toBe(84_324_462_592);
    expect(r.measuredAt).toBe(T - 1);
  });

  it('says when the oldest figure served was measured, when keys were sampled at different times', () => {
    const rows = sample(T - 1).map((r) => (r.key === 'fs_usage_auth' ? { ...r, timestamp: T - 9 } : r));
    expect(parseStorage(rows, T).measuredAt).toBe(T - 9);
  });

  it('reads timestamps in milliseconds too, and values as bigints', () => {
    const r = parseStorage([row('fs_usage_store', (T - 1) * 1000, 10n), row('fs_device_total', `${T - 2}`, 20)], T);
    expect(r.bytes.get('store')).toBe(10);
    expect(r.bytes.get('filesystem_size')).toBe(20);
    expect(r.measuredAt).toBe(T - 2);
  });

  it('leaves a figure out when its latest sample is unusable, never falling back to an older one', () => {
    const rows = [...sample(T - 2), row('fs_usage_store', T - 1, -5), row('fs_usage_total', T - 1, 1.5), row('fs_device_total', T - 1, 'lots')];
    const r = parseStorage(rows, T);
    expect(r.bytes.has('store')).toBe(false);
    expect(r.bytes.has('total')).toBe(false);
    expect(r.bytes.has('filesystem_size')).toBe(false);
    expect(r.bytes.get('auth')).toBe(4_215);
    expect(r.unusable).toBe(3);
  });

  it('ignores rows it cannot order or does not know, and counts missing figures', () => {
    const rows = [row('fs_usage_store', null, 1), row('fs_usage_store', 'yesterday', 1), row('peer_key', T, 'pk…'), null, 'x', { key: 'fs_usage_auth' }, row('fs_usage_auth', T, 7)];
    const r = parseStorage(rows, T);
    expect(Object.fromEntries(r.bytes)).toEqual({ auth: 7 });
    expect(r.unusable).toBe(6);
  });

  it('has nothing, and says so, for no rows', () => {
    const r = parseStorage([], T);
    expect(r.bytes.size).toBe(0);
    expect(r.measuredAt).toBeUndefined();
    expect(r.unusable).toBe(STORAGE_KEYS.size);
  });

  it('never throws, and every figure it gives is a non-negative integer', () => {
    const anyValue = fc.oneof(fc.anything(), fc.bigInt(), fc.double(), fc.constantFrom(...STORAGE_KEYS.keys(), '__proto__', 'constructor', null, -1, 2 ** 64));
    const rowLike = fc.record({ key: fc.oneof(fc.constantFrom(...STORAGE_KEYS.keys()), anyValue), timestamp: fc.oneof(fc.integer({ min: T - 100, max: T + 100 }), anyValue), value: fc.oneof(fc.nat(), anyValue) }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.array(fc.oneof(rowLike, fc.anything()), { maxLength: 30 }), (rows) => {
        const r = parseStorage(rows, T);
        expect(r.bytes.size + r.unusable).toBe(STORAGE_KEYS.size);
        for (const v of r.bytes.values()) expect(Number.isInteger(v) && v >= 0).toBe(true);
        if (r.measuredAt !== undefined) expect(Number.isFinite(r.measuredAt)).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });
});
