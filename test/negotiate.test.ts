import { describe, expect, it } from 'vitest';
import { negotiateFormat, parseAccept } from '../src/http/negotiate.js';

describe('content negotiation', () => {
  it.each([
    // What Prometheus 2.x and 3.x send.
    ['application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1', 'openmetrics'],
    ['application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2', 'openmetrics'],
    ['application/openmetrics-text', 'openmetrics'],
    ['Application/OpenMetrics-Text; Version="1.0.0"', 'openmetrics'],
    // q=0 means "not acceptable", never "a little".
    ['application/openmetrics-text;q=0', 'prometheus'],
    ['application/openmetrics-text; q=0.000, text/plain', 'prometheus'],
    // The higher q wins, whatever the order.
    ['text/plain;q=1, application/openmetrics-text;q=0.01', 'prometheus'],
    ['text/plain;q=0.2, application/openmetrics-text;q=0.3', 'openmetrics'],
    // Equal q: the first listed wins.
    ['text/plain, application/openmetrics-text', 'prometheus'],
    // Only the exact media type counts.
    ['application/openmetrics-textual', 'prometheus'],
    ['text/application/openmetrics-text', 'prometheus'],
    ['application/openmetrics-text-v2', 'prometheus'],
    ['x-application/openmetrics-text', 'prometheus'],
    // A version we do not write is not that format.
    ['application/openmetrics-text;version=2.0.0, text/plain;q=0.1', 'prometheus'],
    // An unreadable q drops the range.
    ['application/openmetrics-text;q=2', 'prometheus'],
    ['application/openmetrics-text;q=abc', 'prometheus'],
    ['*/*', 'prometheus'],
    ['', 'prometheus'],
    [undefined, 'prometheus'],
    ['garbage;;;,,', 'prometheus'],
  ] as const)('%s → %s', (accept, expected) => {
    expect(negotiateFormat(accept)).toBe(expected);
  });

  it('never picks a format the backend cannot write', () => {
    expect(negotiateFormat('application/openmetrics-text', ['prometheus'])).toBe('prometheus');
  });

  it('orders ranges by q, keeping header order among equals', () => {
    expect(parseAccept('a/b;q=0.5, c/d, e/f;q=0.5, g/h;q=0').map((r) => `${r.type}/${r.subtype}`)).toEqual(['c/d', 'a/b', 'e/f']);
  });
});
