import { InvalidArgumentError } from 'commander';
import { MAX_TIMER_MS, MAX_TIMER_SECONDS } from './bounds.js';

/**
 * Value parsers for CLI flags and their environment twins. Each numeric parser has documented
 * bounds: durations that timers can hold, counts that memory can hold. A value outside them is an
 * InvalidArgumentError, which the CLI prints on one line before exiting 2. The `bounds` text is
 * what the README's flag table shows, so a flag that uses these parsers documents itself.
 */

/** A flag value parser that also says which values it accepts. */
export interface BoundedParser<T> {
  (value: string): T;
  /** Human-readable range, e.g. "0.1–600 s"; shown in --help and the README. */
  readonly bounds: string;
  /** The accepted range itself. */
  readonly range: Range;
  /** Whether only whole numbers are accepted. */
  readonly integer: boolean;
}

export interface Range {
  readonly min: number;
  readonly max: number;
}

export { MAX_TIMER_MS, MAX_TIMER_SECONDS } from './bounds.js';

const fail = (message: string): never => {
  throw new InvalidArgumentError(message);
};

const show = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 6 });

function bounded<T>(bounds: string, range: Range, integer: boolean, parse: (value: string) => T): BoundedParser<T> {
  return Object.assign((value: string) => parse(value), { bounds, range: Object.freeze({ min: range.min, max: range.max }), integer });
}

function checkRange(range: Range, what: string): void {
  if (!(Number.isFinite(range.min) && Number.isFinite(range.max) && range.min <= range.max)) throw new RangeError(`bad range for ${what}: ${range.min}..${range.max}`);
}

/** A decimal number as typed: no hex, no empty string, no "Infinity". */
function readNumber(value: string): number | undefined {
  const text = value.trim();
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** An integer in [min, max] (written without a fraction or exponent). */
export function integer(range: Range): BoundedParser<number> {
  checkRange(range, 'integer');
  const expected = `expected an integer from ${show(range.min)} to ${show(range.max)}`;
  return bounded(`${show(range.min)}–${show(range.max)}`, range, true, (value) => {
    const text = value.trim();
    const n = Number(text);
    return /^[+-]?\d+$/.test(text) && Number.isSafeInteger(n) && n >= range.min && n <= range.max ? n : fail(expected);
  });
}

/** A number in [min, max], fractions allowed. */
export function number(range: Range, unit = ''): BoundedParser<number> {
  checkRange(range, 'number');
  const suffix = unit ? ` ${unit}` : '';
  const expected = `expected a number from ${show(range.min)} to ${show(range.max)}${suffix}`;
  return bounded(`${show(range.min)}–${show(range.max)}${suffix}`, range, false, (value) => {
    const n = readNumber(value);
    return n !== undefined && n >= range.min && n <= range.max ? n : fail(expected);
  });
}

/** Seconds in [min, max]; a duration used by a timer must stay within MAX_TIMER_SECONDS. */
export function seconds(range: Range & { readonly timer?: boolean }): BoundedParser<number> {
  if (range.timer && range.max > MAX_TIMER_SECONDS) throw new RangeError(`a timer cannot wait ${range.max} s (at most ${MAX_TIMER_SECONDS})`);
  checkRange(range, 'seconds');
  const expected = `expected a number of seconds from ${show(range.min)} to ${show(range.max)}`;
  return bounded(`${show(range.min)}–${show(range.max)} s`, range, false, (value) => {
    const n = readNumber(value);
    return n !== undefined && n >= range.min && n <= range.max ? n : fail(expected);
  });
}

/** Whole milliseconds in [min, max], at most what a timer holds. */
export function milliseconds(range: Range): BoundedParser<number> {
  if (range.max > MAX_TIMER_MS) throw new RangeError(`a timer cannot wait ${range.max} ms (at most ${MAX_TIMER_MS})`);
  checkRange(range, 'milliseconds');
  const expected = `expected whole milliseconds from ${show(range.min)} to ${show(range.max)}`;
  return bounded(`${show(range.min)}–${show(range.max)} ms`, range, true, (value) => {
    const text = value.trim();
    const n = Number(text);
    return /^\d+$/.test(text) && Number.isSafeInteger(n) && n >= range.min && n <= range.max ? n : fail(expected);
  });
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** A boolean environment value: true/1/yes/on or false/0/no/off, any case; anything else is refused. */
export function parseBoolean(value: string): boolean {
  const text = value.trim().toLowerCase();
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  return fail('expected true or false (also 1/0, yes/no, on/off)');
}
