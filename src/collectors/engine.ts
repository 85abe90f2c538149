/**
 * Ditto's engine metrics as typed samples: the families parsed from the engine's own /metrics,
 * checked so that merging them into ours can never produce an invalid or ambiguous exposition.
 * Pure; the HTTP read is in src/sources/engine-endpoint.ts.
 *
 * Names are served as Ditto writes them (so Ditto's documentation and anyone who scraped the
 * engine directly find the same series), inside the `ditto_` namespace only. A family is dropped,
 * and counted, when it lies in one of the exporter's own namespaces (`ditto_sync_`, `ditto_engine_`),
 * when any name it occupies in either exposition format is one an exporter family occupies (the
 * whole catalogue, every area, whether or not it has samples in this scrape), or one an engine
 * family earlier in the body already took. So no merged body can hold a name twice.
 */
import { FAMILIES, type FamilyDef, type FamilyType } from '../catalogue/index.js';
import { familyName } from '../exposition/format.js';
import { escapeLabelValue, isAscii, type LabelSet } from '../exposition/labels.js';
import type { HistogramData } from './histogram.js';
import { parsePromText, parseValue, type ParseLimits, type ParsedFamily, type ParsedSample } from './prom-text.js';

/** Engine families outside this prefix are not Ditto's and are dropped. */
export const ENGINE_NAMESPACE = 'ditto_';

/** Why a whole engine family was left out. */
export const FAMILY_DROP_REASONS = ['collision', 'namespace', 'type', 'limit'] as const;
export type FamilyDropReason = (typeof FAMILY_DROP_REASONS)[number];

/** Why a sample line of the engine's body was left out. */
export const SAMPLE_PROBLEMS = ['syntax', 'value', 'duplicate', 'histogram', 'limit'] as const;
export type SampleProblem = (typeof SAMPLE_PROBLEMS)[number];

export type EngineSample =
  | { readonly kind: 'value'; readonly labels: LabelSet; readonly value: number }
  | { readonly kind: 'histogram'; readonly labels: LabelSet; readonly data: HistogramData };

export interface EngineFamily {
  readonly def: FamilyDef;
  readonly samples: readonly EngineSample[];
}

/** What one read of the engine's body gave. */
export interface EngineReading {
  /** Families served, in the engine's order; each has at least one sample. */
  readonly families: readonly EngineFamily[];
  /** Every family the body named (served or dropped). */
  readonly familiesSeen: number;
  readonly familiesDropped: ReadonlyMap<FamilyDropReason, number>;
  readonly samplesUnusable: ReadonlyMap<SampleProblem, number>;
  /** Names dropped as `collision`, for the caller to log (once each). */
  readonly collisions: readonly string[];
}

/**
 * Every name a family occupies in Prometheus text or OpenMetrics: its family names and its
 * samples' names (a counter declared without `_total` writes `_total` samples in OpenMetrics).
 */
