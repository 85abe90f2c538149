/**
 * A bounded parser of Prometheus text format 0.0.4, for merging the exposition of Ditto's engine.
 * Pure and linear: one pass over the lines, a hand-written scanner per line (no regular expression
 * that can backtrack), and limits on line length, labels, families and samples. It never throws;
 * what it cannot use is counted by reason and left out.
 *
 * What it follows (Prometheus' expfmt text parser, where the format leaves room): blanks and tabs
 * between tokens, `\\`, `\"` and `\n` as the only escapes in label values (and `\\`, `\n` in HELP),
 * a trailing comma in a label set, a TYPE word in any case, an optional integer timestamp (dropped:
 * the merged samples are current as of the scrape). HELP and TYPE bind to the family name; the
 * samples of a histogram are `_bucket`, `_sum` and `_count`, those of a counter its name (and its
 * name plus `_total`, as OpenMetrics-style writers spell it).
 */

export type ParsedType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped' | 'unsupported';

/** Why a line of the body was not used. */
export type LineProblem = 'syntax' | 'limit';

export interface ParsedSample {
  /** The sample's own name (`x_bucket` for a histogram bucket of `x`). */
  readonly name: string;
  /** Label pairs in the order written; `le` included for buckets. */
  readonly labels: readonly (readonly [string, string])[];
  readonly value: number;
}

export interface ParsedFamily {
  readonly name: string;
  readonly type: ParsedType;
  /** The TYPE word as written when it is none this parser knows (`type` is then `unsupported`). */
  readonly typeWord: string | undefined;
  readonly help: string | undefined;
  readonly samples: readonly ParsedSample[];
  /** Beyond the family limit: parsed for its name only, never served. */
  readonly overLimit: boolean;
}

export interface ParsedText {
  /** Families in the order they first appear (a HELP, TYPE or sample line). */
  readonly families: readonly ParsedFamily[];
  readonly problems: ReadonlyMap<LineProblem, number>;
}

export interface ParseLimits {
  /** Longer lines are skipped as `syntax` (default 65,536 characters). */
  readonly maxLineLength?: number;
  /** More labels on one sample make the line `syntax` (default 64). */
  readonly maxLabels?: number;
  /** Families beyond this many are kept by name only and flagged `overLimit` (default 500). */
  readonly maxFamilies?: number;
  /** Sample lines beyond this many are skipped unread as `limit` (default 5,000). */
  readonly maxSamples?: number;
}

/** Ditto 5.1.0 serves 14 families in about 300 sample lines. */
export const DEFAULT_PARSE_LIMITS = Object.freeze({ maxLineLength: 65_536, maxLabels: 64, maxFamilies: 500, maxSamples: 5_000 });

const TYPE_WORDS: ReadonlyMap<string, ParsedType> = new Map([
  ['counter', 'counter'],
  ['gauge', 'gauge'],
  ['histogram', 'histogram'],
  ['summary', 'summary'],
  ['untyped', 'untyped'],
]);

interface FamilyBuilder {
  name: string;
  type: ParsedType;
  typeWord: string | undefined;
  typeDeclared: boolean;
  help: string | undefined;
  samples: ParsedSample[];
  overLimit: boolean;
}

const isBlank = (c: number) => c === 0x20 || c === 0x09;
const isNameStart = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
const isNameChar = (c: number) => isNameStart(c) || (c >= 0x30 && c <= 0x39);
const isLabelStart = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
const isLabelChar = (c: number) => isLabelStart(c) || (c >= 0x30 && c <= 0x39);

// No two adjacent quantifiers can match the same characters, so a failing match backtracks linearly.
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Longer value tokens are not numbers any writer produces. */
const MAX_VALUE_LENGTH = 256;
const SPECIAL: ReadonlyMap<string, number> = new Map([
  ['inf', Infinity],
  ['+inf', Infinity],
  ['-inf', -Infinity],
  ['infinity', Infinity],
  ['+infinity', Infinity],
  ['-infinity', -Infinity],
  ['nan', NaN],
  ['+nan', NaN],
  ['-nan', NaN],
]);

/** A sample value as Go's ParseFloat reads the decimal and named forms; undefined when it is neither. */
export function parseValue(token: string): number | undefined {
  if (token.length > MAX_VALUE_LENGTH) return undefined;
  if (FLOAT.test(token)) return Number(token);
  return SPECIAL.get(token.toLowerCase());
}

