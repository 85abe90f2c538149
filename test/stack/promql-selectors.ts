/**
 * Finds the series selectors in a PromQL expression, with their label matchers and the function
 * that directly encloses them, so lints can check metric names, filters and rate() use. A scanner,
 * not a full parser: it knows strings, comments, ranges, label lists after by/on/…, and keywords.
 */

export interface Matcher {
  readonly label: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

export interface Selector {
  /** undefined for a bare `{…}` selector. */
  readonly metric: string | undefined;
  readonly matchers: readonly Matcher[];
  /** Innermost function or aggregation call around the selector, if any. */
  readonly fn: string | undefined;
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile']);
const IDENT = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const MATCHER = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)\s*,?/y;

export class PromqlScanError extends Error {}

export function selectors(expr: string): Selector[] {
  const out: Selector[] = [];
  // One entry per open parenthesis: the function it belongs to (undefined for grouping parens).
  const calls: (string | undefined)[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < expr.length && /\s/.test(expr[i]!)) i++;
  };
  const fn = () => {
    for (let k = calls.length - 1; k >= 0; k--) if (calls[k] !== undefined) return calls[k];
    return undefined;
  };
  const skipPast = (close: string) => {
    const end = expr.indexOf(close, i);
    if (end < 0) throw new PromqlScanError(`unclosed ${close} in: ${expr}`);
    i = end + 1;
  };
  const readMatchers = (): Matcher[] => {
    i++; // {
    const matchers: Matcher[] = [];
    for (;;) {
      skipSpace();
      if (expr[i] === '}') {
        i++;
        return matchers;
      }
      MATCHER.lastIndex = i;
      const m = MATCHER.exec(expr);
      if (!m) throw new PromqlScanError(`bad label matcher at ${i} in: ${expr}`);
      matchers.push({ label: m[1]!, op: m[2] as Matcher['op'], value: unquote(m[3]!) });
      i = MATCHER.lastIndex;
    }
  };

  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '#') skipPast('\n');
    else if (c === '"' || c === "'" || c === '`') i = endOfString(expr, i);
    else if (c === '[') skipPast(']');
    else if (c === '{') out.push({ metric: undefined, matchers: readMatchers(), fn: fn() });
    else if (c === '(') {
      calls.push(undefined);
      i++;
    } else if (c === ')') {
      calls.pop();
      i++;
    } else if (/[0-9.]/.test(c)) {
      while (i < expr.length && /[0-9a-zA-Z.]/.test(expr[i]!)) i++;
    } else if (c === '$') {
      i++;
      IDENT.lastIndex = i;
      if (IDENT.exec(expr)) i = IDENT.lastIndex;
    } else if (/[a-zA-Z_:]/.test(c)) {
      IDENT.lastIndex = i;
      const name = IDENT.exec(expr)![0];
      i = IDENT.lastIndex;
      skipSpace();
      const lower = name.toLowerCase();
      // `sum by (job) (…)`: the label list sits between the aggregation and its argument.
      const grouping = /(by|without)\s*\(/y;
      grouping.lastIndex = i;
      if (AGGREGATIONS.has(lower) && grouping.test(expr)) {
        i = grouping.lastIndex;
        skipPast(')');
        skipSpace();
      }
      if (LABEL_LIST_KEYWORDS.has(lower)) {
        if (expr[i] === '(') skipPast(')');
      } else if (KEYWORDS.has(lower)) {
        // operator or number keyword
      } else if (expr[i] === '(') {
        calls.push(name);
        i++;
      } else if (expr[i] === '{') {
        out.push({ metric: name, matchers: readMatchers(), fn: fn() });
      } else {
        out.push({ metric: name, matchers: [], fn: fn() });
      }
    } else i++;
  }
  return out;
}

function endOfString(expr: string, start: number): number {
  const quote = expr[start]!;
  let i = start + 1;
  while (i < expr.length && expr[i] !== quote) i += quote !== '`' && expr[i] === '\\' ? 2 : 1;
  if (i >= expr.length) throw new PromqlScanError(`unclosed string in: ${expr}`);
  return i + 1;
}

function unquote(literal: string): string {
  const body = literal.slice(1, -1);
  return literal[0] === '`' ? body : body.replace(/\\(.)/g, '$1');
}

/** `label_values(selector, label)` of a Grafana variable, or `label_values(label)`. */
export function parseLabelValues(query: string): { selector: string | undefined; label: string } {
  const m = /^\s*label_values\(\s*(?:(.*),\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/s.exec(query);
  if (!m) throw new PromqlScanError(`not a label_values() query: ${query}`);
  return { selector: m[1]?.trim(), label: m[2]! };
}