export function occupiedNames(def: Pick<FamilyDef, 'name' | 'type'>): string[] {
  const names = new Set([def.name, familyName(def.name, def.type, 'openmetrics')]);
  if (def.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(def.name + s);
  if (def.type === 'counter' && !def.name.endsWith('_total')) names.add(`${def.name}_total`);
  return [...names];
}

/** Names the exporter's own families occupy: an engine family may use none of them. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(FAMILIES.flatMap(occupiedNames));

/**
 * The exporter's own namespaces, whole: an engine family in them would read as part of this
 * exporter's contract (and the sync families promise values that are never negative). The device
 * area's `ditto_store_*` names share a prefix with Ditto's `ditto_store_transaction_*`, so there
 * only the exact names are reserved.
 */
export const RESERVED_PREFIXES: readonly string[] = ['ditto_sync_', 'ditto_engine_'];

export interface EngineReaderOptions {
  /** Names engine families may not occupy (default RESERVED_NAMES). */
  readonly reserved?: ReadonlySet<string>;
  /** Prefixes engine families may not start with (default RESERVED_PREFIXES). */
  readonly reservedPrefixes?: readonly string[];
  readonly limits?: ParseLimits;
}

const SERVED_TYPES: ReadonlyMap<string, FamilyType> = new Map([
  ['counter', 'counter'],
  ['gauge', 'gauge'],
  ['histogram', 'histogram'],
  ['untyped', 'untyped'],
]);

/** A label set from parsed pairs, in their order (one pass; this runs for every engine sample). */
function labelSetOf(pairs: readonly (readonly [string, string])[]): LabelSet {
  // No prototype: a label named __proto__ in Ditto's text must be a plain key like any other.
  const obj: Record<string, string> = Object.create(null) as Record<string, string>;
  let text = '';
  for (const [name, value] of pairs) {
    obj[name] = value;
    text += `${text === '' ? '' : ','}${name}="${escapeLabelValue(value)}"`;
  }
  return { pairs: obj, text, ascii: isAscii(text) };
}

/** Order-insensitive identity of a label set: names are identifiers and values length-prefixed, so it is injective. */
function seriesKey(pairs: readonly (readonly [string, string])[], labels: LabelSet): string {
  if (pairs.length <= 1) return labels.text;
  let key = '';
  for (const [name, value] of [...pairs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) key += `${name}=${value.length}:${value},`;
  return key;
}

/**
 * Turns engine bodies into readings. It keeps the definitions of the previous reading, so a
 * family that did not change keeps the same FamilyDef object from scrape to scrape (the writers
 * cache headers by it). Label sets are built afresh from each body: the text is new every time, and
 * the parse limits bound how many there can be.
 */
export class EngineReader {
  private readonly reserved: ReadonlySet<string>;
  private readonly reservedPrefixes: readonly string[];
  private readonly limits: ParseLimits | undefined;
  private defs = new Map<string, FamilyDef>();

  constructor(options: EngineReaderOptions = {}) {
    this.reserved = options.reserved ?? RESERVED_NAMES;
    this.reservedPrefixes = options.reservedPrefixes ?? RESERVED_PREFIXES;
    this.limits = options.limits;
  }

  read(body: string): EngineReading {
    const parsed = parsePromText(body, this.limits);
    const dropped = new Map<FamilyDropReason, number>(FAMILY_DROP_REASONS.map((r) => [r, 0]));
    const unusable = new Map<SampleProblem, number>(SAMPLE_PROBLEMS.map((p) => [p, 0]));
    const count = <K>(map: Map<K, number>, key: K, n = 1) => map.set(key, map.get(key)! + n);
    count(unusable, 'syntax', parsed.problems.get('syntax') ?? 0);
    count(unusable, 'limit', parsed.problems.get('limit') ?? 0);

    const taken = new Set<string>();
    const families: EngineFamily[] = [];
    const collisions: string[] = [];
    const defs = new Map<string, FamilyDef>();
    for (const family of parsed.families) {
      const type = SERVED_TYPES.get(family.type);
      let reason: FamilyDropReason | undefined;
      if (family.overLimit) reason = 'limit';
      else if (!family.name.startsWith(ENGINE_NAMESPACE)) reason = 'namespace';
      else if (type === undefined) reason = 'type';
      else if (this.reservedPrefixes.some((p) => family.name.startsWith(p))) reason = 'collision';
      else if (occupiedNames({ name: family.name, type }).some((n) => this.reserved.has(n) || taken.has(n))) reason = 'collision';
      if (reason !== undefined || type === undefined) {
        // A family named only by a HELP line, with no samples, is nothing to drop.
        if (reason !== undefined && (family.samples.length > 0 || family.overLimit)) {
          count(dropped, reason);
          if (reason === 'collision') collisions.push(family.name);
        }
        continue;
      }
      const samples = type === 'histogram' ? histogramSamples(family, (p, n) => count(unusable, p, n)) : valueSamples(family, type, (p) => count(unusable, p));
      if (samples.length === 0) continue;
      for (const n of occupiedNames({ name: family.name, type })) taken.add(n);
      const def = this.defFor(family, type, samples, defs);
      families.push({ def, samples });
    }
    this.defs = defs;
    return { families, familiesSeen: parsed.families.length, familiesDropped: dropped, samplesUnusable: unusable, collisions };
  }

  private defFor(family: ParsedFamily, type: FamilyType, samples: readonly EngineSample[], defs: Map<string, FamilyDef>): FamilyDef {
    const labels = new Set<string>();
    for (const s of samples) for (const name in s.labels.pairs) labels.add(name);
    const help = family.help ?? '';
    const key = `${type}\u0000${family.name}\u0000${help}\u0000${[...labels].join(',')}`;
    let def = this.defs.get(key) ?? defs.get(key);
    def ??= Object.freeze({ name: family.name, type, help, labels: Object.freeze([...labels]), unit: undefined, area: 'engine' as const });
    defs.set(key, def);
    return def;
  }
}

function valueSamples(family: ParsedFamily, type: FamilyType, problem: (p: SampleProblem) => void): EngineSample[] {
  const out: EngineSample[] = [];
  const seen = new Set<string>();
  for (const sample of family.samples) {
    // NaN is legal in the text format, but never served by this exporter; nor a counter below 0.
    if (Number.isNaN(sample.value) || (type === 'counter' && sample.value < 0)) {
      problem('value');
      continue;
    }
    const labels = labelSetOf(sample.labels);
    const key = seriesKey(sample.labels, labels);
    if (seen.has(key)) {
      problem('duplicate');
      continue;
    }
    seen.add(key);
    out.push({ kind: 'value', labels, value: sample.value });
  }
  return out;
}

interface HistogramGroup {
  /** As the first line of the series wrote them. */
  readonly labels: LabelSet;
  readonly buckets: Map<number, number>;
  sum: number | undefined;
  count: number | undefined;
  lines: number;
  bad: boolean;
}

/**
 * Histogram series from `_bucket{le}`, `_sum` and `_count` lines grouped by their other labels. A
 * series is served only whole and consistent: every `le` a number and given once, a `+Inf`
 * bucket, cumulative counts that never fall, `_count` (when given) equal to the `+Inf` bucket, and
 * a `_sum`. Otherwise all its lines count as `histogram`.
 */
function histogramSamples(family: ParsedFamily, problem: (p: SampleProblem, n: number) => void): EngineSample[] {
  const groups = new Map<string, HistogramGroup>();
  for (const sample of family.samples) {
    const suffix = sample.name.slice(family.name.length);
    const le = sample.labels.find(([name]) => name === 'le')?.[1];
    const rest = le === undefined ? sample.labels : sample.labels.filter(([name]) => name !== 'le');
    const labels = labelSetOf(rest);
    const key = seriesKey(rest, labels);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { labels, buckets: new Map(), sum: undefined, count: undefined, lines: 0, bad: false }));
    group.lines++;
    if (!addToGroup(group, suffix, le, sample)) group.bad = true;
  }
  const out: EngineSample[] = [];
  for (const group of groups.values()) {
    const data = group.bad ? undefined : histogramData(group);
    if (!data) {
      problem('histogram', group.lines);
      continue;
    }
    out.push({ kind: 'histogram', labels: group.labels, data });
  }
  return out;
}