const TIMESTAMP = /^-?\d{1,19}$/;

/** One line scanner; `pos` walks a single line, so every method is linear in the line. */
class Line {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  skipBlanks(): void {
    while (this.pos < this.text.length && isBlank(this.text.charCodeAt(this.pos))) this.pos++;
  }

  name(start: (c: number) => boolean, rest: (c: number) => boolean): string | undefined {
    const from = this.pos;
    if (this.done || !start(this.text.charCodeAt(this.pos))) return undefined;
    this.pos++;
    while (this.pos < this.text.length && rest(this.text.charCodeAt(this.pos))) this.pos++;
    return this.text.slice(from, this.pos);
  }

  /** Up to the next blank or the end of the line. */
  token(): string {
    const from = this.pos;
    while (this.pos < this.text.length && !isBlank(this.text.charCodeAt(this.pos))) this.pos++;
    return this.text.slice(from, this.pos);
  }

  /** A quoted label value with `\\`, `\"` and `\n`; undefined on any other escape or no closing quote. */
  quoted(): string | undefined {
    if (this.text.charCodeAt(this.pos) !== 0x22) return undefined;
    this.pos++;
    let out = '';
    let from = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x22) {
        out += this.text.slice(from, this.pos);
        this.pos++;
        return out;
      }
      if (c === 0x5c) {
        out += this.text.slice(from, this.pos);
        const next = this.text.charCodeAt(this.pos + 1);
        if (next === 0x5c) out += '\\';
        else if (next === 0x22) out += '"';
        else if (next === 0x6e) out += '\n';
        else return undefined;
        this.pos += 2;
        from = this.pos;
        continue;
      }
      this.pos++;
    }
    return undefined;
  }
}

function trimBlanksEnd(text: string): string {
  let end = text.length;
  while (end > 0 && isBlank(text.charCodeAt(end - 1))) end--;
  return text.slice(0, end);
}

function hasBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (isBlank(text.charCodeAt(i))) return true;
  return false;
}

/** HELP text with `\\` and `\n` unescaped; undefined on any other escape. */
function unescapeHelp(text: string): string | undefined {
  if (!text.includes('\\')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = text[i + 1];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else return undefined;
    i++;
  }
  return out;
}

