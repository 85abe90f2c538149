import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommitId, parseRow, parseRows, parseStatus } from '../src/collectors/rows.js';
import { readTime, toUnixSeconds } from '../src/collectors/timestamps.js';
import { ROW_FIELDS, ROW_UNUSABLE_REASONS } from '../src/model.js';
import { row } from './helpers/fake-source.js';

const CLOCK = 1_700_000_000;

describe('parseStatus', () => {
  it.each([
    ['Connected', 'connected'],
    ['Not Connected', 'not_connected'],
    ['Disabled', 'disabled'],
    ['connected', 'connected'],
    ['NOT_CONNECTED', 'not_connected'],
    // Ditto's Flutter tools accept a numeric status.
    [1, 'connected'],
    [0, 'not_connected'],
    // A string Ditto may add later: usable, and shown as `unknown`.
    ['Connecting', 'unknown'],
    ['', 'unknown'],
    // Names of Object.prototype must never be looked up on a prototype.
    ['constructor', 'unknown'],
    ['__proto__', 'unknown'],
    ['toString', 'unknown'],
    ['hasOwnProperty', 'unknown'],
    // Not a status at all: unusable.
    [null, null],
    [undefined, null],
    [2, null],
    [true, null],
    [{}, null],
  ])('%o → %s', (input, expected) => {
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
    // Past 2^53 a JS number may already be another integer: unusable, never silently rounded.
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

describe('time units are told apart by magnitude against the clock', () => {
  it.each([
    ['seconds', CLOCK - 10, CLOCK - 10],
    ['milliseconds', (CLOCK - 10) * 1e3, CLOCK - 10],
    ['microseconds', (CLOCK - 10) * 1e6, CLOCK - 10],
    ['nanoseconds', (CLOCK - 10) * 1e9, CLOCK - 10],
    ['a week-old ms value', (CLOCK - 604_800) * 1e3, CLOCK - 604_800],
    ['a year-old ns value', (CLOCK - 31_536_000) * 1e9, CLOCK - 31_536_000],
  ])('%s', (_name, value, seconds) => {
    expect(toUnixSeconds(value, CLOCK)).toBeCloseTo(seconds, 3);
    expect(readTime(value, CLOCK)).toEqual({ kind: 'time', seconds: expect.closeTo(seconds, 3), ahead: false });
  });

  it("reads Ditto's documentation example (1703123456) as seconds, late 2023, by a 2026 clock", () => {
    expect(readTime(1_703_123_456, 1_796_000_000)).toEqual({ kind: 'time', seconds: 1_703_123_456, ahead: false });
    expect(readTime(1_703_123_456_000, 1_796_000_000)).toEqual({ kind: 'time', seconds: 1_703_123_456, ahead: false });
  });

  it.each([
    ['null', null],
    ['absent', undefined],
    ['zero', 0],
    ['-1 (Edge Studio sample for "never")', -1],
    ['a negative bigint', -5n],
  ])('%s means never', (_name, value) => {
    expect(readTime(value, CLOCK)).toEqual({ kind: 'never' });
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Infinity],
    ['prose', 'yesterday'],
    ['an object', {}],
    ['a boolean', true],
    // More than a day ahead of the clock, in every unit: never taken as fresh.
    ['two days ahead (s)', CLOCK + 2 * 86_400],
    ['two days ahead (ms)', (CLOCK + 2 * 86_400) * 1e3],
    ['two days ahead (µs)', (CLOCK + 2 * 86_400) * 1e6],
    ['two days ahead (ns)', (CLOCK + 2 * 86_400) * 1e9],
    ['the year 2500 in seconds', 16_725_225_600],
    // More than 20 years behind the clock: a unit read wrongly or a placeholder, not a real time.
    ['1970 (1 s)', 1],
    ['a tiny positive number', 1e-300],
    ['1e15, read as µs: 2001', 1e15],
    ['85e9, read as ms: 1972', 85e9],
    ['1970 as ISO 8601', '1970-01-01T00:00:01Z'],
  ])('%s is unusable', (_name, value) => {
    expect(readTime(value, CLOCK)).toEqual({ kind: 'unusable' });
  });

  it('reads decimal and ISO 8601 strings, and marks a time within a day ahead as ahead of the clock', () => {
    expect(readTime(String((CLOCK - 5) * 1000), CLOCK)).toEqual({ kind: 'time', seconds: CLOCK - 5, ahead: false });
    expect(readTime('2023-11-14T22:13:10Z', CLOCK)).toEqual({ kind: 'time', seconds: CLOCK - 10, ahead: false });
    expect(readTime(CLOCK + 3600, CLOCK)).toEqual({ kind: 'time', seconds: CLOCK + 3600, ahead: true });
    // Within a second is not "ahead": clocks of two processes on one host differ by that much.
    expect(readTime(CLOCK + 0.5, CLOCK)).toEqual({ kind: 'time', seconds: CLOCK + 0.5, ahead: false });
  });
});

describe('parseRow validates field by field', () => {
  it('reads a row shaped as Ditto documents it', () => {
    expect(parseRow(row('peerA', { cloud: true, status: 'Connected', synced: 42, lastUpdate: (CLOCK - 1) * 1000 }), CLOCK)).toEqual({
      ok: true,
      row: { id: 'peerA', type: 'cloud', status: 'connected', syncedCommitId: 42n, lastUpdate: CLOCK - 1, unusable: [], aheadOfClock: false },
    });
  });

  it('keeps a row whose commit id and time are unknown, without calling them unusable', () => {
    expect(parseRow(row('p', { synced: null, lastUpdate: null }), CLOCK)).toEqual({
      ok: true,
      row: { id: 'p', type: 'device', status: 'connected', syncedCommitId: undefined, lastUpdate: undefined, unusable: [], aheadOfClock: false },
    });
  });

  it.each([
    ['no is_ditto_server', { _id: 'x', documents: row('x').documents }, { type: 'unknown', status: 'connected' }, ['is_ditto_server']],
    ['is_ditto_server as a string', { ...row('x'), is_ditto_server: 'true' }, { type: 'unknown' }, ['is_ditto_server']],
    ['no documents', { _id: 'x', is_ditto_server: false }, { type: 'device', status: 'unknown' }, ['documents']],
    ['documents as an array', { ...row('x', { cloud: true }), documents: [] }, { type: 'cloud', status: 'unknown' }, ['documents']],
    ['no status', { _id: 'x', is_ditto_server: true, documents: { synced_up_to_local_commit_id: 3 } }, { status: 'unknown', syncedCommitId: 3n }, ['sync_session_status']],
    ['a negative commit id', row('x', { synced: -1, lastUpdate: CLOCK }), { syncedCommitId: undefined, lastUpdate: CLOCK }, ['synced_up_to_local_commit_id']],
    ['a commit id past 2^53 as a JS number', row('x', { synced: 2 ** 60 }), { syncedCommitId: undefined }, ['synced_up_to_local_commit_id']],
    ['a commit id as prose', row('x', { synced: 'ten' }), { syncedCommitId: undefined }, ['synced_up_to_local_commit_id']],
    ['a timestamp as prose', row('x', { synced: 7, lastUpdate: 'yesterday' }), { syncedCommitId: 7n, lastUpdate: undefined }, ['last_update_received_time']],
    ['a timestamp two days ahead', row('x', { lastUpdate: (CLOCK + 172_800) * 1000 }), { lastUpdate: undefined, aheadOfClock: false }, ['last_update_received_time']],
    [
      'everything unusable but the id',
      { _id: 'x', is_ditto_server: 1, documents: { sync_session_status: {}, synced_up_to_local_commit_id: 1.5, last_update_received_time: Number.NaN } },
      { type: 'unknown', status: 'unknown', syncedCommitId: undefined, lastUpdate: undefined },
      ['is_ditto_server', 'sync_session_status', 'synced_up_to_local_commit_id', 'last_update_received_time'],
    ],
  ])('keeps the rest of the row with %s', (_name, input, expected, unusable) => {
    const result = parseRow(input, CLOCK);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.row).toMatchObject({ id: 'x', ...expected });
    expect(result.row.unusable).toEqual(unusable);
  });

  it('marks a time less than a day ahead as ahead of the clock, and keeps it', () => {
    const result = parseRow(row('x', { lastUpdate: (CLOCK + 600) * 1000 }), CLOCK);
    expect(result).toMatchObject({ ok: true, row: { lastUpdate: CLOCK + 600, aheadOfClock: true, unusable: [] } });
  });

  it.each([
    ['a string', 'x', 'not_an_object'],
    ['null', null, 'not_an_object'],
    ['an array', [], 'not_an_object'],
    ['no _id', { is_ditto_server: false, documents: {} }, 'missing_id'],
    ['a numeric _id', { ...row('x'), _id: 7 }, 'missing_id'],
    ['an empty _id', { ...row('x'), _id: '' }, 'missing_id'],
    ['a huge _id', { ...row('x'), _id: 'x'.repeat(600) }, 'bad_id'],
    // Lone surrogates all encode to U+FFFD: two of them would write the same label text.
    ['an _id with a lone high surrogate', { ...row('x'), _id: 'pk\uD800' }, 'bad_id'],
    ['an _id with a lone low surrogate', { ...row('x'), _id: 'pk\uDFFF' }, 'bad_id'],
  ])('leaves out a row with %s', (_name, input, reason) => {
    expect(parseRow(input, CLOCK)).toEqual({ ok: false, reason });
  });
});

describe('parseRows', () => {
  it('keeps the usable rows, counts the others by reason and unusable fields by field, and keeps the first of duplicate ids', () => {
    const parsed = parseRows(
      [row('a', { synced: 1 }), { _id: 3 }, row('a', { synced: 9 }), row('b', { synced: 'x' }), 'junk', { _id: 4 }, { ...row('c'), is_ditto_server: null }],
      CLOCK,
    );
    expect(parsed.rows.map((r) => [r.id, r.type, r.syncedCommitId])).toEqual([
      ['a', 'device', 1n],
      ['b', 'device', undefined],
      ['c', 'unknown', undefined],
    ]);
    expect(Object.fromEntries(parsed.rowsUnusable)).toEqual({ not_an_object: 1, missing_id: 2, bad_id: 0, duplicate_id: 1 });
    expect(Object.fromEntries(parsed.fieldsUnusable)).toEqual({
      is_ditto_server: 1,
      documents: 0,
      sync_session_status: 0,
      synced_up_to_local_commit_id: 1,
      last_update_received_time: 0,
    });
  });

  it('reports every reason and field, at 0 when nothing is wrong', () => {
    const parsed = parseRows([], CLOCK);
    expect([...parsed.rowsUnusable.keys()]).toEqual([...ROW_UNUSABLE_REASONS]);
    expect([...parsed.fieldsUnusable.keys()]).toEqual([...ROW_FIELDS]);
    expect([...parsed.rowsUnusable.values(), ...parsed.fieldsUnusable.values()].every((n) => n === 0)).toBe(true);
  });
});

describe('properties', () => {
  const anyValue = fc.oneof(
    fc.anything(),
    fc.bigInt(),
    fc.double(),
    fc.constantFrom('Connected', 'Not Connected', 'Disabled', 'constructor', '__proto__', null, undefined, -1, 2 ** 64, '\uD800'),
  );
  const rowLike = fc.record(
    {
      _id: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), anyValue),
      is_ditto_server: fc.oneof(fc.boolean(), anyValue),
      documents: fc.oneof(
        fc.record(
          {
            sync_session_status: anyValue,
            synced_up_to_local_commit_id: fc.oneof(fc.nat(), fc.bigInt(), anyValue),
            last_update_received_time: fc.oneof(fc.double(), fc.nat(), fc.integer({ min: 1, max: 2 ** 53 }), anyValue),
          },
          { requiredKeys: [] },
        ),
        anyValue,
      ),
    },
    { requiredKeys: [] },
  );

  it('never throws; every row is either used or counted once; used values are usable', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(rowLike, fc.anything()), { maxLength: 20 }), (rows) => {
        const parsed = parseRows(rows, CLOCK);
        let leftOut = 0;
        for (const n of parsed.rowsUnusable.values()) leftOut += n;
        expect(parsed.rows.length + leftOut).toBe(rows.length);
        let fields = 0;
        for (const n of parsed.fieldsUnusable.values()) fields += n;
        expect(fields).toBe(parsed.rows.reduce((sum, r) => sum + r.unusable.length, 0));
        for (const r of parsed.rows) {
          expect(typeof r.id).toBe('string');
          expect(r.id.isWellFormed()).toBe(true);
          if (r.syncedCommitId !== undefined) expect(r.syncedCommitId >= 0n).toBe(true);
          if (r.lastUpdate !== undefined) {
            expect(Number.isFinite(r.lastUpdate)).toBe(true);
            expect(r.lastUpdate).toBeGreaterThan(0);
            expect(r.lastUpdate).toBeLessThanOrEqual(CLOCK + 86_400);
          }
        }
      }),
      { numRuns: 10_000 },
    );
  });
});