function addToGroup(group: HistogramGroup, suffix: string, le: string | undefined, sample: ParsedSample): boolean {
  const v = sample.value;
  if (suffix === '_bucket') {
    const bound = le === undefined ? undefined : parseValue(le);
    if (bound === undefined || Number.isNaN(bound) || bound === -Infinity || group.buckets.has(bound) || !(v >= 0) || !Number.isFinite(v)) return false;
    group.buckets.set(bound, v);
    return true;
  }
  if (le !== undefined) return false;
  if (suffix === '_sum') {
    if (group.sum !== undefined || Number.isNaN(v)) return false;
    group.sum = v;
    return true;
  }
  if (suffix === '_count') {
    if (group.count !== undefined || !(v >= 0) || !Number.isFinite(v)) return false;
    group.count = v;
    return true;
  }
  return false;
}

function histogramData(group: HistogramGroup): HistogramData | undefined {
  const infinite = group.buckets.get(Infinity);
  if (infinite === undefined || group.sum === undefined) return undefined;
  const count = group.count ?? infinite;
  if (count !== infinite) return undefined;
  const bounds = [...group.buckets.keys()].filter((b) => b !== Infinity).sort((a, b) => a - b);
  const counts: number[] = [];
  let previous = 0;
  for (const bound of bounds) {
    const cumulative = group.buckets.get(bound)!;
    if (cumulative < previous) return undefined;
    counts.push(cumulative - previous);
    previous = cumulative;
  }
  if (infinite < previous) return undefined;
  counts.push(infinite - previous);
  return { bounds, counts, sum: group.sum, count };
}