/** Parses a whole body. Never throws. */
export function parsePromText(body: string, limits: ParseLimits = {}): ParsedText {
  const maxLineLength = limits.maxLineLength ?? DEFAULT_PARSE_LIMITS.maxLineLength;
  const maxLabels = limits.maxLabels ?? DEFAULT_PARSE_LIMITS.maxLabels;
  const maxFamilies = limits.maxFamilies ?? DEFAULT_PARSE_LIMITS.maxFamilies;
  const maxSamples = limits.maxSamples ?? DEFAULT_PARSE_LIMITS.maxSamples;

  const families = new Map<string, FamilyBuilder>();
  const problems = new Map<LineProblem, number>();
  const problem = (p: LineProblem) => problems.set(p, (problems.get(p) ?? 0) + 1);
  let samples = 0;

  const familyNamed = (name: string): FamilyBuilder => {
    let family = families.get(name);
    if (!family) {
      family = { name, type: 'untyped', typeWord: undefined, typeDeclared: false, help: undefined, samples: [], overLimit: families.size >= maxFamilies };
      families.set(name, family);
    }
    return family;
  };

  /** The family a sample name belongs to: its own declared family, else a declared histogram, summary or counter it is a sample of. */
  const familyOf = (name: string): FamilyBuilder => {
    const own = families.get(name);
    if (own && own.typeDeclared) return own;
    for (const suffix of ['_bucket', '_sum', '_count']) {
      if (!name.endsWith(suffix)) continue;
      const base = families.get(name.slice(0, -suffix.length));
      if (base && (base.type === 'histogram' || base.type === 'summary')) return base;
    }
    if (name.endsWith('_total')) {
      const base = families.get(name.slice(0, -'_total'.length));
      if (base && base.type === 'counter') return base;
    }
    return own ?? familyNamed(name);
  };

  let start = 0;
  while (start <= body.length) {
    let end = body.indexOf('\n', start);
    if (end < 0) end = body.length;
    const lineEnd = end > start && body.charCodeAt(end - 1) === 0x0d ? end - 1 : end;
    const length = lineEnd - start;
    const next = end + 1;
    if (length > maxLineLength) {
      problem('syntax');
      start = next;
      continue;
    }
    const line = new Line(body.slice(start, lineEnd));
    start = next;
    line.skipBlanks();
    if (line.done) continue;

    if (line.text.charCodeAt(line.pos) === 0x23) {
      line.pos++;
      line.skipBlanks();
      const keyword = line.token();
      if (keyword !== 'HELP' && keyword !== 'TYPE') continue; // any other comment
      line.skipBlanks();
      const name = line.name(isNameStart, isNameChar);
      if (name === undefined || (!line.done && !isBlank(line.text.charCodeAt(line.pos)))) {
        problem('syntax');
        continue;
      }
      line.skipBlanks();
      const rest = line.text.slice(line.pos);
      const family = families.get(name);
      if (keyword === 'HELP') {
        const help = unescapeHelp(rest);
        if (help === undefined || family?.help !== undefined) {
          problem('syntax');
          continue;
        }
        familyNamed(name).help = help;
      } else {
        const word = trimBlanksEnd(rest);
        // A second TYPE, or a TYPE after the family's samples, is an error in expfmt too.
        if (word === '' || hasBlank(word) || family?.typeDeclared || (family && family.samples.length > 0)) {
          problem('syntax');
          continue;
        }
        const f = familyNamed(name);
        f.typeDeclared = true;
        const type = TYPE_WORDS.get(word.toLowerCase());
        f.type = type ?? 'unsupported';
        f.typeWord = type ? undefined : word.slice(0, 64);
      }
      continue;
    }

    // A sample: name [{labels}] value [timestamp]. Past the limit it is not even read.
    if (samples >= maxSamples) {
      problem('limit');
      continue;
    }
    const name = line.name(isNameStart, isNameChar);
    if (name === undefined) {
      problem('syntax');
      continue;
    }
    // The name ends at a blank, a brace or the end of the line (`a-b 1` is not the sample `a`).
    const after = line.text.charCodeAt(line.pos);
    const labels = line.done || isBlank(after) || after === 0x7b ? readLabels(line, maxLabels) : undefined;
    if (labels === undefined) {
      problem('syntax');
      continue;
    }
    line.skipBlanks();
    const value = parseValue(line.token());
    line.skipBlanks();
    const timestamp = line.done ? '' : line.token();
    line.skipBlanks();
    if (value === undefined || (timestamp !== '' && !TIMESTAMP.test(timestamp)) || !line.done) {
      problem('syntax');
      continue;
    }
    samples++;
    const family = familyOf(name);
    // Over the family limit a family keeps its name (to be counted) but none of its samples.
    if (!family.overLimit) family.samples.push({ name, labels, value });
  }

  const out: ParsedFamily[] = [];
  for (const f of families.values()) out.push({ name: f.name, type: f.type, typeWord: f.typeWord, help: f.help, samples: f.samples, overLimit: f.overLimit });
  return { families: out, problems };
}

/**
 * `{a="x",b="y"}` at the scanner's position: the pairs, [] when there is no brace, undefined when
 * the set is malformed, repeats a name, uses a reserved `__` name or has more than `maxLabels`.
 */
function readLabels(line: Line, maxLabels: number): (readonly [string, string])[] | undefined {
  line.skipBlanks();
  if (line.done || line.text.charCodeAt(line.pos) !== 0x7b) return [];
  line.pos++;
  const pairs: (readonly [string, string])[] = [];
  const seen = new Set<string>();
  for (;;) {
    line.skipBlanks();
    if (line.done) return undefined;
    if (line.text.charCodeAt(line.pos) === 0x7d) {
      line.pos++;
      return pairs;
    }
    const name = line.name(isLabelStart, isLabelChar);
    if (name === undefined || name.startsWith('__') || seen.has(name)) return undefined;
    seen.add(name);
    line.skipBlanks();
    if (line.text.charCodeAt(line.pos) !== 0x3d) return undefined;
    line.pos++;
    line.skipBlanks();
    const value = line.quoted();
    if (value === undefined) return undefined;
    pairs.push([name, value]);
    if (pairs.length > maxLabels) return undefined;
    line.skipBlanks();
    const c = line.text.charCodeAt(line.pos);
    if (c === 0x2c) line.pos++;
    else if (c !== 0x7d) return undefined;
  }
}
