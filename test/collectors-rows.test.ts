import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommitId, parseRow, parseRows, parseStatus, parseTimestamp } from '../src/collectors/rows.js';
import { row } from './helpers/fake-source.js';

describe('parseStatus', () => {
  it.each([
    ['Connected', 'connected'],
    ['Not Connected', 'not_connected'],
    ['Disabled', 'disabled'],
    ['connected', 'connected'],
    ['NOT_CONNECTED', 'not_connected'],
    ['Connecting', 'unknown'],
    ['', 'unknown'],
    [null, 'unknown'],
    [1, 'unknown'],
    [undefined, 'unknown'],
  ])('%s → %s', (input, expected) => {
    expect(parseStatus(input)).toBe(expected);
  });
});

describe('parseCommitId', () => {
  it.each([
    [5, 5n],
    [0, 0n],
    [5n, 5n],
    ['18446744073709551615', 18446744073709551615n],
    [null, undefined],
    [undefined, undefined],
    [-1, null],
    [1.5, null],
    [Number.NaN, null],
    [Infinity, null],
    [2 ** 53, null],
    [-3n, null],
    ['12a', null],
    ['', null],
    [{}, null],
    [true, null],
  ])('%s → %s', (input, expected) => {
    expect(parseCommitId(input)).toBe(expected);
  });
});

describe('parseTimestamp', () => {
  it.each([
    [1_700_000_000, 1_700_000_000],
    [1_700_000_000_123, 1_700_000_000.123],
    [1_700_000_000.5, 1_700_000_000.5],
    [100_000_000_000, 100_000_000_000],
    [100_000_000_001, 100_000_000.001],
    [1_700_000_000n, 1_700_000_000],
    [null, undefined],
    [undefined, undefined],
    [0, undefined],
    [-5, undefined],
    [Number.NaN, null],
    [Infinity, null],
    ['1700000000', null],
    [{}, null],
  ])('%s → %s', (input, expected) => {
    expect(parseTimestamp(input)).toBe(expected);
  });
});

describe('parseRow', () => {
  it('reads a row shaped as Ditto documents it', () => {
    const result = parseRow(row('peerA', { cloud: true, status: 'Connected', synced: 42, lastUpdate: 1_700_000_000_000 }));
    expect(result).toEqual({
      ok: true,
      row: { id: 'peerA', type: 'cloud', status: 'connected', syncedCommitId: 42n, lastUpdate: 1_700_000_000 },
    });
  });

  it('keeps a row whose commit id and time are unknown', () => {
    expect(parseRow(row('p', { synced: null, lastUpdate: null }))).toEqual({
      ok: true,
      row: { id: 'p', type: 'device', status: 'connected', syncedCommitId: undefined, lastUpdate: undefined },
    });
  });

  it.each([
    ['a string', 'x', 'not_an_object'],
    ['null', null, 'not_an_object'],
    ['an array', [], 'not_an_object'],
    ['no _id', { is_ditto_server: false, documents: {} }, 'missing_id'],
    ['a numeric _id', { ...row('x'), _id: 7 }, 'missing_id'],
    ['an empty _id', { ...row('x'), _id: '' }, 'missing_id'],
    ['a huge _id', { ...row('x'), _id: 'x'.repeat(600) }, 'bad_id'],
    ['no is_ditto_server', { _id: 'x', documents: {} }, 'bad_is_ditto_server'],
    ['is_ditto_server as a string', { ...row('x'), is_ditto_server: 'true' }, 'bad_is_ditto_server'],
    ['no documents', { _id: 'x', is_ditto_server: false }, 'bad_documents'],
    ['documents as an array', { ...row('x'), documents: [] }, 'bad_documents'],
    ['a negative commit id', row('x', { synced: -1 }), 'bad_commit_id'],
    ['a fractional commit id', row('x', { synced: 2.5 }), 'bad_commit_id'],
    ['a commit id as text', row('x', { synced: 'ten' }), 'bad_commit_id'],
    ['a timestamp as text', row('x', { lastUpdate: 'yesterday' }), 'bad_timestamp'],
    ['a NaN timestamp', row('x', { lastUpdate: Number.NaN }), 'bad_timestamp'],
  ])('rejects %s', (_name, input, reason) => {
    expect(parseRow(input)).toEqual({ ok: false, reason });
  });
});

describe('parseRows', () => {
  it('keeps the good rows, counts the rest by reason and keeps the first of duplicate ids', () => {
    const parsed = parseRows([row('a', { synced: 1 }), { _id: 3 }, row('a', { synced: 9 }), row('b'), 'junk', { _id: 4 }]);
    expect(parsed.rows.map((r) => [r.id, r.syncedCommitId])).toEqual([
      ['a', 1n],
      ['b', undefined],
    ]);
    expect(Object.fromEntries(parsed.rejected)).toEqual({ missing_id: 2, duplicate_id: 1, not_an_object: 1 });
  });
});

describe('properties', () => {
  const anyValue = fc.oneof(
    fc.anything(),
    fc.bigInt(),
    fc.double(),
    fc.constantFrom('Connected', 'Not Connected', 'Disabled', null, undefined, -1, 2 ** 64),
  );
  const rowLike = fc.record(
    {
      _id: fc.oneof(fc.string(), anyValue),
      is_ditto_server: fc.oneof(fc.boolean(), anyValue),
      documents: fc.oneof(
        fc.record(
          {
            sync_session_status: anyValue,
            synced_up_to_local_commit_id: fc.oneof(fc.nat(), fc.bigInt(), anyValue),
            last_update_received_time: fc.oneof(fc.double(), fc.nat(), anyValue),
          },
          { requiredKeys: [] },
        ),
        anyValue,
      ),
    },
    { requiredKeys: [] },
  );

  it('never throws, and every accepted row has usable values', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(rowLike, fc.anything()), { maxLength: 20 }), (rows) => {
        const parsed = parseRows(rows);
        let rejected = 0;
        for (const n of parsed.rejected.values()) rejected += n;
        expect(parsed.rows.length + rejected).toBe(rows.length);
        for (const r of parsed.rows) {
          expect(typeof r.id).toBe('string');
          if (r.syncedCommitId !== undefined) expect(r.syncedCommitId >= 0n).toBe(true);
          if (r.lastUpdate !== undefined) {
            expect(Number.isFinite(r.lastUpdate)).toBe(true);
            expect(r.lastUpdate).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 10_000 },
    );
  });
});
